import { defineDomain } from "../../platform/declarations";
import { userEvents } from "./contract";

export default defineDomain({
  name: "users",
  description: "User accounts and profiles; the system of record is the users service's Aurora database.",
  owner: { team: "identity", contact: "identity-team@example.com" },
  account: "users",
  products: [
    {
      kind: "stream",
      name: "user-events",
      description: "Every creation and change of a user profile, as it happens.",
      contract: userEvents,
      partitionKey: "userId",
      capacity: { mode: "provisioned", writeMiBps: 0.2, writeRecordsPerSecond: 150 },
      classification: "pii",
    },
    {
      kind: "at-rest",
      name: "users",
      description: "Users' profile history at rest, filled from the users database by the domain's jobs.",
      contract: userEvents,
      classification: "pii",
    },
  ],
  subscriptions: [],
});

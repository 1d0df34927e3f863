import { defineDomain } from "../../platform/declarations";
import { songEvents } from "./contract";

export default defineDomain({
  name: "songs",
  description: "The song catalogue; the system of record is the catalogue service's DynamoDB table.",
  owner: { team: "catalogue", contact: "catalogue-team@example.com" },
  account: "songs",
  products: [
    {
      kind: "stream",
      name: "song-events",
      description: "Songs as they are published and corrected.",
      contract: songEvents,
      partitionKey: "songId",
      capacity: { mode: "provisioned", writeMiBps: 0.5, writeRecordsPerSecond: 200 },
      classification: "public",
    },
    {
      kind: "at-rest",
      name: "songs",
      description:
        "The song catalogue's history at rest, filled from the catalogue table by the domain's jobs.",
      contract: songEvents,
      classification: "public",
    },
  ],
  subscriptions: [],
});

import { defineDomain } from "../../platform/declarations";
import { interactionEvents } from "./contract";

export default defineDomain({
  name: "interactions",
  description: "Listening behaviour: plays, skips, likes and follows from every client.",
  owner: { team: "playback", contact: "playback-team@example.com" },
  account: "interactions",
  products: [
    {
      kind: "stream",
      name: "interaction-events",
      description: "Every interaction of a user with a song, episode, artist or podcast.",
      contract: interactionEvents,
      partitionKey: "userId",
      // Append-only facts: Personalize and OpenSearch take them in any order (by occurredAt).
      ordering: "none",
      retentionHours: 168,
      capacity: { mode: "provisioned", writeMiBps: 4, writeRecordsPerSecond: 6000 },
      classification: "confidential",
      // Landed straight from the stream into S3 (Firehose), one partition per event date.
      atRest: { partitionBy: ["event_date"] },
    },
  ],
  subscriptions: [],
});

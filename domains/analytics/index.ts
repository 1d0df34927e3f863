import { defineDomain } from "../../platform/declarations";

/** Analytics: interaction trends for dashboards, in OpenSearch and live. */
export default defineDomain({
  name: "analytics",
  description: "Dashboards of listening trends: interactions indexed in OpenSearch and a live feed.",
  owner: { team: "insights", contact: "insights-team@example.com" },
  account: "analytics",
  products: [],
  subscriptions: [
    {
      name: "interactions-ingestor",
      product: "interactions/interaction-events",
      handler: "handlers/interactions-ingestor.ts",
      access: {
        pattern: "filtered",
        filters: [
          // A play counts once it has lasted 30 s, the industry's threshold for a stream.
          { eventTypes: ["interaction.play"], where: { playedMs: { numeric: [">=", 30000] } } },
          { eventTypes: ["interaction.like", "interaction.follow"] },
        ],
      },
      delivery: { batchSize: 500, batchingWindowSeconds: 5 },
    },
    {
      name: "live-feed",
      product: "interactions/interaction-events",
      handler: "handlers/live-feed.ts",
      access: { pattern: "push-without-replay" },
      delivery: { startingPosition: "LATEST", maxRetryAttempts: 1, maxRecordAgeSeconds: 60 },
    },
    // Ad-hoc and dashboard queries in Athena over the interactions landed at rest.
    { kind: "at-rest", name: "interactions-history", product: "interactions/interaction-events" },
  ],
});

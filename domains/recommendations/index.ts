import { defineDomain } from "../../platform/declarations";

/** Personalized Recommendations: keeps Amazon Personalize current from the four producers. */
export default defineDomain({
  name: "recommendations",
  description: "Personalized song and podcast recommendations served from Amazon Personalize.",
  owner: { team: "personalization", contact: "ml-personalization@example.com" },
  account: "recommendations",
  products: [],
  subscriptions: [
    {
      name: "users-update",
      product: "users/user-events",
      handler: "handlers/users-update.ts",
      access: { pattern: "shared-replay" },
    },
    {
      name: "songs-update",
      product: "songs/song-events",
      handler: "handlers/items-update.ts",
      access: { pattern: "shared-replay" },
    },
    {
      name: "podcasts-update",
      product: "podcasts/episode-events",
      handler: "handlers/items-update.ts",
      access: { pattern: "shared-replay" },
    },
    {
      name: "interactions-update",
      product: "interactions/interaction-events",
      handler: "handlers/interactions-update.ts",
      access: { pattern: "enhanced-fan-out" },
      delivery: { batchSize: 500, batchingWindowSeconds: 1, parallelizationFactor: 2 },
    },
    // History at rest for the training jobs (bulk imports into Personalize). Users' pii columns
    // (birth year) are not needed, so they are withheld.
    { kind: "at-rest", name: "users-history", product: "users/users" },
    { kind: "at-rest", name: "songs-history", product: "songs/songs" },
    { kind: "at-rest", name: "episodes-history", product: "podcasts/episodes" },
    { kind: "at-rest", name: "interactions-history", product: "interactions/interaction-events" },
  ],
});

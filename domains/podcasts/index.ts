import { defineDomain } from "../../platform/declarations";
import { episodeEvents } from "./contract";

export default defineDomain({
  name: "podcasts",
  description: "Podcast shows and episodes; the system of record is the podcast service's DynamoDB table.",
  owner: { team: "podcasts", contact: "podcasts-team@example.com" },
  account: "podcasts",
  products: [
    {
      kind: "stream",
      name: "episode-events",
      description: "Podcast episodes as they are published and corrected.",
      contract: episodeEvents,
      partitionKey: "episodeId",
      capacity: { mode: "on-demand" },
      classification: "public",
    },
    {
      kind: "at-rest",
      name: "episodes",
      description: "Podcast episodes' history at rest, filled from the podcast table by the domain's jobs.",
      contract: episodeEvents,
      classification: "public",
    },
  ],
  subscriptions: [],
});

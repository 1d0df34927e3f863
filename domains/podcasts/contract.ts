import { z } from "zod";
import { defineContract } from "../../platform/contract";

const episode = {
  episodeId: z.string().min(1).max(256),
  podcastId: z.string().min(1).max(256),
  title: z.string().min(1).max(500),
  category: z.string().min(1).max(64),
  language: z.string().min(2).max(35),
  durationMs: z.number().int().positive(),
  explicit: z.boolean(),
};

export const episodeEvents = defineContract("podcasts.episode-events", [
  {
    version: 1,
    events: {
      "episode.published": z.object({ ...episode, publishedAt: z.iso.datetime({ offset: true }) }),
      "episode.updated": z.object({
        episodeId: episode.episodeId,
        podcastId: episode.podcastId,
        title: episode.title.optional(),
        category: episode.category.optional(),
        explicit: episode.explicit.optional(),
        updatedAt: z.iso.datetime({ offset: true }),
      }),
    },
  },
]);

import { z } from "zod";
import { defineContract } from "../../platform/contract";

const song = {
  songId: z.string().min(1).max(256),
  title: z.string().min(1).max(500),
  artistId: z.string().min(1).max(256),
  genres: z.array(z.string().min(1).max(64)).max(10),
  durationMs: z.number().int().positive(),
  releaseYear: z.number().int().min(1800).max(2100),
  explicit: z.boolean(),
};

export const songEvents = defineContract("songs.song-events", [
  {
    version: 1,
    events: {
      "song.published": z.object({ ...song, publishedAt: z.iso.datetime({ offset: true }) }),
      "song.updated": z.object({
        songId: song.songId,
        title: song.title.optional(),
        genres: song.genres.optional(),
        explicit: song.explicit.optional(),
        updatedAt: z.iso.datetime({ offset: true }),
      }),
    },
  },
]);

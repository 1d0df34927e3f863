import { z } from "zod";
import { defineContract } from "../../platform/contract";

/** Who did what to which item, in which listening session, when. */
const interaction = {
  userId: z.string().min(1).max(256),
  itemId: z.string().min(1).max(256),
  itemType: z.enum(["song", "episode"]),
  sessionId: z.string().min(1).max(256),
  occurredAt: z.iso.datetime({ offset: true }),
  device: z.enum(["mobile", "desktop", "web", "speaker", "car"]).optional(),
};

export const interactionEvents = defineContract("interactions.interaction-events", [
  {
    version: 1,
    events: {
      "interaction.play": z.object({ ...interaction, playedMs: z.number().int().nonnegative() }),
      "interaction.skip": z.object({ ...interaction, positionMs: z.number().int().nonnegative() }),
      "interaction.like": z.object(interaction),
      "interaction.follow": z.object({ ...interaction, itemType: z.enum(["artist", "podcast"]) }),
    },
  },
]);

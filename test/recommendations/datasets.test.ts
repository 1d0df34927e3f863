import { strict as assert } from "node:assert";
import { z } from "zod";
import { AvroSchemaError } from "../../components/personalize/schemas";
import {
  interactionsAvroSchema,
  itemInteractionEventTypes,
  itemsAvroSchema,
  usersAvroSchema,
} from "../../domains/recommendations/datasets";
import { interactionEvents } from "../../domains/interactions/contract";
import { episodeEvents } from "../../domains/podcasts/contract";
import { songEvents } from "../../domains/songs/contract";
import { userEvents } from "../../domains/users/contract";
import { type Contract, currentVersion, defineContract } from "../../platform/contract";

const envelope = { type: "record", namespace: "com.amazonaws.personalize.schema", version: "1.0" };

/** The contract with one more version whose event `type` is changed by `change`. */
function evolve(contract: Contract, type: string, change: (schema: z.ZodObject) => z.ZodObject): Contract {
  const current = currentVersion(contract);
  return defineContract(contract.name, [
    ...contract.versions,
    { version: current.version + 1, events: { ...current.events, [type]: change(current.events[type]!) } },
  ]);
}

describe("Personalize Avro schemas derived from the contracts", () => {
  it("Users: USER_ID plus categorical country, tier and the optional language", () => {
    assert.deepEqual(usersAvroSchema(), {
      ...envelope,
      name: "Users",
      fields: [
        { name: "USER_ID", type: "string" },
        { name: "COUNTRY", type: "string", categorical: true },
        { name: "TIER", type: "string", categorical: true },
        { name: "LANGUAGE", type: ["null", "string"], categorical: true },
      ],
    });
  });

  it("Items: songs and episodes in one record, told apart by CONTENT_TYPE", () => {
    assert.deepEqual(itemsAvroSchema(), {
      ...envelope,
      name: "Items",
      fields: [
        { name: "ITEM_ID", type: "string" },
        { name: "CONTENT_TYPE", type: "string", categorical: true },
        // Song genres may be an empty list.
        { name: "GENRES", type: ["null", "string"], categorical: true },
        { name: "DURATION_MS", type: "long" },
        { name: "EXPLICIT", type: "string", categorical: true },
        // Only episodes have a language, only songs a release year.
        { name: "LANGUAGE", type: ["null", "string"], categorical: true },
        { name: "RELEASE_YEAR", type: ["null", "int"] },
        { name: "CREATION_TIMESTAMP", type: "long" },
      ],
    });
  });

  it("Interactions: USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, an optional EVENT_VALUE and the device", () => {
    assert.deepEqual(interactionsAvroSchema(), {
      ...envelope,
      name: "Interactions",
      fields: [
        { name: "USER_ID", type: "string" },
        { name: "ITEM_ID", type: "string" },
        { name: "TIMESTAMP", type: "long" },
        { name: "EVENT_TYPE", type: "string" },
        { name: "EVENT_VALUE", type: ["null", "float"] },
        { name: "DEVICE", type: ["null", "string"], categorical: true },
      ],
    });
  });

  it("takes interactions only from event types about songs and episodes, not follows of artists", () => {
    assert.deepEqual(itemInteractionEventTypes(), [
      "interaction.play",
      "interaction.skip",
      "interaction.like",
    ]);
  });

  it("serialises to the JSON string CreateSchema takes", () => {
    for (const schema of [usersAvroSchema(), itemsAvroSchema(), interactionsAvroSchema()]) {
      assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
    }
  });

  describe("follows contract changes", () => {
    it("makes a column nullable when its field becomes optional", () => {
      const users = evolve(userEvents, "user.created", (s) =>
        s.extend({ tier: z.enum(["free", "premium"]).optional() }),
      );
      assert.deepEqual(
        usersAvroSchema(users).fields.find((f) => f.name === "TIER"),
        { name: "TIER", type: ["null", "string"], categorical: true },
      );
    });

    it("widens an integer column to long when its bound goes", () => {
      const songs = evolve(songEvents, "song.published", (s) => s.extend({ releaseYear: z.number().int() }));
      assert.deepEqual(
        itemsAvroSchema(songs, episodeEvents).fields.find((f) => f.name === "RELEASE_YEAR"),
        { name: "RELEASE_YEAR", type: ["null", "long"] },
      );
    });

    it("refuses songs and episodes that disagree on a column's type", () => {
      const podcasts = evolve(episodeEvents, "episode.published", (s) =>
        s.extend({ durationMs: z.string() }),
      );
      assert.throws(() => itemsAvroSchema(songEvents, podcasts), {
        name: "AvroSchemaError",
        message:
          "Items.DURATION_MS: podcasts.episode-events episode.published.durationMs is string but " +
          "songs.song-events song.published.durationMs is long",
      });
    });

    it("refuses a user id that is no longer a required string", () => {
      const users = evolve(userEvents, "user.created", (s) => s.extend({ userId: z.number().int() }));
      assert.throws(() => usersAvroSchema(users), {
        message:
          "Users.USER_ID must be a required string in every source, is long (users.user-events user.created.userId)",
      });
    });

    it("refuses an interaction time that is not a date-time or epoch", () => {
      const interactions = evolve(interactionEvents, "interaction.like", (s) =>
        s.extend({ occurredAt: z.string() }),
      );
      assert.throws(() => interactionsAvroSchema(interactions), {
        message:
          "Interactions.TIMESTAMP: interactions.interaction-events interaction.like.occurredAt is string but " +
          "interactions.interaction-events interaction.play.occurredAt is long",
      });
    });

    it("refuses a categorical column that stops being a string", () => {
      const users = evolve(userEvents, "user.created", (s) =>
        s.extend({ tier: z.number().int().min(0).max(3) }),
      );
      assert.throws(() => usersAvroSchema(users), {
        message: "Users.TIER is categorical and must be a string, is int",
      });
    });

    it("refuses a removed source field and a nested object", () => {
      const songs = evolve(songEvents, "song.published", (s) => s.omit({ durationMs: true }));
      assert.throws(() => itemsAvroSchema(songs, episodeEvents), {
        message: "Items.DURATION_MS: songs.song-events song.published.durationMs does not exist",
      });
      const users = evolve(userEvents, "user.created", (s) =>
        s.extend({ country: z.object({ code: z.string() }) }),
      );
      assert.throws(() => usersAvroSchema(users), AvroSchemaError);
    });

    it("picks up a new interaction event type about items, and leaves out one about artists", () => {
      const base = { ...currentVersion(interactionEvents).events["interaction.like"]!.shape };
      const interactions = defineContract(interactionEvents.name, [
        {
          version: 1,
          events: {
            ...currentVersion(interactionEvents).events,
            "interaction.share": z.object(base),
            "interaction.artist-view": z.object({ ...base, itemType: z.literal("artist") }),
          },
        },
      ]);
      assert.deepEqual(itemInteractionEventTypes(interactions), [
        "interaction.play",
        "interaction.skip",
        "interaction.like",
        "interaction.share",
      ]);
    });
  });
});

import {
  AvroSchemaError,
  type ColumnSpec,
  deriveAvroSchema,
  type PersonalizeAvroSchema,
} from "../../components/personalize/schemas";
import { type Contract, currentVersion, eventJsonSchema } from "../../platform/contract";
import { interactionEvents } from "../interactions/contract";
import { episodeEvents } from "../podcasts/contract";
import { songEvents } from "../songs/contract";
import { userEvents } from "../users/contract";

/**
 * The recommendations domain's Personalize datasets: which producers' events become rows and how
 * their fields map to columns. The component (`components/personalize`) derives the Avro schemas
 * from what this module hands it; it knows no domain.
 */

/** The item kinds the Items dataset holds, written to its CONTENT_TYPE column. */
export const ITEM_CONTENT_TYPES = ["song", "episode"] as const;
export type ItemContentType = (typeof ITEM_CONTENT_TYPES)[number];

/** Columns of the Users dataset, filled from `user.created` (and kept current by `user.updated`). */
export const USER_COLUMNS: readonly ColumnSpec[] = [
  { name: "USER_ID", from: "userId", required: "string" },
  { name: "COUNTRY", from: "country", categorical: true },
  { name: "TIER", from: "tier", categorical: true },
  { name: "LANGUAGE", from: "language", categorical: true },
];

/** Columns of the Items dataset: one row per song or podcast episode, keyed by content type. */
export const ITEM_COLUMNS: readonly ColumnSpec[] = [
  { name: "ITEM_ID", from: { song: "songId", episode: "episodeId" }, required: "string" },
  { name: "CONTENT_TYPE", fixed: "string", categorical: true },
  { name: "GENRES", from: { song: "genres", episode: "category" }, categorical: true },
  { name: "DURATION_MS", from: "durationMs" },
  { name: "EXPLICIT", from: "explicit", categorical: true },
  { name: "LANGUAGE", from: { episode: "language" }, categorical: true },
  { name: "RELEASE_YEAR", from: { song: "releaseYear" } },
  { name: "CREATION_TIMESTAMP", from: "publishedAt", required: "long" },
];

/** Columns of the Interactions dataset; the session id travels in PutEvents, not in a column. */
export const INTERACTION_COLUMNS: readonly ColumnSpec[] = [
  { name: "USER_ID", from: "userId", required: "string" },
  { name: "ITEM_ID", from: "itemId", required: "string" },
  { name: "TIMESTAMP", from: "occurredAt", required: "long" },
  { name: "EVENT_TYPE", fixed: "string", required: "string" },
  { name: "EVENT_VALUE", fixed: "float", fixedNullable: true },
  { name: "DEVICE", from: "device", categorical: true },
];

/** Avro schema of the Users dataset, derived from the users contract's `user.created` payload. */
export function usersAvroSchema(users: Contract = userEvents): PersonalizeAvroSchema {
  return deriveAvroSchema("Users", { user: { contract: users, event: "user.created" } }, USER_COLUMNS);
}

/** Avro schema of the Items dataset: songs and podcast episodes in one table, told apart by CONTENT_TYPE. */
export function itemsAvroSchema(
  songs: Contract = songEvents,
  podcasts: Contract = episodeEvents,
): PersonalizeAvroSchema {
  return deriveAvroSchema(
    "Items",
    {
      song: { contract: songs, event: "song.published" },
      episode: { contract: podcasts, event: "episode.published" },
    },
    ITEM_COLUMNS,
  );
}

/**
 * The interaction event types that become Interactions rows: those whose `itemType` can only name
 * an item of the Items dataset. Follows of artists or podcasts are not items and would teach the
 * model to recommend ids it cannot show.
 */
export function itemInteractionEventTypes(interactions: Contract = interactionEvents): string[] {
  return Object.entries(currentVersion(interactions).events)
    .filter(([, schema]) => {
      const itemType = eventJsonSchema(schema).properties?.itemType;
      const kinds = itemType?.enum ?? (itemType?.const !== undefined ? [itemType.const] : []);
      return (
        kinds.length > 0 && kinds.every((kind) => (ITEM_CONTENT_TYPES as readonly unknown[]).includes(kind))
      );
    })
    .map(([type]) => type);
}

/** Avro schema of the Interactions dataset, derived from every item interaction event type. */
export function interactionsAvroSchema(interactions: Contract = interactionEvents): PersonalizeAvroSchema {
  const types = itemInteractionEventTypes(interactions);
  if (types.length === 0)
    throw new AvroSchemaError(`${interactions.name} has no item interaction event types`);
  const sources = Object.fromEntries(types.map((event) => [event, { contract: interactions, event }]));
  return deriveAvroSchema("Interactions", sources, INTERACTION_COLUMNS);
}

/** The three dataset schemas of the domain's Personalize dataset group, from the producers' contracts. */
export function datasetSchemas(): {
  readonly users: PersonalizeAvroSchema;
  readonly items: PersonalizeAvroSchema;
  readonly interactions: PersonalizeAvroSchema;
} {
  return { users: usersAvroSchema(), items: itemsAvroSchema(), interactions: interactionsAvroSchema() };
}

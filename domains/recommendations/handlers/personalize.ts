import type { Event, Item, User } from "@aws-sdk/client-personalize-events";
import { PersonalizeEventsClient } from "@aws-sdk/client-personalize-events";
import { serviceLength } from "../../../platform/contract";
import type { EventFailure, StreamEvent } from "../../../runtime/consumer-kit";
import { traced } from "../../../runtime/consumer-kit";
import { sendWithRetries, type BackoffOptions } from "../../../runtime/retry";
import type {
  AvroPrimitive,
  DatasetSchemaName,
  PersonalizeAvroSchema,
} from "../../../components/personalize/schemas";
import {
  interactionsAvroSchema,
  itemInteractionEventTypes,
  itemsAvroSchema,
  usersAvroSchema,
  type ItemContentType,
} from "../datasets";

/**
 * How the mesh's events become Amazon Personalize records: the one place that knows the dataset
 * fields, the id convention and the API limits, shared by the three Personalize handlers.
 */

/**
 * The Personalize Events client of a handler module. Its own retries are off (`maxAttempts: 1`) so
 * that a throttled call is resent only by {@link sendInCalls}, with backoff and a bounded count.
 */
export const personalizeEvents = traced(new PersonalizeEventsClient({ maxAttempts: 1 }));

/** Limits of the PutEvents / PutItems / PutUsers APIs (docs/aws-facts.md#firehose-and-personalize). */
export const PersonalizeLimits = {
  eventsPerCall: 10,
  itemsPerCall: 10,
  usersPerCall: 10,
  /** trackingId, userId, sessionId, eventId, eventType, itemId. */
  idLength: 256,
  eventPropertiesLength: 1024,
  itemPropertiesLength: 32_000,
  userPropertiesLength: 24_000,
} as const;

/**
 * Item ids of the merged catalogue: song and episode ids are separate namespaces, so the Items
 * dataset, the interactions and the recommendations API all use `song:<songId>` /
 * `episode:<episodeId>` (see `recommendations-api.ts`). The bulk imports must use it too.
 */
export function catalogueItemId(contentType: ItemContentType, id: string): string {
  return `${contentType}:${id}`;
}

/**
 * How events become dataset records. The datasets' Avro schemas are derived from the contracts in
 * `../datasets.ts`; every record written here is checked against them, so a
 * column renamed or made required there fails the tests here instead of failing in Personalize.
 *
 * | dataset      | column             | value                                                   |
 * | ------------ | ------------------ | ------------------------------------------------------- |
 * | Users        | USER_ID            | `userId` (the `userId` parameter)                        |
 * | Users        | COUNTRY, TIER      | `country`, `tier`                                        |
 * | Users        | LANGUAGE           | `language` (users contract v2), else null                |
 * | Items        | ITEM_ID            | `song:<songId>` / `episode:<episodeId>` (`itemId`)       |
 * | Items        | CONTENT_TYPE       | `song` / `episode`                                       |
 * | Items        | GENRES             | song `genres` joined with `\|` (null when none); episode `category` |
 * | Items        | DURATION_MS        | `durationMs`                                             |
 * | Items        | EXPLICIT           | `explicit` as `"True"` / `"False"` (categorical)         |
 * | Items        | LANGUAGE           | episode `language`                                       |
 * | Items        | RELEASE_YEAR       | song `releaseYear`                                       |
 * | Items        | CREATION_TIMESTAMP | `publishedAt` in Unix seconds                            |
 * | Interactions | USER_ID, ITEM_ID   | `userId`, catalogue item id (PutEvents parameters)       |
 * | Interactions | TIMESTAMP          | `occurredAt` (`sentAt`)                                  |
 * | Interactions | EVENT_TYPE         | the envelope `type`, e.g. `interaction.play` (`eventType`) |
 * | Interactions | EVENT_VALUE        | `playedMs` (play) / `positionMs` (skip) (`eventValue`)   |
 * | Interactions | DEVICE             | `device`, else null                                      |
 *
 * `properties` carries the other columns under camelCase keys ({@link propertyKey}).
 *
 * PutItems and PutUsers replace the whole record, so only events that carry a whole record are
 * written: `song.published`, `episode.published`, `user.created`, and an update only when it has a
 * value for every column. A partial update (a genre change, a new tier) would null the columns it
 * does not carry, or be refused for a missing required column; it is counted as skipped and left
 * to the next bulk import from the data-at-rest plane.
 */
export type DatasetName = DatasetSchemaName;

/** Columns that travel as API parameters, not in `properties`. */
const ParameterColumns: Readonly<Record<DatasetName, readonly string[]>> = {
  Users: ["USER_ID"],
  Items: ["ITEM_ID"],
  Interactions: ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"],
};

interface PropertyColumn {
  readonly type: AvroPrimitive;
  readonly nullable: boolean;
}

let propertyColumnCache: Record<DatasetName, ReadonlyMap<string, PropertyColumn>> | undefined;

function columnsOf(schema: PersonalizeAvroSchema): ReadonlyMap<string, PropertyColumn> {
  return new Map(
    schema.fields
      .filter((field) => !ParameterColumns[schema.name].includes(field.name))
      .map((field): [string, PropertyColumn] => [
        field.name,
        typeof field.type === "string"
          ? { type: field.type, nullable: false }
          : { type: field.type[1], nullable: true },
      ]),
  );
}

/** The `properties` columns of each dataset, from the derived schemas (computed once). */
export function propertyColumns(dataset: DatasetName): ReadonlyMap<string, PropertyColumn> {
  propertyColumnCache ??= {
    Users: columnsOf(usersAvroSchema()),
    Items: columnsOf(itemsAvroSchema()),
    Interactions: columnsOf(interactionsAvroSchema()),
  };
  return propertyColumnCache[dataset];
}

/** The `properties` key of a dataset column: `CREATION_TIMESTAMP` → `creationTimestamp`. */
export function propertyKey(column: string): string {
  return column.toLowerCase().replace(/_([a-z0-9])/g, (_, next: string) => next.toUpperCase());
}

type PropertyValue = string | number | undefined;

export interface DatasetProperties {
  /** The `properties` JSON, undefined when no column has a value. */
  readonly properties: string | undefined;
  /** Columns of the dataset the values leave out. */
  readonly missing: readonly string[];
}

/**
 * Builds `properties` from column values (absent ones left out). Throws when a column is not in
 * the dataset's schema or a value does not have the column's type (a bug in the mapping), and
 * {@link PersonalizeLimitError} when a required column has no value.
 */
export function datasetProperties(
  dataset: DatasetName,
  eventId: string,
  values: Readonly<Record<string, PropertyValue>>,
): DatasetProperties {
  const columns = propertyColumns(dataset);
  const present: [string, string | number][] = [];
  for (const [column, value] of Object.entries(values)) {
    const spec = columns.get(column);
    if (!spec) throw new Error(`the ${dataset} dataset has no property column ${column}`);
    if (value === undefined) continue;
    const numeric = spec.type !== "string";
    const integral = spec.type === "int" || spec.type === "long";
    if (
      numeric
        ? typeof value !== "number" || (integral && !Number.isInteger(value))
        : typeof value !== "string"
    ) {
      throw new Error(`${dataset}.${column} is ${spec.type}; the mapping produced ${JSON.stringify(value)}`);
    }
    present.push([column, value]);
  }
  const missing = [...columns.keys()].filter((column) => values[column] === undefined);
  const required = missing.filter((column) => !columns.get(column)!.nullable);
  if (required.length) {
    throw new PersonalizeLimitError(
      `event ${eventId} cannot be sent to Personalize: the ${dataset} dataset requires ${required.join(", ")}, which the event does not carry`,
    );
  }
  return {
    properties: present.length
      ? JSON.stringify(Object.fromEntries(present.map(([column, value]) => [propertyKey(column), value])))
      : undefined,
    missing,
  };
}

/** An event that cannot be sent within the API's limits; it is refused, never truncated. */
export class PersonalizeLimitError extends Error {
  override readonly name = "PersonalizeLimitError";
}

/** A call that Personalize refused, or kept throttling until the attempts ran out. */
export class PersonalizeCallError extends Error {
  override readonly name = "PersonalizeCallError";
  constructor(
    message: string,
    /** True when a later attempt may succeed (throttling, 5xx, network). */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Throws {@link PersonalizeLimitError} when `value` is longer than `max` characters, counted as the
 * service counts them (code points, `serviceLength`), not in UTF-16 units.
 */
export function checkLength(eventId: string, what: string, value: string, max: number): void {
  // UTF-16 units are never fewer than code points: most values need no count.
  if (value.length <= max) return;
  const length = serviceLength(value);
  if (length > max) {
    throw new PersonalizeLimitError(
      `event ${eventId} cannot be sent to Personalize: ${what} is ${length} characters, more than the ${max} allowed`,
    );
  }
}

/** Categorical values are pipe-separated in Personalize, so a value may not contain `|`. */
export function categorical(eventId: string, what: string, values: readonly string[]): string | undefined {
  const bad = values.find((value) => value.includes("|"));
  if (bad !== undefined) {
    throw new PersonalizeLimitError(
      `event ${eventId} cannot be sent to Personalize: ${what} value ${JSON.stringify(bad)} contains "|", the separator of categorical values`,
    );
  }
  return values.length ? values.join("|") : undefined;
}

const epochSeconds = (iso: string | undefined): number | undefined =>
  iso === undefined ? undefined : Math.floor(Date.parse(iso) / 1000);

/** Booleans are categorical strings in the datasets (see `avroTypeOf` in schemas.ts). */
const trueFalse = (value: boolean | undefined): string | undefined =>
  value === undefined ? undefined : value ? "True" : "False";

// ---------------------------------------------------------------------------------------------
// Interactions → PutEvents

let itemInteractionTypes: ReadonlySet<string> | undefined;

/**
 * Interaction types whose `itemType` names a catalogue item (play, skip, like); a follow of an
 * artist or podcast is not one, and sending it would teach the model ids it cannot recommend.
 */
export function isItemInteraction(type: string): boolean {
  itemInteractionTypes ??= new Set(itemInteractionEventTypes());
  return itemInteractionTypes.has(type);
}

export interface InteractionPayload {
  readonly userId: string;
  readonly itemId: string;
  readonly itemType: ItemContentType;
  readonly sessionId: string;
  readonly occurredAt: string;
  readonly device?: string;
  readonly playedMs?: number;
  readonly positionMs?: number;
}

export interface PutEventsEntry {
  readonly event: StreamEvent;
  readonly userId: string;
  readonly sessionId: string;
  readonly personalizeEvent: Event;
}

/**
 * The PutEvents event for an interaction, or undefined for an interaction that is not with a
 * catalogue item ({@link isItemInteraction}). Throws {@link PersonalizeLimitError} when a value does
 * not fit the API's limits.
 */
export function toPutEventsEntry(event: StreamEvent): PutEventsEntry | undefined {
  const { id, type } = event.envelope;
  if (!isItemInteraction(type)) return undefined;
  const payload = event.envelope.data as unknown as InteractionPayload;
  const itemId = catalogueItemId(payload.itemType, payload.itemId);
  const { properties } = datasetProperties("Interactions", id, { DEVICE: payload.device });
  checkLength(id, "userId", payload.userId, PersonalizeLimits.idLength);
  checkLength(id, "sessionId", payload.sessionId, PersonalizeLimits.idLength);
  checkLength(id, "eventId", id, PersonalizeLimits.idLength);
  checkLength(id, "eventType", type, PersonalizeLimits.idLength);
  checkLength(id, "itemId", itemId, PersonalizeLimits.idLength);
  if (properties !== undefined) {
    checkLength(id, "properties JSON", properties, PersonalizeLimits.eventPropertiesLength);
  }
  const eventValue = payload.playedMs ?? payload.positionMs;
  return {
    event,
    userId: payload.userId,
    sessionId: payload.sessionId,
    personalizeEvent: {
      eventId: id,
      eventType: type,
      itemId,
      sentAt: new Date(payload.occurredAt),
      ...(eventValue === undefined ? {} : { eventValue }),
      ...(properties === undefined ? {} : { properties }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Songs and episodes → PutItems, users → PutUsers

export interface KeyedEntry<T> {
  readonly event: StreamEvent;
  /** The Personalize id the entry writes; entries for one key are applied in stream order. */
  readonly key: string;
  readonly value: T;
}

interface SongPayload {
  readonly songId: string;
  readonly genres?: readonly string[];
  readonly durationMs?: number;
  readonly releaseYear?: number;
  readonly explicit?: boolean;
  readonly publishedAt?: string;
}

interface EpisodePayload {
  readonly episodeId: string;
  readonly category?: string;
  readonly language?: string;
  readonly durationMs?: number;
  readonly explicit?: boolean;
  readonly publishedAt?: string;
}

const isUpdate = (type: string) => type.endsWith(".updated");

/**
 * The PutItems item for a song or episode event, or undefined for an update that does not carry
 * the whole item (see the table above). Throws {@link PersonalizeLimitError} when it cannot be sent.
 */
export function toItem(event: StreamEvent): KeyedEntry<Item> | undefined {
  const { id, type } = event.envelope;
  let contentType: ItemContentType;
  let sourceId: string;
  let values: Record<string, PropertyValue>;
  if (type.startsWith("song.")) {
    const song = event.envelope.data as unknown as SongPayload;
    contentType = "song";
    sourceId = song.songId;
    values = {
      GENRES: song.genres && categorical(id, "genre", song.genres),
      DURATION_MS: song.durationMs,
      EXPLICIT: trueFalse(song.explicit),
      RELEASE_YEAR: song.releaseYear,
      CREATION_TIMESTAMP: epochSeconds(song.publishedAt),
    };
  } else if (type.startsWith("episode.")) {
    const episode = event.envelope.data as unknown as EpisodePayload;
    contentType = "episode";
    sourceId = episode.episodeId;
    values = {
      GENRES: episode.category && categorical(id, "category", [episode.category]),
      DURATION_MS: episode.durationMs,
      EXPLICIT: trueFalse(episode.explicit),
      LANGUAGE: episode.language && categorical(id, "language", [episode.language]),
      CREATION_TIMESTAMP: epochSeconds(episode.publishedAt),
    };
  } else {
    throw new PersonalizeLimitError(`event ${id}: ${type} is neither a song nor an episode event`);
  }
  const itemId = catalogueItemId(contentType, sourceId);
  if (isUpdate(type) && Object.values(values).some((value) => value === undefined)) return undefined;
  const { properties } = datasetProperties("Items", id, { CONTENT_TYPE: contentType, ...values });
  checkLength(id, "itemId", itemId, PersonalizeLimits.idLength);
  checkLength(id, "properties JSON", properties!, PersonalizeLimits.itemPropertiesLength);
  return { event, key: itemId, value: { itemId, properties } };
}

interface UserPayload {
  readonly userId: string;
  readonly country?: string;
  readonly tier?: string;
  readonly language?: string;
}

/** The PutUsers user for a user event, or undefined for an update that does not carry the whole user. */
export function toUser(event: StreamEvent): KeyedEntry<User> | undefined {
  const { id, type } = event.envelope;
  const user = event.envelope.data as unknown as UserPayload;
  const values = {
    COUNTRY: user.country,
    TIER: user.tier,
    LANGUAGE: user.language && categorical(id, "language", [user.language]),
  };
  if (isUpdate(type) && Object.values(values).some((value) => value === undefined)) return undefined;
  const { properties } = datasetProperties("Users", id, values);
  checkLength(id, "userId", user.userId, PersonalizeLimits.idLength);
  checkLength(id, "properties JSON", properties!, PersonalizeLimits.userPropertiesLength);
  return { event, key: user.userId, value: { userId: user.userId, properties } };
}

// ---------------------------------------------------------------------------------------------
// Calls

/** Throttling, server errors and errors without an HTTP answer (timeouts, resets) may pass later. */
export function isRetryable(error: unknown): boolean {
  const e = error as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  } | null;
  if (!e || typeof e !== "object") return false;
  if (e.$retryable) return true;
  if (["ThrottlingException", "TooManyRequestsException", "ResourceInUseException"].includes(e.name ?? "")) {
    return true;
  }
  const status = e.$metadata?.httpStatusCode;
  return status === undefined || status === 429 || status >= 500;
}

const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export interface CallFailure<T> {
  readonly entry: T;
  readonly error: PersonalizeCallError;
}

export interface SendOptions {
  /** Name of the operation, for error messages. */
  readonly operation: string;
  /** @default runtime/retry.ts defaults: 5 attempts, full-jitter backoff from 100 ms to 5 s */
  readonly retry?: BackoffOptions;
  /** Counts calls made, for metrics and benchmarks. */
  readonly calls?: { count: number };
}

/**
 * Sends `entries` (at most one call's worth) with an all-or-nothing API. Throttled calls are resent
 * with backoff through `sendWithRetries`; whatever is still failing after the last attempt is
 * returned. A call refused for its content (`InvalidInputException`) is split in halves and resent,
 * until the entries the service refuses are found, so one bad event does not fail its neighbours.
 * Other refusals (missing tracking id or dataset, no permission) fail every entry of the call.
 */
export async function sendInCalls<T>(
  entries: readonly T[],
  call: (batch: readonly T[]) => Promise<unknown>,
  options: SendOptions,
): Promise<CallFailure<T>[]> {
  const refused: CallFailure<T>[] = [];
  const { unsent } = await sendWithRetries<T, unknown>(
    entries,
    async (batch) => {
      if (options.calls) options.calls.count++;
      try {
        await call(batch);
        return { failed: [] };
      } catch (error) {
        if (isRetryable(error)) return { failed: batch.map((_, index) => ({ index, error })) };
        if ((error as Error).name === "InvalidInputException" && batch.length > 1) {
          const middle = Math.ceil(batch.length / 2);
          refused.push(...(await sendInCalls(batch.slice(0, middle), call, options)));
          refused.push(...(await sendInCalls(batch.slice(middle), call, options)));
        } else {
          const failure = new PersonalizeCallError(
            `${options.operation} refused: ${describe(error)}`,
            false,
            {
              cause: error,
            },
          );
          refused.push(...batch.map((entry) => ({ entry, error: failure })));
        }
        return { failed: [] };
      }
    },
    options.retry,
  );
  return [
    ...refused,
    ...unsent.map(({ entry, error, attempts }) => ({
      entry,
      error: new PersonalizeCallError(
        `${options.operation} still failing after ${attempts} attempts: ${describe(error)}`,
        true,
        { cause: error },
      ),
    })),
  ];
}

/**
 * Writes keyed entries (items, users) in stream order: calls of at most `maxPerCall` entries with
 * distinct keys, one call after the other. When an entry fails in a way a retry may fix, the later
 * entries for its key are not sent and fail too: applying them now and the failed one on the retry
 * would leave the older value in Personalize (the later ones would be skipped as duplicates).
 */
export async function putInKeyOrder<T>(
  entries: readonly KeyedEntry<T>[],
  maxPerCall: number,
  call: (batch: readonly T[]) => Promise<unknown>,
  options: SendOptions,
): Promise<EventFailure[]> {
  const failures: EventFailure[] = [];
  const blocked = new Map<string, StreamEvent>();
  let pending = entries;
  while (pending.length) {
    const chunk: KeyedEntry<T>[] = [];
    const keys = new Set<string>();
    const rest: KeyedEntry<T>[] = [];
    for (const entry of pending) {
      const blocker = blocked.get(entry.key);
      if (blocker) {
        failures.push({
          event: entry.event,
          error: new PersonalizeCallError(
            `${options.operation} not attempted for event ${entry.event.envelope.id}: event ${blocker.envelope.id} for ${entry.key}, earlier in the stream, failed and must be applied first`,
            true,
          ),
        });
      } else if (chunk.length < maxPerCall && !keys.has(entry.key)) {
        chunk.push(entry);
        keys.add(entry.key);
      } else {
        rest.push(entry);
      }
    }
    for (const { entry, error } of await sendInCalls(
      chunk,
      (batch) => call(batch.map((e) => e.value)),
      options,
    )) {
      failures.push({ event: entry.event, error });
      if (error.retryable && !blocked.has(entry.key)) blocked.set(entry.key, entry.event);
    }
    pending = rest;
  }
  return failures;
}

import {
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import { env, envInteger } from "./env";
import { traced } from "./observability";

/**
 * Idempotency for stream consumers, keyed on the envelope's producer-assigned `id`, claimed and
 * completed per batch.
 *
 * Why: with `ReportBatchItemFailures` Lambda checkpoints at the lowest failed sequence number and
 * delivers every later record again, bisection and retries deliver records again, and producers may
 * publish an event twice. The key is the CloudEvents `id`, never the Kinesis sequence number (a
 * re-published event gets a new one).
 *
 * Why not Powertools idempotency: it makes one function call idempotent under one key, with a
 * conditional PutItem to claim and an UpdateItem to complete, i.e. two DynamoDB requests per
 * record (20,000 per 10,000 records, ~1.4 s of CPU per 1,000 records with its DynamoDB layer, and
 * 12,000 writes a second at the declared 6,000 interactions/s). Here a batch's ids are claimed and
 * completed in `TransactWriteItems` calls of up to 100 items, with the same records (attribute
 * names, status values), the same claim condition (absent, expired, or in progress past its
 * in-progress expiry) and the same in-progress expiry (the invocation's remaining time); figures
 * in `docs/consumer-performance.md`, printed by `npm run bench`.
 */
export interface IdempotencyOptions {
  /**
   * Where idempotency records live.
   * @default a {@link DynamoDBIdempotencyStore} on the table named by `IDEMPOTENCY_TABLE`
   */
  readonly store?: IdempotencyStore;
  /**
   * How long a processed event id is remembered. Must be at least the event source mapping's
   * `MaximumRecordAgeInSeconds`: a record can be delivered again for that long.
   * @default `IDEMPOTENCY_TTL_SECONDS`
   */
  readonly expiresAfterSeconds?: number;
  /**
   * Prefix of the idempotency keys, so functions can share one table.
   * @default the Lambda function name
   */
  readonly keyPrefix?: string;
}

/** What a claim found for one id. */
export type ClaimOutcome =
  /** The id is ours until we complete or release it, or its in-progress expiry passes. */
  | "claimed"
  /** Processed before (and not expired): skip it. */
  | "completed"
  /** Another invocation holds it: report the event failed so it is retried later. */
  | "in-progress"
  /** The store could not tell: report the event failed so it is retried. */
  | Error;

/** A batch-oriented idempotency store: each call covers many ids, in as few requests as it can. */
export interface IdempotencyStore {
  /**
   * Claims every id that is free (absent, expired, or in progress past its in-progress expiry),
   * marking it in progress until `inProgressUntilMs` (epoch ms) and remembered until
   * `expiresAtSeconds` (epoch s). With `owners` (key → the identity of the stream record that
   * carries it), an id in progress under the same owner is free too: see {@link recordOwner}.
   */
  claim(
    keys: readonly string[],
    inProgressUntilMs: number,
    expiresAtSeconds: number,
    owners?: ReadonlyMap<string, string>,
  ): Promise<Map<string, ClaimOutcome>>;
  /** Marks ids completed until `expiresAtSeconds`; returns the ids it could not mark, with why. */
  complete(keys: readonly string[], expiresAtSeconds: number): Promise<Map<string, Error>>;
  /** Frees claimed ids whose effect did not happen; returns the ids it could not free, with why. */
  release(keys: readonly string[]): Promise<Map<string, Error>>;
}

/** Powertools' record statuses and attribute names, so the table and its TTL stay as they are. */
export const RecordStatus = { inProgress: "INPROGRESS", completed: "COMPLETED" } as const;
const Attribute = {
  key: "id",
  expiry: "expiration",
  inProgressExpiry: "in_progress_expiration",
  status: "status",
  /** Not Powertools': the stream record that holds the claim (see `recordOwner`). */
  owner: "owner",
} as const;

/**
 * The owner of a claim: the stream record (stream, shard and sequence number) whose invocation
 * made it. Lambda runs one batch of a shard (of a parallelization lane, where a record always
 * falls in the same lane) at a time and delivers a batch again only once the invocation that had
 * it has ended: returned, timed out or crashed (docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
 * "Polling and batching streams"). So a claim still in progress under the record being delivered
 * was left by an invocation that is over, typically one that crashed or timed out before it could
 * complete or release it, and the delivery may take it over at once instead of failing until the
 * claim's in-progress expiry (the function's timeout), which a mapping's few quick retries do not
 * outlast: found by `npm run local -- --faults`, where a crash mid-batch had its batch's events
 * dead-lettered. The price is the one stated in the consumer kit: an effect the crashed invocation
 * had already performed is performed again. A different record with the same event id (a
 * re-published duplicate) still finds the claim in progress.
 */
export function recordOwner(record: {
  eventSourceARN?: string;
  eventID?: string;
  kinesis: { sequenceNumber: string };
}): string {
  return `${record.eventSourceARN ?? ""}#${record.eventID ?? record.kinesis.sequenceNumber}`;
}

/** TransactWriteItems carries at most 100 actions. */
const TRANSACTION_ITEMS = 100;
/** Rounds per chunk: conflicts and cancelled neighbours are retried, a bounded number of times. */
const MAX_ROUNDS = 3;

/**
 * The idempotency table in DynamoDB (partition key `id`, a string; TTL attribute `expiration`).
 * A claim is a conditional Put per id inside `TransactWriteItems` with
 * `ReturnValuesOnConditionCheckFailure: ALL_OLD`: on first delivery one call claims 100 ids; on a
 * redelivery the call is cancelled and its `CancellationReasons` carry the existing record of every
 * id already known (completed or in progress), so the outcome of 100 known ids costs one call too.
 * Ids that were only cancelled alongside known ones are claimed in a second round.
 *
 * Transactional writes consume twice the write capacity of plain ones; on-demand that is the price
 * of one request per 100 records instead of one per record (docs/consumer-performance.md).
 */
export class DynamoDBIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async claim(
    keys: readonly string[],
    inProgressUntilMs: number,
    expiresAtSeconds: number,
    owners?: ReadonlyMap<string, string>,
  ): Promise<Map<string, ClaimOutcome>> {
    const outcomes = new Map<string, ClaimOutcome>();
    const nowMs = Date.now();
    // Powertools' condition: absent, expired, or in progress past its in-progress expiry.
    const free =
      "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#inprogress_expiry) AND #inprogress_expiry < :now_ms)";
    const put = (key: string): TransactWriteItem => {
      const owner = owners?.get(key);
      return {
        Put: {
          TableName: this.tableName,
          Item: {
            [Attribute.key]: { S: key },
            [Attribute.status]: { S: RecordStatus.inProgress },
            [Attribute.expiry]: { N: String(expiresAtSeconds) },
            [Attribute.inProgressExpiry]: { N: String(inProgressUntilMs) },
            ...(owner !== undefined && { [Attribute.owner]: { S: owner } }),
          },
          // And, with an owner: in progress under the same record, left by an ended invocation.
          ConditionExpression:
            owner === undefined ? free : `${free} OR (#status = :inprogress AND #owner = :owner)`,
          ExpressionAttributeNames: {
            "#id": Attribute.key,
            "#expiry": Attribute.expiry,
            "#status": Attribute.status,
            "#inprogress_expiry": Attribute.inProgressExpiry,
            ...(owner !== undefined && { "#owner": Attribute.owner }),
          },
          ExpressionAttributeValues: {
            ":now": { N: String(Math.floor(nowMs / 1000)) },
            ":now_ms": { N: String(nowMs) },
            ":inprogress": { S: RecordStatus.inProgress },
            ...(owner !== undefined && { ":owner": { S: owner } }),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      };
    };
    await this.transact(
      keys,
      put,
      (key, reason) => {
        if (reason === undefined) return outcomes.set(key, "claimed");
        if (reason.Code !== "ConditionalCheckFailed") return "retry";
        const status = reason.Item?.[Attribute.status]?.S;
        if (status === RecordStatus.completed) return outcomes.set(key, "completed");
        if (status === RecordStatus.inProgress) return outcomes.set(key, "in-progress");
        // Deleted or changed between the check and the read of the old image: look again.
        return "retry";
      },
      (key, error) => outcomes.set(key, error),
    );
    return outcomes;
  }

  async complete(keys: readonly string[], expiresAtSeconds: number): Promise<Map<string, Error>> {
    const failures = new Map<string, Error>();
    await this.transact(
      keys,
      (key) => ({
        Put: {
          TableName: this.tableName,
          Item: {
            [Attribute.key]: { S: key },
            [Attribute.status]: { S: RecordStatus.completed },
            [Attribute.expiry]: { N: String(expiresAtSeconds) },
          },
        },
      }),
      (_key, reason) => (reason === undefined ? undefined : "retry"),
      (key, error) => failures.set(key, error),
    );
    return failures;
  }

  async release(keys: readonly string[]): Promise<Map<string, Error>> {
    const failures = new Map<string, Error>();
    await this.transact(
      keys,
      (key) => ({ Delete: { TableName: this.tableName, Key: { [Attribute.key]: { S: key } } } }),
      (_key, reason) => (reason === undefined ? undefined : "retry"),
      (key, error) => failures.set(key, error),
    );
    return failures;
  }

  /**
   * Writes one action per key in transactions of up to 100. `settle` is told each key's result
   * (`undefined` when its transaction committed, else its cancellation reason) and answers
   * `"retry"` to put the key in the next round; keys still unsettled after the last round, or whose
   * call failed outright, go to `fail`.
   */
  private async transact(
    keys: readonly string[],
    action: (key: string) => TransactWriteItem,
    settle: (key: string, reason: CancellationReason | undefined) => unknown,
    fail: (key: string, error: Error) => unknown,
  ): Promise<void> {
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += TRANSACTION_ITEMS)
      chunks.push(keys.slice(i, i + TRANSACTION_ITEMS));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending = chunk;
        let lastError: Error = new Error("no attempt made");
        for (let round = 0; round < MAX_ROUNDS && pending.length; round++) {
          try {
            await this.client.send(new TransactWriteItemsCommand({ TransactItems: pending.map(action) }));
            for (const key of pending) settle(key, undefined);
            pending = [];
          } catch (error) {
            if (!(error instanceof TransactionCanceledException) || !error.CancellationReasons) {
              lastError = asError(error);
              break;
            }
            const reasons = error.CancellationReasons;
            lastError = new IdempotencyStoreError(`transaction cancelled: ${error.message}`, {
              cause: error,
            });
            pending = pending.filter(
              (key, index) => settle(key, reasons[index] as CancellationReason) === "retry",
            );
          }
        }
        for (const key of pending) fail(key, lastError);
      }),
    );
  }
}

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

/** The idempotency store could not be read or written. */
export class IdempotencyStoreError extends Error {
  override readonly name = "IdempotencyStoreError";
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** Settings fixed once per handler, resolved on its first invocation (so importing reads no env). */
export interface ResolvedIdempotency {
  readonly store: IdempotencyStore;
  readonly expiresAfterSeconds: number;
  readonly keyPrefix: string;
  /** Completed ids this execution environment knows, with their expiry (epoch s). */
  readonly completed: CompletedCache;
}

/** Completed ids remembered by each warm environment, to skip the store on replays. */
const LOCAL_CACHE_SIZE = 10_000;

/** A bounded map of completed keys to their expiry, oldest evicted first (insertion order). */
export class CompletedCache {
  private readonly entries = new Map<string, number>();
  constructor(private readonly size = LOCAL_CACHE_SIZE) {}

  has(key: string, nowSeconds: number): boolean {
    const expiry = this.entries.get(key);
    if (expiry === undefined) return false;
    if (expiry >= nowSeconds) return true;
    this.entries.delete(key);
    return false;
  }

  add(key: string, expiresAtSeconds: number): void {
    this.entries.delete(key);
    this.entries.set(key, expiresAtSeconds);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }
}

export function resolveIdempotency(options: IdempotencyOptions, functionName: string): ResolvedIdempotency {
  return {
    store:
      options.store ?? new DynamoDBIdempotencyStore(traced(new DynamoDBClient({})), env("IDEMPOTENCY_TABLE")),
    expiresAfterSeconds: options.expiresAfterSeconds ?? envInteger("IDEMPOTENCY_TTL_SECONDS", { min: 60 }),
    keyPrefix: options.keyPrefix ?? functionName,
    completed: new CompletedCache(),
  };
}

/** The store key of an event id: `<prefix>#<id>` (ids are at most 256 characters; keys 2,048 bytes). */
export const idempotencyKey = (idempotency: ResolvedIdempotency, eventId: string): string =>
  `${idempotency.keyPrefix}#${eventId}`;

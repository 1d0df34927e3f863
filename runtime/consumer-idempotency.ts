import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyInconsistentStateError,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyPersistenceLayerError,
  IdempotencyRecordStatus,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { BasePersistenceLayer, IdempotencyRecord } from "@aws-lambda-powertools/idempotency/persistence";
import type { JSONValue } from "@aws-lambda-powertools/commons/types";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Envelope } from "../platform/contract";
import { env, envInteger } from "./env";
import type { Tracer } from "@aws-lambda-powertools/tracer";

/**
 * Idempotency for stream consumers, keyed on the envelope's producer-assigned `id`.
 *
 * Why: with `ReportBatchItemFailures` Lambda checkpoints at the lowest failed sequence number and
 * delivers every later record again, bisection and retries deliver records again, and producers may
 * publish an event twice. The key is the CloudEvents `id`, never the Kinesis sequence number (a
 * re-published event gets a new one). Records are Powertools idempotency records in DynamoDB.
 */
export interface IdempotencyOptions {
  /**
   * Where idempotency records live. One instance per handler: Powertools configures a store once
   * and ignores later configurations.
   * @default a `DynamoDBPersistenceLayer` on the table named by `IDEMPOTENCY_TABLE` (partition key
   * `id`, a string; TTL attribute `expiration`)
   */
  readonly persistenceStore?: BasePersistenceLayer;
  /**
   * How long a processed event id is remembered. Must be at least the event source mapping's
   * `MaximumRecordAgeInSeconds`: a record can be delivered again for that long.
   * @default `IDEMPOTENCY_TTL_SECONDS`
   */
  readonly expiresAfterSeconds?: number;
  /**
   * Prefix of the idempotency keys, so functions can share one table.
   * @default the Lambda function name (Powertools' default)
   */
  readonly keyPrefix?: string;
  /**
   * Idempotency-store calls in flight at once while claiming or settling a batch.
   * @default 25
   */
  readonly concurrency?: number;
}

/** Settings fixed once per handler, resolved on its first invocation (so importing reads no env). */
export interface ResolvedIdempotency {
  readonly store: BasePersistenceLayer;
  readonly config: IdempotencyConfig;
  readonly keyPrefix: string | undefined;
  readonly concurrency: number;
}

/** Idempotency records remembered in memory by each warm environment, to skip store reads on replays. */
const LOCAL_CACHE_SIZE = 5_000;

/**
 * Resolves the store and its configuration. `"record"` handlers hand Powertools the envelope and
 * let it select the key with the JMESPath `id`; `"batch"` handlers hand it the id itself, which
 * hashes to the same key without a JMESPath search per store call.
 */
export function resolveIdempotency(
  options: IdempotencyOptions,
  tracer: Tracer,
  mode: "record" | "batch",
): ResolvedIdempotency {
  const store =
    options.persistenceStore ??
    new DynamoDBPersistenceLayer({
      tableName: env("IDEMPOTENCY_TABLE"),
      awsSdkV3Client: tracer.captureAWSv3Client(new DynamoDBClient({})),
    });
  const config = new IdempotencyConfig({
    ...(mode === "record" ? { eventKeyJmesPath: "id" } : {}),
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expiresAfterSeconds ?? envInteger("IDEMPOTENCY_TTL_SECONDS", { min: 60 }),
    useLocalCache: true,
    maxLocalCacheSize: LOCAL_CACHE_SIZE,
  });
  store.configure({ config, ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}) });
  return { store, config, keyPrefix: options.keyPrefix, concurrency: options.concurrency ?? 25 };
}

export type ClaimResult = "claimed" | "duplicate";

/** Same bound as Powertools' own handler for records that expire while being looked at. */
const MAX_CLAIM_ATTEMPTS = 3;

/**
 * Claims an event id before its effect is produced, the first half of Powertools'
 * `IdempotencyHandler.handle()` written out so that the effect can be a call shared by many events.
 * Resolves `"duplicate"` when the id was already completed; throws
 * `IdempotencyAlreadyInProgressError` while another invocation holds it.
 */
export async function claimEvent(
  idempotency: ResolvedIdempotency,
  envelope: Envelope,
  remainingTimeInMillis: number,
): Promise<ClaimResult> {
  const data = envelope.id;
  for (let attempt = 1; ; attempt++) {
    try {
      await idempotency.store.saveInProgress(data, remainingTimeInMillis);
      return "claimed";
    } catch (error) {
      if (!(error instanceof IdempotencyItemAlreadyExistsError)) {
        throw new IdempotencyPersistenceLayerError("Failed to save in progress record to idempotency store", {
          cause: error,
        });
      }
      let existing: IdempotencyRecord;
      try {
        existing = error.existingRecord
          ? idempotency.store.processExistingRecord(error.existingRecord, data)
          : await idempotency.store.getRecord(data);
      } catch (lookupError) {
        // Deleted between our put and our read: the id is free again, try once more.
        if (lookupError instanceof IdempotencyItemNotFoundError && attempt < MAX_CLAIM_ATTEMPTS) continue;
        throw lookupError;
      }
      const status = existing.getStatus();
      if (status === IdempotencyRecordStatus.COMPLETED) return "duplicate";
      if (status === IdempotencyRecordStatus.INPROGRESS) {
        throw new IdempotencyAlreadyInProgressError(
          `event ${envelope.id} is being processed by another invocation; it will be retried`,
        );
      }
      if (attempt >= MAX_CLAIM_ATTEMPTS) {
        throw new IdempotencyInconsistentStateError(
          `idempotency record of event ${envelope.id} keeps expiring`,
        );
      }
    }
  }
}

/** Marks a claimed event done (its effect happened): later deliveries of the id are skipped. */
export async function completeEvent(
  idempotency: ResolvedIdempotency,
  envelope: Envelope,
  result: JSONValue,
): Promise<void> {
  try {
    await idempotency.store.saveSuccess(envelope.id, result);
  } catch (error) {
    throw new IdempotencyPersistenceLayerError("Failed to update success record to idempotency store", {
      cause: error,
    });
  }
}

/** Gives a claimed event up (its effect did not happen), so that a retry can claim it again. */
export async function releaseEvent(idempotency: ResolvedIdempotency, envelope: Envelope): Promise<void> {
  try {
    await idempotency.store.deleteRecord(envelope.id);
  } catch (error) {
    throw new IdempotencyPersistenceLayerError("Failed to delete record from idempotency store", {
      cause: error,
    });
  }
}

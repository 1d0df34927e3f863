import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { RecordStatus, type ClaimOutcome, type IdempotencyStore } from "./consumer-idempotency";
import type { Observability } from "./observability";

/**
 * Stand-ins for what Lambda and AWS provide, for the tests and benchmarks of stream handlers.
 * Nothing here is imported by handler code, so bundles leave it out.
 */

export interface RecordOptions {
  readonly sequenceNumber: string;
  /** @default "pk" */
  readonly partitionKey?: string;
  /** @default a stream ARN in account 222222222222 */
  readonly eventSourceARN?: string;
  /** @default "shardId-000000000000" */
  readonly shardId?: string;
  /** Seconds since the epoch, as Lambda sends it. @default 1767225600 */
  readonly approximateArrivalTimestamp?: number;
}

export const TEST_STREAM_ARN = "arn:aws:kinesis:eu-west-1:222222222222:stream/test-stream";

/**
 * One record as a Kinesis event source mapping delivers it: `data` base64-encoded. A Buffer is sent
 * as the bytes it holds (to build undecodable records); anything else as its JSON.
 */
export function kinesisRecord(payload: unknown, options: RecordOptions): KinesisStreamRecord {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const eventSourceARN = options.eventSourceARN ?? TEST_STREAM_ARN;
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: options.partitionKey ?? "pk",
      sequenceNumber: options.sequenceNumber,
      data: data.toString("base64"),
      approximateArrivalTimestamp: options.approximateArrivalTimestamp ?? 1767225600,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${options.shardId ?? "shardId-000000000000"}:${options.sequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::111111111111:role/consumer",
    awsRegion: eventSourceARN.split(":")[3] ?? "eu-west-1",
    eventSourceARN,
  };
}

/** Sequence numbers that increase like a shard's: 56 digits, numerically and lexically ordered. */
export function sequenceNumbers(start = 1): () => string {
  let next = BigInt("49590338271490256608559692538361571095921575989136588898") + BigInt(start);
  return () => (next++).toString();
}

/** A batch of records built from payloads, with fresh increasing sequence numbers. */
export function kinesisEvent(
  payloads: readonly unknown[],
  nextSequenceNumber = sequenceNumbers(),
): KinesisStreamEvent {
  return {
    Records: payloads.map((payload) => kinesisRecord(payload, { sequenceNumber: nextSequenceNumber() })),
  };
}

/** A Lambda context with a fixed remaining time. */
export function lambdaContext(functionName = "stream-consumer", remainingTimeInMillis = 60_000): Context {
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:111111111111:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: "00000000-0000-4000-8000-000000000000",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/01/01/[$LATEST]0000",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingTimeInMillis,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface CapturedLog {
  readonly message: string;
  readonly extra: Record<string, unknown>;
}

/** Logger and metrics that print nothing, no tracer; `errors` collects what was logged at error level. */
export function silentObservability(): Observability & { readonly errors: CapturedLog[] } {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  try {
    const errors: CapturedLog[] = [];
    const logger = new Logger({ serviceName: "test", logLevel: "SILENT" });
    const capture = (message: unknown, extra: unknown) => {
      errors.push({ message: String(message), extra: (extra ?? {}) as Record<string, unknown> });
    };
    logger.error = capture as Logger["error"];
    // Handlers with a serviceName log through a child; keep capturing there too.
    const createChild = logger.createChild.bind(logger);
    logger.createChild = ((options) => {
      const child = createChild(options);
      child.error = capture as Logger["error"];
      return child;
    }) as Logger["createChild"];
    return {
      logger,
      metrics: new Metrics({ namespace: "test", serviceName: "test", logger }),
      errors,
    };
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

/**
 * An idempotency store in process memory, with the claim rules of the DynamoDB store (an id can be
 * taken when absent, expired, or in progress past its in-progress expiry). For tests and local runs
 * only: in Lambda every execution environment would have its own copy, which is no idempotency at
 * all. `fail` makes the next calls of an operation throw, to test what a handler does when the
 * store is down.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<
    string,
    { status: string; expiresAtSeconds: number; inProgressUntilMs?: number; owner?: string }
  >();
  /** Calls made to the store, by operation, to let tests count round trips. */
  readonly calls = { claim: 0, complete: 0, release: 0 };
  /** Ids whose next claim fails with a store error (then forgotten). */
  readonly failClaimOf = new Set<string>();
  /** When set, every complete / release call fails with it. */
  failWrites: Error | undefined;

  async claim(
    keys: readonly string[],
    inProgressUntilMs: number,
    expiresAtSeconds: number,
    owners?: ReadonlyMap<string, string>,
  ) {
    this.calls.claim++;
    const now = Date.now();
    const outcomes = new Map<string, ClaimOutcome>();
    for (const key of keys) {
      const id = key.slice(key.indexOf("#") + 1);
      if (this.failClaimOf.delete(id)) {
        outcomes.set(key, new Error(`store unavailable for ${id}`));
        continue;
      }
      const existing = this.records.get(key);
      const free =
        !existing ||
        existing.expiresAtSeconds < now / 1000 ||
        (existing.status === RecordStatus.inProgress &&
          ((existing.inProgressUntilMs ?? Infinity) < now ||
            (existing.owner !== undefined && existing.owner === owners?.get(key))));
      if (free) {
        this.records.set(key, {
          status: RecordStatus.inProgress,
          expiresAtSeconds,
          inProgressUntilMs,
          owner: owners?.get(key),
        });
        outcomes.set(key, "claimed");
      } else {
        outcomes.set(key, existing.status === RecordStatus.completed ? "completed" : "in-progress");
      }
    }
    return outcomes;
  }

  async complete(keys: readonly string[], expiresAtSeconds: number) {
    this.calls.complete++;
    if (this.failWrites) return new Map(keys.map((key) => [key, this.failWrites!]));
    for (const key of keys) this.records.set(key, { status: RecordStatus.completed, expiresAtSeconds });
    return new Map<string, Error>();
  }

  async release(keys: readonly string[]) {
    this.calls.release++;
    if (this.failWrites) return new Map(keys.map((key) => [key, this.failWrites!]));
    for (const key of keys) this.records.delete(key);
    return new Map<string, Error>();
  }

  /** The status of an event id's record (any key prefix), or undefined. */
  statusOf(eventId: string): string | undefined {
    for (const [key, record] of this.records) if (key.endsWith(`#${eventId}`)) return record.status;
    return undefined;
  }
}

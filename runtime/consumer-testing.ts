import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from "@aws-lambda-powertools/idempotency";
import { BasePersistenceLayer, type IdempotencyRecord } from "@aws-lambda-powertools/idempotency/persistence";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
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

/** Logger, metrics and tracer that print nothing; `errors` collects what was logged at error level. */
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
      tracer: new Tracer({ serviceName: "test", enabled: false }),
      errors,
    };
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

/**
 * A persistence layer in process memory, with the conditional-put rules of the DynamoDB layer
 * (a key can be taken when absent, expired, or in progress past its in-progress expiry).
 * For tests, benchmarks and local runs only: in Lambda every execution environment would have its
 * own copy, which is no idempotency at all.
 */
export class InMemoryPersistenceLayer extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();
  /** Calls made to the store, by operation, to let tests and benchmarks count round trips. */
  readonly calls = { get: 0, put: 0, update: 0, delete: 0 };

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    this.calls.get++;
    const record = this.records.get(idempotencyKey);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    this.calls.put++;
    const existing = this.records.get(record.idempotencyKey);
    const now = Date.now();
    const free =
      !existing ||
      (existing.expiryTimestamp !== undefined && existing.expiryTimestamp < now / 1000) ||
      (existing.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
        existing.inProgressExpiryTimestamp !== undefined &&
        existing.inProgressExpiryTimestamp < now);
    if (!free) {
      throw new IdempotencyItemAlreadyExistsError(
        `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
        existing,
      );
    }
    this.records.set(record.idempotencyKey, record);
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.calls.update++;
    this.records.set(record.idempotencyKey, record);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.calls.delete++;
    this.records.delete(record.idempotencyKey);
  }
}

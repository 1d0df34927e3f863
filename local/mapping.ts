import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import { createHash, randomUUID } from "node:crypto";
import { filterView, parsePatterns, passes, type FilterPattern } from "./filter";
import type { InvocationResult } from "./functions";
import type { PlannedMapping } from "./plan";

/**
 * A Kinesis event source mapping run the way Lambda runs one, from the mapping's planned settings.
 * Each semantic reproduced, with its source (AWS Lambda developer guide unless said otherwise):
 *
 * - Starting position TRIM_HORIZON, LATEST or AT_TIMESTAMP (`StartingPositionTimestamp`), taken
 *   when the mapping starts (services-kinesis-parameters.html).
 * - Batching: a batch is invoked when it holds `BatchSize` records or `MaximumBatchingWindowInSeconds`
 *   has passed since its first record (with-kinesis.html#services-kinesis-batching). The 6 MB
 *   payload limit is not reproduced: the mesh's records are small.
 * - Filtering (`FilterCriteria`, see filter.ts): a record that matches no pattern is not delivered
 *   and counts as processed (with-kinesis-filtering.html). Records are filtered as they are read,
 *   before batching; the guide does not say whether filtered records count towards the batch size.
 * - Parallelization factor: up to that many batches of one shard at once, records of one partition
 *   key always in the same lane, so in order (with-kinesis.html#services-kinesis-parallelization).
 *   Lambda's assignment of keys to lanes is not documented; here it is a hash of the key.
 * - ReportBatchItemFailures: the lowest failed sequence number is the checkpoint; the records
 *   before it are done and the batch is retried from it (services-kinesis-batchfailurereporting.html).
 *   An empty or unknown item identifier fails the whole batch, as the guide says.
 * - Function errors (a thrown error, a crash, a timeout) with BisectBatchOnFunctionError: the batch
 *   is split in two and each half retried; "splitting a batch does not count towards the retry
 *   quota" (kinesis-on-failure-destination.html). Without bisect, or for a single record, the batch
 *   is retried as it is and the retry counts.
 * - MaximumRetryAttempts and MaximumRecordAgeInSeconds (-1 = unlimited): when the retries run out,
 *   or before invoking records older than the age limit, the batch is discarded and the on-failure
 *   destination receives the invocation record: `requestContext.condition`
 *   (`RetryAttemptsExhausted`, `RecordAgeExceeded`), `KinesisBatchInfo` (shard, first and last
 *   sequence number, arrival times, batch size, stream ARN) and, for an S3 destination, the
 *   invocation payload too (kinesis-on-failure-destination.html). Then the shard moves on.
 * - Lambda's pacing of retries is not documented; here a retry follows after `retryDelayMs`.
 * - Enhanced fan-out (a consumer ARN) is read by polling like a shared-throughput mapping: kinesalite
 *   does not implement SubscribeToShard (HTTP/2 push), so EFO latency is not reproduced.
 */
export interface LocalRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Buffer;
  /** Milliseconds since the epoch, Kinesis's ApproximateArrivalTimestamp. */
  readonly arrivedAt: number;
}

export type DiscardCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

/** What a mapping did with its records; the mesh's accounting listens to it. */
export interface MappingObserver {
  read(record: LocalRecord): void;
  filteredOut(record: LocalRecord): void;
  /** Records an invocation completed (not reported failed), at `at` (ms). */
  delivered(records: readonly LocalRecord[], at: number): void;
  retried(records: readonly LocalRecord[]): void;
  deadLettered(records: readonly LocalRecord[], condition: DiscardCondition, invocationRecord: unknown): void;
}

export interface MappingRunnerOptions {
  readonly kinesis: KinesisClient;
  readonly region: string;
  readonly invoke: (event: unknown) => Promise<InvocationResult>;
  readonly observer: MappingObserver;
  /** Writes the on-failure invocation record to the planned destination. */
  readonly destination: (invocationRecord: unknown, shardId: string) => Promise<void>;
  /**
   * Pause after a GetRecords call that returned nothing, per shard; one that returned records is
   * followed at once. @default 1,000 ms: Lambda polls each shard at a base rate of once a second
   * (docs/aws-facts.md). 200 ms before: five times the calls to kinesalite while idle, about 3 s of
   * the machine's CPU in a 9 s run of the dev plan's 30 pollers, for latencies Lambda does not give.
   */
  readonly pollMs?: number;
  /** @default 100 ms */
  readonly retryDelayMs?: number;
  /** The function's timeout, for the time a batch may hold its shard lane. */
  readonly timeoutSeconds: number;
}

interface Work {
  readonly records: readonly LocalRecord[];
  readonly retries: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records of one shard waiting for one of its concurrent batches (parallelization factor), in order. */
class Lane {
  private readonly records: LocalRecord[] = [];
  private waiting: (() => void) | undefined;

  get length(): number {
    return this.records.length;
  }

  push(record: LocalRecord): void {
    this.records.push(record);
    this.wake();
  }

  take(count: number): LocalRecord[] {
    return this.records.splice(0, count);
  }

  /** Resolves once a record arrives (or the runner stops): an empty lane waits without polling. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

export class MappingRunner {
  private readonly patterns: FilterPattern[];
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly lanes: Lane[] = [];
  /** Records read but not yet finished (delivered, filtered or discarded), for `idle()`. */
  private inFlight = 0;
  /** Longest time one batch held its shard lane, from its first invocation to its last. */
  longestBatchMs = 0;

  constructor(
    readonly mapping: PlannedMapping,
    private readonly options: MappingRunnerOptions,
  ) {
    this.patterns = parsePatterns(mapping.filterPatterns, `mapping ${mapping.name}`);
  }

  /** Takes the starting position of every shard, then reads until `stop()`. */
  async start(): Promise<void> {
    const { kinesis } = this.options;
    const { Shards = [] } = await kinesis.send(
      new ListShardsCommand({ StreamName: this.mapping.streamName }),
    );
    for (const shard of Shards) {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: this.mapping.streamName,
          ShardId: shard.ShardId!,
          ShardIteratorType: this.mapping.startingPosition as ShardIteratorType,
          ...(this.mapping.startingPosition === "AT_TIMESTAMP" && {
            Timestamp: new Date(this.mapping.startingPositionTimestamp!),
          }),
        }),
      );
      const lanes = Array.from({ length: Math.max(1, this.mapping.parallelizationFactor) }, () => new Lane());
      this.lanes.push(...lanes);
      this.loops.push(this.poll(shard.ShardId!, ShardIterator!, lanes));
      for (const lane of lanes) this.loops.push(this.process(lane));
    }
  }

  /**
   * How long a batch may hold its shard lane under the mapping's settings: records older than
   * `MaximumRecordAgeInSeconds` are not invoked again, so the age limit plus one invocation's
   * timeout; without an age limit, every allowed attempt running to the timeout (bisection levels
   * do not count towards the retry quota, so they are added); unbounded when neither is set.
   */
  allowedBatchMs(): number {
    const { maximumRetryAttempts, maximumRecordAgeInSeconds, batchSize, bisectBatchOnFunctionError } =
      this.mapping;
    const invocationMs = this.options.timeoutSeconds * 1000 + (this.options.retryDelayMs ?? 100);
    if (maximumRecordAgeInSeconds >= 0) return maximumRecordAgeInSeconds * 1000 + invocationMs;
    if (maximumRetryAttempts < 0) return Infinity;
    const halvings = bisectBatchOnFunctionError ? Math.ceil(Math.log2(batchSize)) : 0;
    return (maximumRetryAttempts + 1) * 2 ** halvings * invocationMs;
  }

  /** True when every record read so far is finished. */
  idle(): boolean {
    return this.inFlight === 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const lane of this.lanes) lane.wake();
    await Promise.all(this.loops);
  }

  private async poll(shardId: string, iterator: string, lanes: Lane[]): Promise<void> {
    const { kinesis, observer } = this.options;
    let next: string | undefined = iterator;
    while (this.running && next) {
      const answer: GetRecordsCommandOutput = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: next, Limit: 10_000 }),
      );
      next = answer.NextShardIterator;
      for (const raw of answer.Records ?? []) {
        const record: LocalRecord = {
          shardId,
          sequenceNumber: raw.SequenceNumber!,
          partitionKey: raw.PartitionKey!,
          data: Buffer.from(raw.Data ?? new Uint8Array()),
          arrivedAt: raw.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
        };
        observer.read(record);
        if (
          !passes(
            this.patterns,
            filterView({ ...record, approximateArrivalTimestamp: record.arrivedAt / 1000 }),
          )
        ) {
          observer.filteredOut(record);
          continue;
        }
        this.inFlight++;
        lanes[laneOf(record.partitionKey, lanes.length)]!.push(record);
      }
      if (!answer.Records?.length) await sleep(this.options.pollMs ?? 1000);
    }
  }

  private async process(lane: Lane): Promise<void> {
    const windowMs = this.mapping.maximumBatchingWindowInSeconds * 1000;
    let firstSeenAt: number | undefined;
    while (this.running) {
      if (!lane.length) {
        firstSeenAt = undefined;
        await lane.next();
        continue;
      }
      firstSeenAt ??= Date.now();
      if (lane.length < this.mapping.batchSize && Date.now() - firstSeenAt < windowMs) {
        await sleep(Math.min(20, windowMs));
        continue;
      }
      const batch = lane.take(this.mapping.batchSize);
      firstSeenAt = undefined;
      const started = Date.now();
      await this.runBatch(batch);
      this.longestBatchMs = Math.max(this.longestBatchMs, Date.now() - started);
      this.inFlight -= batch.length;
    }
  }

  /** One batch until it is done or discarded, retried, bisected and checkpointed as Lambda does. */
  private async runBatch(batch: readonly LocalRecord[]): Promise<void> {
    const { observer } = this.options;
    const work: Work[] = [{ records: batch, retries: 0 }];
    while (work.length && this.running) {
      const { records, retries } = work.shift()!;
      const maxAge = this.mapping.maximumRecordAgeInSeconds;
      const expired =
        maxAge < 0 ? [] : records.filter((record) => Date.now() - record.arrivedAt > maxAge * 1000);
      if (expired.length) await this.discard(expired, "RecordAgeExceeded", retries, undefined);
      const current = records.filter((record) => !expired.includes(record));
      if (!current.length) continue;

      const event = this.event(current);
      const result = await this.options.invoke(event);
      let failedFrom: number;
      let functionError: string | undefined;
      if (result.ok) {
        failedFrom = this.checkpoint(current, result.result);
        if (failedFrom === current.length) {
          observer.delivered(current, Date.now());
          continue;
        }
        const failed = new Set(failedIds(result.result));
        observer.delivered(
          current.filter((record, index) => index < failedFrom || !failed.has(record.sequenceNumber)),
          Date.now(),
        );
      } else {
        functionError = `${result.errorType}: ${result.errorMessage}`;
        failedFrom = 0;
        if (this.mapping.bisectBatchOnFunctionError && current.length > 1) {
          const half = Math.ceil(current.length / 2);
          observer.retried(current);
          work.unshift(
            { records: current.slice(0, half), retries },
            { records: current.slice(half), retries },
          );
          await sleep(this.options.retryDelayMs ?? 100);
          continue;
        }
      }
      const rest = current.slice(failedFrom);
      const limit = this.mapping.maximumRetryAttempts;
      if (limit >= 0 && retries + 1 > limit) {
        await this.discard(rest, "RetryAttemptsExhausted", retries + 1, functionError, event);
        continue;
      }
      observer.retried(rest);
      work.unshift({ records: rest, retries: retries + 1 });
      await sleep(this.options.retryDelayMs ?? 100);
    }
  }

  /** Index of the first record to retry: the lowest failed sequence number; `length` when none failed. */
  private checkpoint(records: readonly LocalRecord[], response: unknown): number {
    if (!this.mapping.reportBatchItemFailures) return records.length;
    const ids = failedIds(response);
    if (ids === undefined) return records.length;
    let lowest = records.length;
    for (const id of ids) {
      const index = records.findIndex((record) => record.sequenceNumber === id);
      if (index < 0) return 0; // empty, malformed or unknown identifier: the whole batch failed
      lowest = Math.min(lowest, index);
    }
    return lowest;
  }

  private event(records: readonly LocalRecord[]) {
    const streamArn = this.mapping.eventSourceArn.replace(/\/consumer\/.*$/, "");
    return {
      Records: records.map((record) => ({
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: record.partitionKey,
          sequenceNumber: record.sequenceNumber,
          data: record.data.toString("base64"),
          approximateArrivalTimestamp: record.arrivedAt / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${record.shardId}:${record.sequenceNumber}`,
        eventName: "aws:kinesis:record",
        invokeIdentityArn: `arn:aws:iam::${this.mapping.account}:role/${this.mapping.functionName}`,
        awsRegion: this.options.region,
        eventSourceARN: streamArn,
      })),
    };
  }

  private async discard(
    records: readonly LocalRecord[],
    condition: DiscardCondition,
    invokeCount: number,
    functionError: string | undefined,
    payload: unknown = this.event(records),
  ): Promise<void> {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const invocationRecord = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:${this.options.region}:${this.mapping.account}:function:${this.mapping.functionName}`,
        condition,
        approximateInvokeCount: invokeCount,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: functionError ?? "" },
      version: "1.0",
      timestamp: new Date().toISOString(),
      KinesisBatchInfo: {
        shardId: first.shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(first.arrivedAt).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.arrivedAt).toISOString(),
        batchSize: records.length,
        streamArn: this.mapping.eventSourceArn,
      },
      payload: JSON.stringify(payload),
    };
    await this.options.destination(invocationRecord, first.shardId);
    this.options.observer.deadLettered(records, condition, invocationRecord);
  }
}

/** The sequence numbers a partial batch response names; undefined when it names none. */
function failedIds(response: unknown): string[] | undefined {
  const failures = (response as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)
    ?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  return failures.map((failure) =>
    typeof failure?.itemIdentifier === "string" ? failure.itemIdentifier : "",
  );
}

export function laneOf(partitionKey: string, lanes: number): number {
  return lanes <= 1 ? 0 : createHash("md5").update(partitionKey).digest().readUInt32BE(0) % lanes;
}

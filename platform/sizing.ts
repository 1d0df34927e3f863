import type { Capacity } from "./declarations";

/** Per-shard limits of a provisioned stream (docs/aws-facts.md#kinesis-data-streams). */
export const ShardLimits = {
  writeMiBps: 1,
  writeRecordsPerSecond: 1000,
  readMiBps: 2,
  /** GetRecords calls per second per shard, shared by every standard consumer. */
  getRecordsPerSecond: 5,
} as const;

/**
 * Standard consumers a stream may have: Lambda polls every shard once a second per event source
 * mapping (docs/aws-facts.md#lambda-event-source-mappings-for-kinesis), and a shard serves 5
 * GetRecords calls a second to all of them together; more consumers throttle each other.
 */
export const MAX_STANDARD_CONSUMERS = ShardLimits.getRecordsPerSecond;

/**
 * Share of a shard's 2 MiB/s read capacity that standard consumers may use at the declared peak.
 * The rest is kept for a consumer that replays (from TRIM_HORIZON or a timestamp) or catches up
 * after an outage: it reads faster than the producer writes only if the shard has room for it.
 */
export const READ_HEADROOM = 0.5;

/**
 * Default shards per account and region (Kinesis quotas: 500 in us-east-1, us-west-2 and
 * eu-west-1, 200 elsewhere; raised on request). docs/aws-facts.md.
 */
export function accountShardQuota(region: string): number {
  return ["us-east-1", "us-west-2", "eu-west-1"].includes(region) ? 500 : 200;
}

/** Default write maximum of one on-demand stream (docs/aws-facts.md). */
export const OnDemandLimits = { writeMiBps: 200, writeRecordsPerSecond: 200_000 } as const;

/**
 * The fewest shards that carry the declared peak: write bytes, write records, and the reads of
 * every standard consumer (each reads the whole stream and they share 2 MiB/s per shard, of which
 * {@link READ_HEADROOM} is used at peak; enhanced fan-out consumers have their own throughput and
 * do not count).
 */
export function requiredShards(
  capacity: Extract<Capacity, { mode: "provisioned" }>,
  standardConsumers: number,
): number {
  return Math.max(
    1,
    Math.ceil(capacity.writeMiBps / ShardLimits.writeMiBps),
    Math.ceil(capacity.writeRecordsPerSecond / ShardLimits.writeRecordsPerSecond),
    Math.ceil((capacity.writeMiBps * standardConsumers) / (ShardLimits.readMiBps * READ_HEADROOM)),
  );
}

/** Iterator age beyond which records risk expiring unread: half the stream's retention. */
export function iteratorAgeThresholdMs(retentionHours: number): number {
  return (retentionHours * 3600 * 1000) / 2;
}

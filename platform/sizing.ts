import type { Capacity } from "./declarations";

/** Per-shard limits of a provisioned stream (docs/aws-facts.md#kinesis-data-streams). */
export const ShardLimits = { writeMiBps: 1, writeRecordsPerSecond: 1000, readMiBps: 2 } as const;

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
 * every standard consumer (each reads the whole stream and they share 2 MiB/s per shard; enhanced
 * fan-out consumers have their own throughput and do not count).
 */
export function requiredShards(
  capacity: Extract<Capacity, { mode: "provisioned" }>,
  standardConsumers: number,
): number {
  return Math.max(
    1,
    Math.ceil(capacity.writeMiBps / ShardLimits.writeMiBps),
    Math.ceil(capacity.writeRecordsPerSecond / ShardLimits.writeRecordsPerSecond),
    Math.ceil((capacity.writeMiBps * standardConsumers) / ShardLimits.readMiBps),
  );
}

/** Iterator age beyond which records risk expiring unread: half the stream's retention. */
export function iteratorAgeThresholdMs(retentionHours: number): number {
  return (retentionHours * 3600 * 1000) / 2;
}

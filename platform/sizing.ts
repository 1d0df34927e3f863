import type { Capacity } from "./declarations";

/** Per-shard limits of a provisioned stream (docs/aws-facts.md#kinesis-data-streams). */
export const ShardLimits = { writeMiBps: 1, writeRecordsPerSecond: 1000, readMiBps: 2 } as const;

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

import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { columnName, EVENT_DATE } from "../platform/columns";
import { env } from "./env";
import { logger } from "./observability";

/**
 * Firehose's transformation of a stream product's records before they are written as Parquet
 * through the product's Glue table: the CloudEvents envelope becomes one flat row (`event_id`,
 * `event_type`, `event_time`, then each payload field under its column name), timestamps become
 * epoch milliseconds (the one format Firehose's Hive JSON deserializer reads without ambiguity),
 * and the partition values travel as metadata for dynamic partitioning. Hand-written: Firehose's
 * own processors cannot flatten a nested object, and the mapping must be the one
 * `platform/columns.ts` derives the table from.
 *
 * A record that is not an envelope is returned `ProcessingFailed`: Firehose writes it, untouched,
 * under the error output prefix, so nothing is dropped.
 */

/** Partition column → the field it is read from (`time` for `event_date`, else a payload field). */
export type PartitionFields = Readonly<Record<string, string>>;

/** Payload fields that hold timestamps, by column name (converted to epoch milliseconds). */
export type TimestampColumns = readonly string[];

export class LandingRecordError extends Error {
  override readonly name = "LandingRecordError";
}

const millis = (value: unknown, column: string): number => {
  const parsed = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(parsed)) throw new LandingRecordError(`${column} is not a date-time: ${String(value)}`);
  return parsed;
};

/** One envelope as a flat row and its partition values. Throws {@link LandingRecordError}. */
export function landingRow(
  envelope: unknown,
  partitions: PartitionFields,
  timestamps: TimestampColumns,
): { row: Record<string, unknown>; partitionKeys: Record<string, string> } {
  if (typeof envelope !== "object" || envelope === null) throw new LandingRecordError("not a JSON object");
  const { id, type, time, data } = envelope as Record<string, unknown>;
  if (typeof id !== "string" || typeof type !== "string") {
    throw new LandingRecordError("not a CloudEvents envelope (id and type are required)");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new LandingRecordError(`event ${id}: data is not an object`);
  }
  const row: Record<string, unknown> = { event_id: id, event_type: type, event_time: millis(time, "time") };
  for (const [field, value] of Object.entries(data)) {
    const column = columnName(field);
    row[column] = timestamps.includes(column) && value !== null ? millis(value, field) : value;
  }
  const partitionKeys: Record<string, string> = {};
  for (const [column, field] of Object.entries(partitions)) {
    const value =
      column === EVENT_DATE.name
        ? new Date(row.event_time as number).toISOString().slice(0, 10)
        : (data as Record<string, unknown>)[field];
    if (value === undefined || value === null || value === "") {
      throw new LandingRecordError(`event ${id}: no value for partition ${column}`);
    }
    partitionKeys[column] = String(value);
    delete row[column];
  }
  return { row, partitionKeys };
}

/** Transforms one Firehose batch; every record gets a result, none is dropped. */
export function transformBatch(
  event: FirehoseTransformationEvent,
  partitions: PartitionFields,
  timestamps: TimestampColumns,
): FirehoseTransformationResult {
  return {
    records: event.records.map((record) => {
      try {
        const envelope: unknown = JSON.parse(Buffer.from(record.data, "base64").toString("utf8"));
        const { row, partitionKeys } = landingRow(envelope, partitions, timestamps);
        return {
          recordId: record.recordId,
          result: "Ok" as const,
          data: Buffer.from(JSON.stringify(row) + "\n").toString("base64"),
          metadata: { partitionKeys },
        };
      } catch (error) {
        logger.warn("record not landed", { recordId: record.recordId, error: (error as Error).message });
        return { recordId: record.recordId, result: "ProcessingFailed" as const, data: record.data };
      }
    }),
  };
}

let configuration: { partitions: PartitionFields; timestamps: TimestampColumns } | undefined;

/** The Lambda handler: PARTITION_FIELDS and TIMESTAMP_COLUMNS are set by `DataProductDomain`. */
export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  configuration ??= {
    partitions: JSON.parse(env("PARTITION_FIELDS")) as PartitionFields,
    timestamps: JSON.parse(env("TIMESTAMP_COLUMNS")) as TimestampColumns,
  };
  return transformBatch(event, configuration.partitions, configuration.timestamps);
};

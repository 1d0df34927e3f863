import { type Contract, currentVersion, eventJsonSchema, type JsonSchema } from "./contract";

/**
 * The one derivation of columns from a contract. Every schema that stores a contract's payloads in
 * columns starts here: the Glue tables of at-rest products (`glueType`), their LF-tags (`pii`) and
 * the Personalize dataset schemas (`components/personalize/schemas.ts` maps a kind to Avro).
 */

/** What a payload field holds, independent of where it is stored. */
export const FieldKind = {
  String: "string",
  Boolean: "boolean",
  /** An integer whose declared bounds fit in 32 bits. */
  Int: "int",
  Long: "long",
  Double: "double",
  /** A string with `format: date-time`. */
  Timestamp: "timestamp",
  StringList: "string-list",
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

export class ColumnTypeError extends Error {
  override readonly name = "ColumnTypeError";
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/**
 * The kind of one contract field. Throws {@link ColumnTypeError} prefixed with `where` for what no
 * column can hold: unions, nested objects and arrays of anything but strings.
 */
export function fieldKind(field: JsonSchema, where: string): FieldKind {
  const types = Array.isArray(field.type) ? field.type.filter((t) => t !== "null") : [field.type];
  if (field.anyOf || types.length !== 1) throw new ColumnTypeError(`${where}: unions have no column type`);
  switch (types[0]) {
    case "string":
      return field.format === "date-time" ? FieldKind.Timestamp : FieldKind.String;
    case "boolean":
      return FieldKind.Boolean;
    case "integer": {
      const min = typeof field.minimum === "number" ? field.minimum : -Infinity;
      const max = typeof field.maximum === "number" ? field.maximum : Infinity;
      return min >= INT_MIN && max <= INT_MAX ? FieldKind.Int : FieldKind.Long;
    }
    case "number":
      return FieldKind.Double;
    case "array":
      if (field.items?.type !== "string") {
        throw new ColumnTypeError(`${where}: only arrays of strings can be stored`);
      }
      return FieldKind.StringList;
    default:
      throw new ColumnTypeError(`${where}: type ${String(types[0])} has no column type`);
  }
}

/** Marks a contract field as personal data: `z.string().meta(PII)`. It is published in the JSON Schema. */
export const PII = { pii: true } as const;

/** True when the contract marks the field as personal data. */
export const isPii = (field: JsonSchema): boolean => field.pii === true;

/** Hive/Glue type of each kind, as Athena and Firehose's Parquet conversion read it. */
export const GLUE_TYPES: Readonly<Record<FieldKind, string>> = {
  string: "string",
  boolean: "boolean",
  int: "int",
  long: "bigint",
  double: "double",
  timestamp: "timestamp",
  "string-list": "array<string>",
};

/** One column of an at-rest table. */
export interface Column {
  /** snake_case of the payload field (`userId` → `user_id`); Glue lower-cases names anyway. */
  readonly name: string;
  /** The payload field (or envelope attribute) it is read from. */
  readonly field: string;
  readonly kind: FieldKind;
  /** Absent from some rows: optional in, or missing from, some of the event types stored. */
  readonly nullable: boolean;
  readonly pii: boolean;
}

/** `userId` → `user_id`, `durationMs` → `duration_ms`. */
export const columnName = (field: string): string =>
  field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/**
 * Columns every at-rest table starts with, from the CloudEvents envelope of each record: its id
 * (for deduplication), type and time. `event_date` (the UTC date of `time`) is the default partition.
 */
export const ENVELOPE_COLUMNS: readonly Column[] = [
  { name: "event_id", field: "id", kind: FieldKind.String, nullable: false, pii: false },
  { name: "event_type", field: "type", kind: FieldKind.String, nullable: false, pii: false },
  { name: "event_time", field: "time", kind: FieldKind.Timestamp, nullable: false, pii: false },
];
export const EVENT_DATE: Column = {
  name: "event_date",
  field: "time",
  kind: FieldKind.String,
  nullable: false,
  pii: false,
};

/**
 * The columns of a table holding the payloads of `eventTypes` (the current version's event types
 * by default): the envelope columns, then each payload field once, in first-seen order. Throws
 * {@link ColumnTypeError} naming contract, event type and field when two event types disagree on a
 * field's kind, or a field has no column type.
 */
export function contractColumns(contract: Contract, eventTypes?: readonly string[]): Column[] {
  const events = currentVersion(contract).events;
  const types = eventTypes ?? Object.keys(events);
  const columns = new Map<string, Column & { where: string; seen: number }>();
  for (const type of types) {
    const schema = events[type];
    if (!schema) throw new ColumnTypeError(`${contract.name} has no event type ${type}`);
    const payload = eventJsonSchema(schema);
    for (const [field, definition] of Object.entries(payload.properties ?? {})) {
      const where = `${contract.name} ${type}.${field}`;
      const kind = fieldKind(definition, where);
      const required = (payload.required ?? []).includes(field);
      const previous = columns.get(field);
      if (previous && previous.kind !== kind) {
        throw new ColumnTypeError(`${where} is ${kind} but ${previous.where} is ${previous.kind}`);
      }
      columns.set(field, {
        name: columnName(field),
        field,
        kind,
        nullable: (previous?.nullable ?? false) || !required,
        pii: (previous?.pii ?? false) || isPii(definition),
        where: previous?.where ?? where,
        seen: (previous?.seen ?? 0) + 1,
      });
    }
  }
  const payloadColumns = [...columns.values()].map(({ where: _where, seen, ...column }) => ({
    ...column,
    // A field some event types lack is null in their rows.
    nullable: column.nullable || seen < types.length,
  }));
  return [...ENVELOPE_COLUMNS, ...payloadColumns];
}

import { ColumnTypeError, FieldKind, fieldKind } from "../../platform/columns";
import { type Contract, currentVersion, eventJsonSchema, type JsonSchema } from "../../platform/contract";

/** Avro primitives Amazon Personalize accepts in a dataset schema. */
export const AvroPrimitive = {
  string: "string",
  int: "int",
  long: "long",
  float: "float",
  double: "double",
} as const;
export type AvroPrimitive = (typeof AvroPrimitive)[keyof typeof AvroPrimitive];

export interface AvroField {
  readonly name: string;
  readonly type: AvroPrimitive | readonly ["null", AvroPrimitive];
  readonly categorical?: true;
}

export type DatasetSchemaName = "Users" | "Items" | "Interactions";

/** A Personalize dataset schema: a flat Avro record named after its dataset type. */
export interface PersonalizeAvroSchema {
  readonly type: "record";
  readonly name: DatasetSchemaName;
  readonly namespace: "com.amazonaws.personalize.schema";
  readonly fields: readonly AvroField[];
  readonly version: "1.0";
}

export class AvroSchemaError extends Error {
  override readonly name = "AvroSchemaError";
}

/** One event type whose payloads become rows of a dataset. */
export interface RowSource {
  readonly contract: Contract;
  readonly event: string;
}

/**
 * One column and where its values come from. `from` is either one payload field read from every
 * source or a payload field per source key; a source without an entry leaves the column null.
 */
export interface ColumnSpec {
  readonly name: string;
  readonly from?: string | Readonly<Record<string, string>>;
  /** A column not read from the payload (EVENT_TYPE, CONTENT_TYPE): its Avro type. */
  readonly fixed?: AvroPrimitive;
  readonly fixedNullable?: boolean;
  readonly categorical?: boolean;
  /** Personalize's reserved columns: must be present in every row and have this type. */
  readonly required?: AvroPrimitive;
}

interface Derived {
  readonly type: AvroPrimitive;
  /** Values that can be absent even when the field is required (an empty array). */
  readonly canBeEmpty: boolean;
}

/** Avro type of each field kind (`platform/columns.ts`, the one derivation from contracts). */
const AVRO_TYPES: Readonly<Record<FieldKind, AvroPrimitive>> = {
  string: "string",
  // Personalize trains on neither booleans nor arrays: "True" / "False", and `|`-joined strings.
  boolean: "string",
  "string-list": "string",
  int: "int",
  long: "long",
  double: "double",
  // Personalize's timestamps are epoch seconds.
  timestamp: "long",
};

/** Maps one contract field to the Avro type of its column, through its {@link FieldKind}. */
export function avroTypeOf(field: JsonSchema, where: string): Derived {
  let kind: FieldKind;
  try {
    kind = fieldKind(field, where);
  } catch (error) {
    if (error instanceof ColumnTypeError) throw new AvroSchemaError(error.message, { cause: error });
    throw error;
  }
  const canBeEmpty =
    kind === FieldKind.StringList && !(typeof field.minItems === "number" && field.minItems > 0);
  return { type: AVRO_TYPES[kind], canBeEmpty };
}

function payloadSchema(source: RowSource): JsonSchema {
  const schema = currentVersion(source.contract).events[source.event];
  if (!schema) throw new AvroSchemaError(`${source.contract.name} has no event type ${source.event}`);
  return eventJsonSchema(schema);
}

/**
 * Builds a Personalize schema from row sources and column specs. Throws {@link AvroSchemaError}
 * naming the contract, event type and field when a field is missing, sources disagree on a
 * column's type, or a reserved column has the wrong type or can be empty.
 */
export function deriveAvroSchema(
  name: DatasetSchemaName,
  sources: Readonly<Record<string, RowSource>>,
  columns: readonly ColumnSpec[],
): PersonalizeAvroSchema {
  const payloads = Object.fromEntries(
    Object.entries(sources).map(([key, source]) => [key, payloadSchema(source)]),
  );
  const fields = columns.map((column): AvroField => {
    let type = column.fixed;
    let nullable = column.fixedNullable ?? false;
    let firstSource = "";
    if (!type) {
      for (const [key, source] of Object.entries(sources)) {
        const fieldName = typeof column.from === "string" ? column.from : column.from?.[key];
        if (!fieldName) {
          nullable = true;
          continue;
        }
        const at = `${source.contract.name} ${source.event}.${fieldName}`;
        const where = `${name}.${column.name}: ${at}`;
        const payload = payloads[key]!;
        const field = payload.properties?.[fieldName];
        if (!field) throw new AvroSchemaError(`${where} does not exist`);
        const derived = avroTypeOf(field, where);
        if (type && derived.type !== type) {
          throw new AvroSchemaError(`${where} is ${derived.type} but ${firstSource} is ${type}`);
        }
        type ??= derived.type;
        firstSource ||= at;
        if (derived.canBeEmpty || !(payload.required ?? []).includes(fieldName)) nullable = true;
      }
    }
    if (!type) throw new AvroSchemaError(`${name}.${column.name}: no source provides it`);
    if (column.required && (nullable || type !== column.required)) {
      throw new AvroSchemaError(
        `${name}.${column.name} must be a required ${column.required} in every source, is ${nullable ? "optional " : ""}${type}${firstSource ? ` (${firstSource})` : ""}`,
      );
    }
    if (column.categorical && type !== "string") {
      throw new AvroSchemaError(`${name}.${column.name} is categorical and must be a string, is ${type}`);
    }
    return {
      name: column.name,
      type: nullable ? ["null", type] : type,
      ...(column.categorical ? { categorical: true as const } : {}),
    };
  });
  return { type: "record", name, namespace: "com.amazonaws.personalize.schema", fields, version: "1.0" };
}

import { z } from "zod";

/**
 * A data product's contract: the event types it carries and their payload schemas, versioned.
 *
 * Versions are listed oldest first; the last one is what producers publish today. Keeping the
 * history in the declaration lets `parseMeshConfig` prove, before anything is deployed, that every
 * version can be read by consumers built against the one before it.
 */
export interface ContractVersion {
  /** Positive integer, increasing by one from version to version. */
  readonly version: number;
  /** Event type (CloudEvents `type`, e.g. `interaction.play`) to the zod schema of its payload. */
  readonly events: Readonly<Record<string, z.ZodObject>>;
}

export interface Contract {
  /** `<domain>.<product>`, used for the schema registry entry and error messages. */
  readonly name: string;
  readonly versions: readonly ContractVersion[];
}

/**
 * The length of a string the way AWS APIs and the contracts count it: in Unicode code points. AWS
 * APIs are modelled in Smithy, whose `@length` trait measures strings in code points
 * (docs/consumer-performance.md cites it), and zod's `min` / `max` count code points too, so a
 * value a contract accepts is never refused by a writer for a length the service would accept.
 * JavaScript's `String.length` counts UTF-16 units (an emoji is two): never use it for a limit.
 */
export function serviceLength(value: string): number {
  let count = 0;
  // A string of n UTF-16 units has between n/2 and n code points: count only when it matters.
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

export function defineContract(name: string, versions: readonly ContractVersion[]): Contract {
  return { name, versions };
}

export function currentVersion(contract: Contract): ContractVersion {
  const last = contract.versions[contract.versions.length - 1];
  if (!last) throw new Error(`contract ${contract.name} has no versions`);
  return last;
}

/** JSON Schema subset we read back from `z.toJSONSchema`. */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  [key: string]: unknown;
}

export function eventJsonSchema(schema: z.ZodObject): JsonSchema {
  return z.toJSONSchema(schema, { target: "draft-7" }) as JsonSchema;
}

/**
 * One contract version as a single zod schema: the envelope with `data` constrained to one of the
 * event payloads, selected by `type`. The registry's JSON Schema is derived from it, so that the
 * registry and {@link parseEnvelope} accept exactly the same events.
 */
export function versionSchema(contract: Contract, version = currentVersion(contract)) {
  const variants = Object.entries(version.events).map(([type, data]) =>
    envelopeSchema.extend({ type: z.literal(type), data }),
  );
  const [first, ...rest] = variants;
  if (!first) throw new Error(`contract ${contract.name} v${version.version} has no event types`);
  return z.discriminatedUnion("type", [first, ...rest]);
}

/**
 * The JSON Schema published to the Glue Schema Registry for one contract version, derived from
 * {@link versionSchema} as an input schema: like zod's objects, its objects accept fields they do
 * not declare, which is what lets a producer add an optional field in a new version without
 * breaking the consumers of the old one (docs/contracts.md).
 */
export function contractJsonSchema(contract: Contract, version = currentVersion(contract)): JsonSchema {
  const schema = z.toJSONSchema(versionSchema(contract, version), {
    target: "draft-7",
    io: "input",
  }) as JsonSchema;
  return { ...schema, title: `${contract.name} v${version.version}` };
}

/** The fields (dotted paths into the payload) that an event type declares, with their JSON types. */
export function contractFields(schema: JsonSchema, prefix = ""): Map<string, JsonSchema> {
  const fields = new Map<string, JsonSchema>();
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    fields.set(path, property);
    if (property.properties) {
      for (const [nested, nestedSchema] of contractFields(property, path)) fields.set(nested, nestedSchema);
    }
  }
  return fields;
}

function typeSignature(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeSignature).sort().join("|");
  const type = Array.isArray(schema.type) ? [...schema.type].sort().join("|") : (schema.type ?? "any");
  return schema.format ? `${type}(${schema.format})` : type;
}

/**
 * Changes from `previous` to `next` that break consumers built against `previous`: a removed event
 * type or field, a field whose type changed, an enum that lost values, or a new required field.
 * Returns one sentence per change, each naming the event type and field.
 */
export function breakingChanges(previous: ContractVersion, next: ContractVersion): string[] {
  const problems: string[] = [];
  for (const [type, previousSchema] of Object.entries(previous.events)) {
    const nextSchema = next.events[type];
    if (!nextSchema) {
      problems.push(`event type ${type} was removed`);
      continue;
    }
    problems.push(...compareObjects(type, "", eventJsonSchema(previousSchema), eventJsonSchema(nextSchema)));
  }
  return problems;
}

function compareObjects(type: string, prefix: string, before: JsonSchema, after: JsonSchema): string[] {
  const problems: string[] = [];
  const beforeProps = before.properties ?? {};
  const afterProps = after.properties ?? {};
  const beforeRequired = new Set(before.required ?? []);
  for (const [key, beforeField] of Object.entries(beforeProps)) {
    const path = prefix + key;
    const afterField = afterProps[key];
    if (!afterField) {
      problems.push(`${type}: field ${path} was removed`);
      continue;
    }
    if (typeSignature(beforeField) !== typeSignature(afterField)) {
      problems.push(
        `${type}: field ${path} changed type from ${typeSignature(beforeField)} to ${typeSignature(afterField)}`,
      );
      continue;
    }
    if (beforeField.enum && afterField.enum) {
      const lost = beforeField.enum.filter((value) => !afterField.enum!.includes(value));
      if (lost.length) problems.push(`${type}: field ${path} no longer allows ${lost.join(", ")}`);
    }
    if (beforeField.properties || afterField.properties) {
      problems.push(...compareObjects(type, `${path}.`, beforeField, afterField));
    }
  }
  for (const key of after.required ?? []) {
    if (!beforeRequired.has(key)) problems.push(`${type}: new required field ${prefix + key}`);
  }
  return problems;
}

/**
 * The envelope every event travels in: CloudEvents 1.0 structured JSON, with the contract version
 * in `dataversion` and the Kinesis partition key in `partitionkey` (CloudEvents partitioning
 * extension). Consumers deduplicate on `id`, which the producer assigns once per event.
 */
export const envelopeSchema = z.object({
  specversion: z.literal("1.0"),
  id: z.string().min(1).max(256),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  dataversion: z.number().int().positive(),
  partitionkey: z.string().min(1).max(256),
  data: z.record(z.string(), z.unknown()),
});

export type Envelope<T = Record<string, unknown>> = Omit<z.infer<typeof envelopeSchema>, "data"> & {
  data: T;
};

export class ContractViolationError extends Error {
  override readonly name = "ContractViolationError";
  constructor(
    message: string,
    readonly issues: readonly z.core.$ZodIssue[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Validates an envelope and its payload against the contract's current version, which by the
 * compatibility rule also reads every earlier version. Throws {@link ContractViolationError}
 * naming the contract, event type and failing fields.
 */
export function parseEnvelope(contract: Contract, value: unknown): Envelope {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) {
    throw new ContractViolationError(
      `${contract.name}: malformed envelope: ${z.prettifyError(envelope.error)}`,
      envelope.error.issues,
    );
  }
  return { ...envelope.data, data: parsePayload(contract, envelope.data.type, envelope.data.data) };
}

/** Validates one event payload of `type` against the contract's current version. */
export function parsePayload(contract: Contract, type: string, payload: unknown): Record<string, unknown> {
  const schema = currentVersion(contract).events[type];
  if (!schema) {
    const known = Object.keys(currentVersion(contract).events).join(", ");
    throw new ContractViolationError(
      `${contract.name}: unknown event type ${type} (expected one of ${known})`,
      [],
    );
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new ContractViolationError(
      `${contract.name}: invalid ${type} event: ${z.prettifyError(parsed.error)}`,
      parsed.error.issues,
    );
  }
  return parsed.data as Record<string, unknown>;
}

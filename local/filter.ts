/**
 * Lambda event filtering for Kinesis records, as documented in
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (syntax) and
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html (Kinesis):
 *
 * - a record is kept when ANY of the mapping's patterns matches (filters are OR-ed);
 * - a pattern matches when EVERY key matches (AND); a key holds a nested pattern or an array of
 *   matchers, any of which may match (OR); a field holding an array matches when any element does;
 * - matchers: a string, number, boolean or null equals the value; `prefix`, `suffix`,
 *   `equals-ignore-case`, `anything-but` (a value, a list, or `{prefix}`), `numeric` (one or two
 *   comparisons), `exists` (`false` matches a missing field);
 * - the record is matched as Lambda shows it to filters: its metadata (`partitionKey`,
 *   `sequenceNumber`, `approximateArrivalTimestamp`, `kinesisSchemaVersion`) and `data`, the
 *   decoded payload when it is JSON. When it is not JSON, a pattern that names `data` does not
 *   match, so the record is dropped (the Kinesis page: "If the data isn't valid JSON ... Lambda
 *   drops the record" when the filter refers to data).
 *
 * No npm package implements Lambda's grammar (EventBridge's ruler is Java; the serverless-offline
 * plugins embed partial copies), so it is implemented here, for the matchers above only: an
 * unknown matcher is an error naming it, never a silent non-match.
 */
export type FilterPattern = Record<string, unknown>;

export function parsePatterns(patterns: readonly string[], where: string): FilterPattern[] {
  return patterns.map((pattern, index) => {
    try {
      const parsed = JSON.parse(pattern) as unknown;
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("not an object");
      check(parsed as FilterPattern, `${where}.filters[${index}]`);
      return parsed as FilterPattern;
    } catch (error) {
      throw new Error(`${where}.filters[${index}]: invalid filter pattern: ${(error as Error).message}`);
    }
  });
}

const MATCHERS = new Set(["prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists"]);

function check(pattern: FilterPattern, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    if (Array.isArray(value)) {
      for (const matcher of value) {
        if (matcher !== null && typeof matcher === "object") {
          const name = Object.keys(matcher as object)[0] ?? "";
          if (!MATCHERS.has(name)) throw new Error(`${path}.${key}: unsupported matcher ${name}`);
        }
      }
    } else if (value !== null && typeof value === "object") {
      check(value as FilterPattern, `${path}.${key}`);
    } else {
      throw new Error(`${path}.${key}: a pattern value must be an array or an object`);
    }
  }
}

/** The view of a Kinesis record that filters see. */
export function filterView(record: {
  partitionKey: string;
  sequenceNumber: string;
  approximateArrivalTimestamp: number;
  data: Buffer;
}): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(record.data.toString("utf8"));
  } catch {
    data = undefined;
  }
  return {
    kinesisSchemaVersion: "1.0",
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
    ...(data !== undefined && { data }),
  };
}

/** True when the record passes: no patterns, or one of them matches. */
export function passes(patterns: readonly FilterPattern[], view: Record<string, unknown>): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matches(pattern, view));
}

function matches(pattern: FilterPattern, value: unknown): boolean {
  const object =
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  return Object.entries(pattern).every(([key, rule]) => {
    const field = object?.[key];
    if (Array.isArray(rule))
      return rule.some((matcher) => matchField(matcher, field, object !== undefined && key in object));
    return (
      field !== undefined &&
      (Array.isArray(field)
        ? field.some((item) => matches(rule as FilterPattern, item))
        : matches(rule as FilterPattern, field))
    );
  });
}

function matchField(matcher: unknown, field: unknown, present: boolean): boolean {
  if (matcher !== null && typeof matcher === "object" && "exists" in matcher) {
    return (matcher as { exists: boolean }).exists === present;
  }
  if (!present) return false;
  const values = Array.isArray(field) ? field : [field];
  return values.some((value) => matchValue(matcher, value));
}

function matchValue(matcher: unknown, value: unknown): boolean {
  if (matcher === null || typeof matcher !== "object") return matcher === value;
  const [name, operand] = Object.entries(matcher)[0]!;
  switch (name) {
    case "prefix":
      return typeof value === "string" && value.startsWith(String(operand));
    case "suffix":
      return typeof value === "string" && value.endsWith(String(operand));
    case "equals-ignore-case":
      return typeof value === "string" && value.toLowerCase() === String(operand).toLowerCase();
    case "anything-but":
      if (operand !== null && typeof operand === "object" && !Array.isArray(operand)) {
        return !matchValue(operand, value);
      }
      return !(Array.isArray(operand) ? operand : [operand]).includes(value);
    case "numeric":
      return typeof value === "number" && numeric(operand as unknown[], value);
    default:
      throw new Error(`unsupported matcher ${name}`);
  }
}

function numeric(comparisons: readonly unknown[], value: number): boolean {
  for (let i = 0; i < comparisons.length; i += 2) {
    const bound = Number(comparisons[i + 1]);
    const ok = {
      "=": value === bound,
      "<": value < bound,
      "<=": value <= bound,
      ">": value > bound,
      ">=": value >= bound,
    }[String(comparisons[i])];
    if (ok === undefined) throw new Error(`unsupported numeric operator ${String(comparisons[i])}`);
    if (!ok) return false;
  }
  return true;
}

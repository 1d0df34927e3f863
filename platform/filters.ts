import type { FieldCondition, FilterRule } from "./declarations";

/**
 * The Lambda event filter pattern of one typed filter rule. Kinesis filters match on `data`, the
 * record's JSON payload, which is the CloudEvents envelope: the event type is `data.type` and the
 * payload fields are under `data.data`.
 */
export function filterPattern(rule: FilterRule): Record<string, unknown> {
  const envelope: Record<string, unknown> = {};
  if (rule.eventTypes) envelope.type = [...rule.eventTypes];
  const payload: Record<string, unknown> = {};
  for (const [path, condition] of Object.entries(rule.where ?? {})) {
    const keys = path.split(".");
    let target = payload;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys[keys.length - 1]!] = matcher(condition);
  }
  if (Object.keys(payload).length) envelope.data = payload;
  return { data: envelope };
}

function matcher(condition: FieldCondition): unknown[] {
  if ("equals" in condition) return [condition.equals];
  if ("anyOf" in condition) return [...condition.anyOf];
  if ("prefix" in condition) return [{ prefix: condition.prefix }];
  if ("numeric" in condition) return [{ numeric: [...condition.numeric] }];
  return [{ exists: condition.exists }];
}

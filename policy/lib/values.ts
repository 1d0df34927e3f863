import * as policy from "@pulumi/policy";
import * as proxy from "@pulumi/policy/proxy";

/**
 * Values that are not known yet (`pulumi preview` of a resource whose input depends on another
 * resource's output). The engine hands policies a proxy that throws `UnknownValueError` when such a
 * value is read; rules never read the proxy directly but take a {@link snapshot}, in which every
 * unknown value is this symbol, and decide explicitly what an unknown value means for them.
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

/** The engine's `UnknownValueError` (exported by @pulumi/policy without a type declaration). */
export interface UnknownValueErrorLike extends Error {
  readonly props: string[];
}
export const UnknownValueError = (
  policy as unknown as { UnknownValueError: new (sentinel: string, props: string[]) => UnknownValueErrorLike }
).UnknownValueError;

const sentinels = proxy as unknown as Record<string, string>;
/** The sentinels the Pulumi wire protocol uses for unknown values (one per kind of value). */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set(
  [
    "unknownBooleanValue",
    "unknownNumberValue",
    "unknownStringValue",
    "unknownArrayValue",
    "unknownAssetValue",
    "unknownArchiveValue",
    "unknownObjectValue",
  ].map((key) => sentinels[key]!),
);
/** The sentinel of an unknown string: what `pulumi.Output` serialises to while it is unknown. */
export const UNKNOWN_STRING = sentinels.unknownStringValue!;

export function isUnknownError(error: unknown): error is UnknownValueErrorLike {
  return error instanceof UnknownValueError;
}

/**
 * An error the engine reports as an advisory "can't run policy ... during preview" diagnostic rather
 * than a failure: rules throw it (through the rule wrapper) when an unknown value could hide a
 * violation. It is the engine's own class, so `pulumi preview` treats it exactly like an unknown value
 * read from the proxy.
 */
export function couldNotCheckError(message: string): UnknownValueErrorLike {
  const error = new UnknownValueError(UNKNOWN_STRING, []);
  error.message = message;
  return error;
}

const SPECIAL_PROXY = "__isSpecialProxy";
const PROXY_TARGET = "__getSpecialProxyTarget";

/**
 * A plain deep copy of resource properties in which every unknown value (a wire-protocol sentinel,
 * whether or not it sits behind the engine's unknown-checking proxy) is {@link UNKNOWN}. Reading it
 * never throws. Snapshots are frozen, and made once per object: every rule reading the same
 * resource's properties (or the same object inside them) gets the same snapshot, which is what
 * keeps a plan's policy check linear in its resources.
 */
export function snapshot(value: unknown): unknown {
  let raw = value;
  if (raw !== null && typeof raw === "object" && (raw as Record<string, unknown>)[SPECIAL_PROXY] === true) {
    raw = (raw as Record<string, unknown>)[PROXY_TARGET];
  }
  if (typeof raw === "string") return UNKNOWN_SENTINELS.has(raw) ? UNKNOWN : raw;
  if (raw === null || typeof raw !== "object") return raw;
  const made = snapshots.get(raw);
  if (made !== undefined) return made;
  let copy: unknown;
  if (Array.isArray(raw)) copy = Object.freeze(raw.map(snapshot));
  else {
    const prototype = Object.getPrototypeOf(raw);
    if (prototype !== Object.prototype && prototype !== null) return raw; // assets, archives
    const fields: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(raw)) fields[key] = snapshot(field);
    copy = Object.freeze(fields);
  }
  snapshots.set(raw, copy);
  return copy;
}

/** Snapshots by the object they copy (plans' inputs are never changed once evaluated). */
const snapshots = new WeakMap<object, unknown>();

/** Walks a path through a snapshot: UNKNOWN as soon as a step is unknown, undefined when absent. */
export function get(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (current === UNKNOWN) return UNKNOWN;
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

/** True when the value, or anything inside it, is unknown. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** A value that may be a single item or a list of them (IAM's `Action`, `Resource`, `Principal.AWS`). */
export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Values that arrive as JSON strings from some sources and as objects from others. */
export function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return snapshot(JSON.parse(value));
  } catch {
    return value;
  }
}

import { isDeepStrictEqual } from "node:util";
import { deployOrder } from "../platform/units";
import type { PlannedResource } from "./evaluate";
import type { SavedPlan } from "./saved-plans";

export interface ResourceChange {
  readonly kind: "add" | "change" | "remove";
  readonly type: string;
  readonly name: string;
  readonly account: string | null;
  /** The unit whose stack holds the resource; null for the stack's own plumbing (providers). */
  readonly unit: string | null;
  /** For a change: the inputs (and options) that differ. */
  readonly fields: readonly string[];
}

export interface PlanDiff {
  readonly changes: readonly ResourceChange[];
  /** The unit stacks the change touches, in the order they must be deployed. */
  readonly order: readonly string[];
}

/** Plumbing every stack has; not a change of the mesh. */
const PLUMBING = new Set(["pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"]);

/**
 * What changes from one plan to the next, resource by resource (matched by URN without the stack
 * name, as Pulumi matches them), with the unit stack each belongs to, and the order in which the
 * touched unit stacks must be deployed: a unit after the units whose stacks it reads (producers
 * after the platform, consumers after their producers), except that a consumer that stops reading
 * a producer goes first, so that the producer never withdraws a grant still in use.
 */
export function diffPlans(before: SavedPlan, after: SavedPlan): PlanDiff {
  const units = [...new Set([...after.units, ...before.units])];
  const index = (plan: SavedPlan) =>
    new Map(plan.resources.filter((r) => !PLUMBING.has(r.type)).map((r) => [logicalUrn(r.urn), r]));
  const old = index(before);
  const next = index(after);
  const unitOf = (plan: SavedPlan) => unitResolver(plan.resources, units);
  const unitBefore = unitOf(before);
  const unitAfter = unitOf(after);

  const changes: ResourceChange[] = [];
  const describe = (
    kind: ResourceChange["kind"],
    r: PlannedResource,
    unit: string | null,
    fields: string[],
  ) => changes.push({ kind, type: r.type, name: r.name, account: r.account, unit, fields });
  for (const [urn, resource] of next) {
    const previous = old.get(urn);
    if (!previous) {
      describe("add", resource, unitAfter(resource), []);
      continue;
    }
    const fields = changedFields(previous, resource);
    if (fields.length) describe("change", resource, unitAfter(resource), fields);
  }
  for (const [urn, resource] of old) {
    if (!next.has(urn)) describe("remove", resource, unitBefore(resource), []);
  }

  const touched = units.filter((unit) => changes.some((c) => c.unit === unit));
  const mustFollow = new Map<string, Set<string>>(touched.map((unit) => [unit, new Set<string>()]));
  for (const unit of touched) {
    const now = after.dependencies[unit] ?? [];
    for (const dependency of now) mustFollow.get(unit)!.add(dependency);
    for (const dropped of (before.dependencies[unit] ?? []).filter((d) => !now.includes(d))) {
      mustFollow.get(dropped)?.add(unit);
    }
  }
  return { changes, order: deployOrder(touched, mustFollow) };
}

/** `urn:pulumi:<stack>::<project>::<types>::<name>` without the stack: the same resource in any stack. */
function logicalUrn(urn: string): string {
  return urn.split("::").slice(1).join("::");
}

function changedFields(before: PlannedResource, after: PlannedResource): string[] {
  const keys = [...new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)])].sort();
  const fields = keys.filter((key) => !isDeepStrictEqual(before.inputs[key], after.inputs[key]));
  for (const option of ["account", "protect", "retainOnDelete"] as const) {
    if (before[option] !== after[option]) fields.push(`(${option})`);
  }
  return fields;
}

/**
 * The unit a resource belongs to: the unit its top-level ancestor is named after (`songs`,
 * `songs-alarms`, `songs-data-key`; the longest unit name that fits wins).
 */
function unitResolver(resources: readonly PlannedResource[], units: readonly string[]) {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const longestFirst = [...units].sort((a, b) => b.length - a.length);
  return (resource: PlannedResource): string | null => {
    let root = resource;
    for (let parent = byUrn.get(root.parent ?? ""); parent && parent.type !== "pulumi:pulumi:Stack";) {
      root = parent;
      parent = byUrn.get(root.parent ?? "");
    }
    return longestFirst.find((unit) => root.name === unit || root.name.startsWith(`${unit}-`)) ?? null;
  };
}

/** The diff as a reviewer reads it: per account, per unit stack, then the deploy order. */
export function formatPlanDiff(diff: PlanDiff, after: SavedPlan, against: string): string {
  const lines = [`changes against ${against}:`];
  if (!diff.changes.length) return `${lines[0]} none`;
  const aliasOf = new Map(Object.entries(after.accounts).map(([alias, id]) => [id, alias]));
  const accounts = [...new Set(diff.changes.map((c) => c.account))];
  const sign = { add: "+", change: "~", remove: "-" } as const;
  for (const account of accounts) {
    const inAccount = diff.changes.filter((c) => c.account === account);
    lines.push("", account ? `${aliasOf.get(account) ?? "?"} (${account})` : "no account");
    for (const unit of [...new Set(inAccount.map((c) => c.unit))]) {
      const mine = inAccount.filter((c) => c.unit === unit);
      const count = (kind: ResourceChange["kind"]) => mine.filter((c) => c.kind === kind).length;
      lines.push(
        `  ${unit ? `unit ${unit}` : "providers"}: ${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove`,
      );
      for (const change of mine) {
        const fields = change.fields.length ? ` (${change.fields.join(", ")})` : "";
        lines.push(`    ${sign[change.kind]} ${change.type} ${change.name}${fields}`);
      }
    }
  }
  lines.push(
    "",
    `deploy order of the unit stacks: ${diff.order.map((unit, i) => `${i + 1}. ${unit}`).join("  ")}`,
  );
  return lines.join("\n");
}

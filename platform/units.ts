import { PLATFORM_UNIT } from "./config";
import type { Mesh } from "./mesh";

/**
 * The units whose stacks each unit's stack reads through stack references, when every unit has its
 * own stack: a producer reads the platform's (the auditor role), a consumer reads the producers' it
 * subscribes to (stream, key, registered consumers). The program's stack references follow exactly
 * this rule; the deploy order of a change is derived from it.
 */
export function unitDependencies(mesh: Mesh): Map<string, Set<string>> {
  const dependencies = new Map<string, Set<string>>([[PLATFORM_UNIT, new Set()]]);
  for (const domain of mesh.domains) {
    const needs = new Set<string>();
    if (domain.products.length) needs.add(PLATFORM_UNIT);
    for (const subscription of domain.subscriptions) {
      if (subscription.product.domain !== domain.name) needs.add(subscription.product.domain);
    }
    dependencies.set(domain.name, needs);
  }
  return dependencies;
}

/**
 * Orders units so that each comes after the units it must follow (`after.get(unit)`); ties keep
 * the order of `units`. Throws on a cycle, naming the units in it.
 */
export function deployOrder(
  units: readonly string[],
  after: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const wanted = new Set(units);
  const visit = (unit: string, path: readonly string[]) => {
    if (placed.has(unit)) return;
    if (visiting.has(unit))
      throw new Error(`deploy order: units depend on each other: ${[...path, unit].join(" -> ")}`);
    visiting.add(unit);
    for (const before of after.get(unit) ?? []) if (wanted.has(before)) visit(before, [...path, unit]);
    visiting.delete(unit);
    placed.add(unit);
    ordered.push(unit);
  };
  for (const unit of units) visit(unit, []);
  return ordered;
}

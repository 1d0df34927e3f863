import type { StackConfig } from "./config";

/** Tag keys the mesh relies on: ABAC conditions, the policy pack and the cost report read them. */
export const TagKeys = {
  Domain: "mesh:domain",
  Product: "mesh:product",
  Classification: "mesh:classification",
  Environment: "mesh:environment",
  ManagedBy: "mesh:managed-by",
} as const;

/**
 * Tags for every taggable resource of a unit. Passed explicitly to each resource (not only as the
 * provider's defaultTags) so that ABAC tags are visible to tests and the policy pack.
 */
export function unitTags(config: StackConfig, unit: string): Record<string, string> {
  return { [TagKeys.Domain]: unit, [TagKeys.Environment]: config.environment, [TagKeys.ManagedBy]: "pulumi" };
}

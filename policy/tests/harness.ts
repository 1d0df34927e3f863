import type { PolicyPackConfig, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { evaluatePlan, type EvaluationResult, type PlanResource } from "../evaluate";
import { ACCOUNTS, LAKE_ACCESS } from "./fixtures";

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** Runs one policy over the resources, exactly as evaluatePlan (and so as the engine) would. */
export function run(
  policy: AnyPolicy,
  resources: readonly PlanResource[],
  config?: PolicyPackConfig,
): Promise<EvaluationResult> {
  return evaluatePlan(
    { stack: "test", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources },
    { policies: [policy], config },
  );
}

export interface Outcome {
  /** Violations at the policy's level, neither exempted nor could-not-check. */
  readonly violations: string[];
  /** Advisory "could not be checked during preview" results. */
  readonly couldNotCheck: string[];
  readonly exempted: { message: string; reason?: string; name?: string }[];
}

export async function outcome(
  policy: AnyPolicy,
  resources: readonly PlanResource[],
  config?: PolicyPackConfig,
): Promise<Outcome> {
  const result = await run(policy, resources, config);
  return {
    violations: result.violations.filter((v) => !v.exempted && !v.couldNotCheck).map((v) => v.message),
    couldNotCheck: result.violations.filter((v) => v.couldNotCheck).map((v) => v.message),
    exempted: result.violations
      .filter((v) => v.exempted)
      .map(({ message, reason, name }) => ({ message, reason, name })),
  };
}

/** The violation messages of one policy over the resources (could-not-checks included, to catch them). */
export async function messages(
  policy: AnyPolicy,
  resources: readonly PlanResource[],
  config?: PolicyPackConfig,
): Promise<string[]> {
  const { violations, couldNotCheck, exempted } = await outcome(policy, resources, config);
  return [...violations, ...couldNotCheck, ...exempted.map((e) => `exempted: ${e.message}`)];
}

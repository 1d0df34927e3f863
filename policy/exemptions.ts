import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import type { Exemption } from "./lib/settings";

/**
 * Exemptions are declared per policy in the policy pack config, each naming a resource and giving a
 * reason (the schema requires both, so an exemption without a reason is rejected as invalid config):
 *
 * ```json
 * { "iam-no-wildcard-resource": {
 *     "exemptions": [{ "resource": "*recommendations-events*", "reason": "..." }] } }
 * ```
 *
 * An exempted violation is never dropped: under `pulumi preview` it is recorded here and reported
 * by the advisory {@link exemptedViolations} policy at the end of the run ("Exempted from <policy>:
 * <message> Reason: <reason>"); `evaluatePlan` lists it as `exempted` with its reason. Disabling a
 * rule (enforcementLevel "disabled") is not an exemption: it turns the rule off for every resource.
 */
export interface ExemptedViolation {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly urn?: string;
  readonly name?: string;
  readonly message: string;
  readonly reason: string;
}

/** The logical name of a resource from its URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export const nameOfUrn = (urn: string): string => urn.split("::").pop() ?? urn;

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/**
 * The exemption covering a violation: `resource` equals the URN, or is a glob (`*`, `?`) matching the
 * URN or the resource's logical name. A violation of the whole stack (no URN) is only covered by `*`.
 */
export function findExemption(
  exemptions: readonly Exemption[],
  urn: string | undefined,
  name: string | undefined,
): Exemption | undefined {
  return exemptions.find((exemption) => {
    if (exemption.resource === "*") return true;
    if (urn === undefined) return false;
    if (exemption.resource === urn) return true;
    const pattern = globToRegExp(exemption.resource);
    return pattern.test(urn) || (name !== undefined && pattern.test(name));
  });
}

/**
 * Where the rules send exempted violations. `evaluatePlan` attaches its own sink to the args it
 * builds (under this symbol); under the Pulumi engine there is none, and they go to the ledger.
 */
export const EXEMPTION_SINK: unique symbol = Symbol.for("mesh-guardrails.exemption-sink");
export type ExemptionSink = (violation: ExemptedViolation) => void;

const ledger = new Map<string, ExemptedViolation>();

/** Records an exempted violation for {@link exemptedViolations} (engine runs only). */
export function recordExempted(violation: ExemptedViolation): void {
  ledger.set(`${violation.policy}\u0000${violation.urn ?? ""}\u0000${violation.message}`, violation);
}

/** The exempted violations recorded so far in this process (engine runs only). */
export const recordedExemptions = (): readonly ExemptedViolation[] => [...ledger.values()];

/** Forgets the ledger (tests). */
export const clearRecordedExemptions = (): void => ledger.clear();

export const formatExempted = (violation: ExemptedViolation): string =>
  `Exempted from ${violation.policy}: ${violation.message} Reason: ${violation.reason}`;

/**
 * Reports every exempted violation of the run, so that an exemption stays visible in the preview.
 * The engine analyses each resource as it is registered and the stack last, so this stack policy,
 * listed last in the pack, sees the violations every rule exempted. `evaluatePlan` does not run it:
 * it returns exempted violations itself.
 */
export const exemptedViolations: StackValidationPolicy = {
  name: "exempted-violations",
  description: "Lists violations of other policies that an exemption with a reason covers.",
  enforcementLevel: "advisory",
  validateStack: (_args, reportViolation) => {
    for (const violation of recordedExemptions()) reportViolation(formatExempted(violation), violation.urn);
  },
};

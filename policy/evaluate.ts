import {
  unknownCheckingProxy,
  type EnforcementLevel,
  type Policies,
  type PolicyConfigSchema,
  type PolicyPackConfig,
  type PolicyProviderResource,
  type PolicyResource,
  type PolicyResourceOptions,
  type ResourceValidation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationArgs,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { z } from "zod";
import { EXEMPTION_SINK, exemptedViolations, nameOfUrn, type ExemptedViolation } from "./exemptions";
import { PolicyConfigError, parseSettings, settingSchemas, type SettingKey } from "./lib/settings";
import { T } from "./lib/types";
import { isUnknownError } from "./lib/values";
import { rulePolicies } from "./policies";

/** One resource of an offline plan (`npm run plan`): its inputs as the program resolved them. */
export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The 12-digit account of the resource's provider; null for providers, components and the stack. */
  readonly account: string | null;
  readonly parent: string | null;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly inputs: Record<string, unknown>;
  /** The physical id the offline plan's mock runtime assigned; null for components and the stack. */
  readonly id?: string | null;
  /** Optional: URNs the resource depends on, and per input property. */
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export interface Plan {
  readonly stack: string;
  /** Account alias -> 12-digit id: the mesh's accounts. */
  readonly accounts: Readonly<Record<string, string>>;
  readonly resources: readonly PlanResource[];
  /**
   * The declaration's tables at rest and at-rest subscriptions (the `lakeFormationAccess` setting),
   * so that lakeformation-grants-declared can check grants against it.
   */
  readonly lakeFormationAccess?: unknown;
  /** The contract of each mesh stream (the `streamContracts` setting), for lambda-esm-filters-contract. */
  readonly streamContracts?: unknown;
}

const planSchema = z.object({
  stack: z.string().min(1),
  accounts: z.record(z.string(), z.string().regex(/^\d{12}$/, "must be a 12-digit account id")),
  resources: z.array(
    z.object({
      urn: z.string().startsWith("urn:pulumi:", "must be a Pulumi URN"),
      type: z.string().min(1),
      name: z.string().min(1),
      account: z.string().nullable(),
      parent: z.string().nullable(),
      protect: z.boolean(),
      retainOnDelete: z.boolean(),
      inputs: z.record(z.string(), z.unknown()),
      id: z.string().nullable().optional(),
      dependencies: z.array(z.string()).optional(),
      propertyDependencies: z.record(z.string(), z.array(z.string())).optional(),
    }),
  ),
  lakeFormationAccess: z.unknown().optional(),
  streamContracts: z.unknown().optional(),
});

/** A plan file that is not a plan, with every issue and its path. */
export class PlanError extends Error {
  override readonly name = "PlanError";
  constructor(
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`malformed plan: ${issues.join("; ")}`, options);
  }
}

/** Validates a parsed plan file; throws {@link PlanError} listing every problem. */
export function parsePlan(json: unknown): Plan {
  const result = planSchema.safeParse(json);
  if (!result.success) {
    throw new PlanError(
      result.error.issues.map(
        (issue) => `${issue.path.length ? issue.path.join(".") : "plan"}: ${issue.message}`,
      ),
    );
  }
  return result.data;
}

export interface EvaluateOptions {
  /**
   * Policy pack config in the format of `pulumi preview --policy-pack-config <file>`:
   * `{ "<policy>": "<enforcementLevel>" | { enforcementLevel?, ...settings } }`.
   */
  readonly config?: PolicyPackConfig;
  /** The policies to run. @default the pack's rules (policies.ts) */
  readonly policies?: Policies;
}

export interface Violation {
  readonly policy: string;
  readonly enforcementLevel: "mandatory" | "advisory";
  /** The resource in violation; absent for a violation of the whole stack. */
  readonly urn?: string;
  readonly name?: string;
  readonly message: string;
  /** Covered by an exemption: reported, but never blocking. */
  readonly exempted?: true;
  readonly reason?: string;
  /** The rule could not decide because a value is unknown (reported as advisory, like the engine). */
  readonly couldNotCheck?: true;
}

export interface EvaluationResult {
  readonly violations: readonly Violation[];
  /** Violations that block a deployment: mandatory and not exempted. */
  readonly mandatoryCount: number;
  /** Policies turned off by config (enforcementLevel "disabled"): not run, and not exemptions. */
  readonly disabled: readonly string[];
  readonly resourceCount: number;
}

const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "advisory";
const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** Thrown by `args.notApplicable()`; not an Error, so that skipping a resource captures no stack trace. */
class NotApplicable {
  constructor(readonly reason?: string) {}
}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

/** As the engine: config level, else the policy's, else the pack's; remediate is reported as mandatory. */
function levelOf(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  config: PolicyPackConfig,
): EnforcementLevel {
  const entry = config[policy.name];
  const configured = typeof entry === "string" ? entry : entry?.enforcementLevel;
  const level = configured ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
  return level === "remediate" ? "mandatory" : level;
}

function settingKeysOf(schema: PolicyConfigSchema | undefined): SettingKey[] {
  return Object.keys(schema?.properties ?? {}).filter((key): key is SettingKey => key in settingSchemas);
}

/**
 * The config each policy's `args.getConfig()` returns: its entry of the pack config without the
 * enforcement level, plus the defaults the plan knows: `meshAccountIds` are the plan's accounts,
 * `lakeFormationAccess` the plan's declared tables and subscriptions at rest.
 */
function configOf(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  config: PolicyPackConfig,
  plan: Plan,
) {
  const entry = config[policy.name];
  const { enforcementLevel: _level, ...settings } = typeof entry === "object" && entry !== null ? entry : {};
  if (policy.configSchema?.properties.meshAccountIds && settings.meshAccountIds === undefined) {
    settings.meshAccountIds = [...new Set(Object.values(plan.accounts))];
  }
  if (
    policy.configSchema?.properties.lakeFormationAccess &&
    settings.lakeFormationAccess === undefined &&
    plan.lakeFormationAccess !== undefined
  ) {
    settings.lakeFormationAccess = plan.lakeFormationAccess;
  }
  if (
    policy.configSchema?.properties.streamContracts &&
    settings.streamContracts === undefined &&
    plan.streamContracts !== undefined
  ) {
    settings.streamContracts = plan.streamContracts;
  }
  return settings as Record<string, unknown>;
}

/** Every problem of the pack config at once: unknown policies, levels, settings (exemption reasons...). */
function validateConfig(policies: Policies, config: PolicyPackConfig): void {
  const issues: string[] = [];
  const byName = new Map(policies.map((policy) => [policy.name, policy]));
  for (const [name, entry] of Object.entries(config)) {
    const policy = byName.get(name);
    if (!policy) {
      issues.push(`${name}: no such policy`);
      continue;
    }
    const level = typeof entry === "string" ? entry : entry?.enforcementLevel;
    if (level !== undefined && !ENFORCEMENT_LEVELS.includes(level))
      issues.push(`${name}.enforcementLevel: ${level} is not a level`);
    if (typeof entry !== "object" || entry === null) continue;
    const { enforcementLevel: _level, ...settings } = entry;
    try {
      parseSettings(name, settingKeysOf(policy.configSchema), settings);
    } catch (error) {
      if (!(error instanceof PolicyConfigError)) throw error;
      issues.push(...error.issues.map((issue) => `${name}.${issue}`));
    }
  }
  if (issues.length > 0) throw new PolicyConfigError("mesh-guardrails", issues);
}

/** Unwraps secrets the way the engine does before policies see them. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[specialSigKey] === specialSecretSig) return plain(record.value);
    return Object.fromEntries(
      Object.entries(record)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, plain(v)]),
    );
  }
  return value;
}

/**
 * The engine's unknown-checking proxy over the inputs: a rule reading an unknown value throws.
 * Each resource's inputs are unwrapped once and shared by every policy (rules read them through
 * frozen snapshots, policy/lib/values.ts), where the engine deserialises them once per policy.
 */
function propsOf(resource: PlanResource): Record<string, unknown> {
  let inputs = plainInputs.get(resource);
  if (!inputs) {
    inputs = plain(resource.inputs) as Record<string, unknown>;
    plainInputs.set(resource, inputs);
  }
  return unknownCheckingProxy(inputs);
}
const plainInputs = new WeakMap<PlanResource, Record<string, unknown>>();

/** As the engine's isTypeOf: the class's `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
  if (typeof pulumiType === "string" && pulumiType.length > 0) return type === pulumiType;
  const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function optionsOf(resource: PlanResource): PolicyResourceOptions {
  return {
    protect: resource.protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(resource.parent ? { parent: resource.parent } : {}),
  };
}

/**
 * The provider each account's resources use: the plan's `pulumi:providers:aws` resource pinned to
 * that account when there is one, else one made up with `allowedAccountIds: [account]` (what the
 * program's providers set), so rules see a resource's account as they do under the engine.
 */
function providersOf(plan: Plan): Map<string, PolicyProviderResource> {
  const providers = new Map<string, PolicyProviderResource>();
  for (const resource of plan.resources) {
    if (resource.type !== T.AwsProvider) continue;
    const raw = resource.inputs.allowedAccountIds;
    let ids: unknown = raw;
    if (typeof raw === "string") {
      try {
        ids = JSON.parse(raw);
      } catch {
        ids = [raw];
      }
    }
    if (!Array.isArray(ids) || ids.length !== 1 || typeof ids[0] !== "string") continue;
    providers.set(ids[0], {
      type: resource.type,
      urn: resource.urn,
      name: resource.name,
      props: propsOf(resource),
    });
  }
  const project = plan.resources[0]?.urn.split("::")[1] ?? "mesh";
  for (const [alias, account] of Object.entries(plan.accounts)) {
    if (providers.has(account)) continue;
    providers.set(account, {
      type: T.AwsProvider,
      urn: `urn:pulumi:${plan.stack}::${project}::${T.AwsProvider}::account-${alias}`,
      name: `account-${alias}`,
      props: unknownCheckingProxy({ allowedAccountIds: [account] }),
    });
  }
  return providers;
}

interface Run {
  readonly policy: ResourceValidationPolicy | StackValidationPolicy;
  readonly level: "mandatory" | "advisory";
  readonly getConfig: <C extends object>() => C;
}

/**
 * Runs the pack's policies over an offline plan without the Pulumi engine, building the same
 * arguments the engine builds (inputs behind its unknown-checking proxy, options, provider, config)
 * and treating the outcomes as it does: an UnknownValueError becomes an advisory could-not-check, a
 * not-applicable is skipped, any other error fails the evaluation.
 */
export async function evaluatePlan(plan: Plan, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const policies = (options.policies ?? rulePolicies).filter((policy) => policy !== exemptedViolations);
  const config = options.config ?? {};
  validateConfig(policies, config);

  const names = new Map(plan.resources.map((resource) => [resource.urn, resource.name]));
  const nameOf = (urn: string | undefined) =>
    urn === undefined ? undefined : (names.get(urn) ?? nameOfUrn(urn));
  const providers = providersOf(plan);
  const violations: Violation[] = [];
  const disabled: string[] = [];
  const runs: Run[] = [];
  for (const policy of policies) {
    const level = levelOf(policy, config);
    if (level === "disabled") {
      disabled.push(policy.name);
      continue;
    }
    const settings = configOf(policy, config, plan);
    runs.push({
      policy,
      level: level as Run["level"],
      getConfig: <C extends object>() => ({ ...settings }) as C,
    });
  }

  const sinkFor = (run: Run) => (exempted: ExemptedViolation) =>
    violations.push({
      policy: exempted.policy,
      enforcementLevel: run.level,
      urn: exempted.urn,
      name: exempted.name ?? nameOf(exempted.urn),
      message: exempted.message,
      exempted: true,
      reason: exempted.reason,
    });

  async function attempt(run: Run, urn: string | undefined, body: () => unknown): Promise<void> {
    try {
      await Promise.resolve(body());
    } catch (error) {
      if (error instanceof NotApplicable) return;
      if (isUnknownError(error)) {
        violations.push({
          policy: run.policy.name,
          enforcementLevel: "advisory",
          urn,
          name: nameOf(urn),
          message: error.message,
          couldNotCheck: true,
        });
        return;
      }
      const where = urn ? `resource ${urn}` : "the stack";
      throw new Error(`policy ${run.policy.name} failed on ${where}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  for (const run of runs) {
    const policy = run.policy;
    if (!("validateResource" in policy) || policy.validateResource === undefined) continue;
    const validations: ResourceValidation[] = Array.isArray(policy.validateResource)
      ? policy.validateResource
      : [policy.validateResource];
    for (const resource of plan.resources) {
      for (const validation of validations) {
        const only = (validation as { __pulumiType?: unknown }).__pulumiType;
        if (typeof only === "string" && only !== resource.type) continue;
        const props = propsOf(resource);
        const provider = resource.account ? providers.get(resource.account) : undefined;
        const args: ResourceValidationArgs & { [EXEMPTION_SINK]: unknown } = {
          type: resource.type,
          props,
          urn: resource.urn,
          name: resource.name,
          opts: optionsOf(resource),
          ...(provider ? { provider } : {}),
          stackTags: new Map(),
          isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
          asType: ((resourceClass: unknown) =>
            isTypeOf(resource.type, resourceClass) ? props : undefined) as ResourceValidationArgs["asType"],
          getConfig: run.getConfig,
          notApplicable,
          [EXEMPTION_SINK]: sinkFor(run),
        };
        const report = (message: string) =>
          violations.push({
            policy: policy.name,
            enforcementLevel: run.level,
            urn: resource.urn,
            name: resource.name,
            message,
          });
        await attempt(run, resource.urn, () => validation(args, report));
      }
    }
  }

  let stackResources: PolicyResource[] | undefined;
  for (const run of runs) {
    const policy = run.policy;
    if (!("validateStack" in policy) || typeof policy.validateStack !== "function") continue;
    const only = (policy.validateStack as { __pulumiType?: unknown }).__pulumiType;
    if (typeof only === "string" && !plan.resources.some((resource) => resource.type === only)) continue;
    const args: StackValidationArgs & { [EXEMPTION_SINK]: unknown } = {
      resources: (stackResources ??= stackResourcesOf(plan, providers)),
      stackTags: new Map(),
      getConfig: run.getConfig,
      notApplicable,
      [EXEMPTION_SINK]: sinkFor(run),
    };
    const report = (message: string, urn?: string) =>
      violations.push({ policy: policy.name, enforcementLevel: run.level, urn, name: nameOf(urn), message });
    await attempt(run, undefined, () => policy.validateStack(args, report));
  }

  const mandatoryCount = violations.filter((v) => v.enforcementLevel === "mandatory" && !v.exempted).length;
  return { violations, mandatoryCount, disabled, resourceCount: plan.resources.length };
}

/** A plan resource's id: recorded, else the one the offline plan's mock runtime assigns. */
const idOf = (resource: PlanResource): string => resource.id ?? `${resource.name}-id`;

/** The stack as the engine's analyzeStack gives it: parent, dependencies and property dependencies linked. */
function stackResourcesOf(plan: Plan, providers: Map<string, PolicyProviderResource>): PolicyResource[] {
  const resources = plan.resources.map((resource): PolicyResource => {
    const props = propsOf(resource);
    const provider = resource.account ? providers.get(resource.account) : undefined;
    const policyResource: PolicyResource = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: optionsOf(resource),
      ...(provider ? { provider } : {}),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: ((resourceClass: unknown) =>
        isTypeOf(resource.type, resourceClass) ? props : undefined) as PolicyResource["asType"],
    };
    // Not part of the engine's PolicyResource: rules use it to link resources of an offline plan.
    return Object.assign(policyResource, { id: idOf(resource) });
  });
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const linked = (urns: readonly string[] | undefined) => (urns ?? []).flatMap((urn) => byUrn.get(urn) ?? []);
  plan.resources.forEach((source, index) => {
    const resource = resources[index]!;
    if (source.parent) {
      const parent = byUrn.get(source.parent);
      if (parent) resource.parent = parent;
    }
    resource.dependencies = linked(source.dependencies);
    resource.propertyDependencies = Object.fromEntries(
      Object.entries(source.propertyDependencies ?? {}).map(([key, urns]) => [key, linked(urns)]),
    );
  });
  return resources;
}

const describe = (violation: Violation): string =>
  `  [${violation.policy}] ${violation.name ?? "stack"}${violation.urn ? ` (${violation.urn})` : ""}\n    ${violation.message}` +
  (violation.exempted ? `\n    exempted: ${violation.reason}` : "");

/** Violations grouped by severity: mandatory, advisory, then exempted; and the disabled policies. */
export function formatViolations(result: EvaluationResult): string {
  const groups: [string, Violation[]][] = [
    ["Mandatory", result.violations.filter((v) => !v.exempted && v.enforcementLevel === "mandatory")],
    ["Advisory", result.violations.filter((v) => !v.exempted && v.enforcementLevel === "advisory")],
    ["Exempted", result.violations.filter((v) => v.exempted)],
  ];
  const sections = groups
    .filter(([, violations]) => violations.length > 0)
    .map(([title, violations]) =>
      [`${title} (${violations.length})`, ...violations.map(describe)].join("\n"),
    );
  if (result.disabled.length > 0) sections.push(`Disabled policies (not run): ${result.disabled.join(", ")}`);
  return sections.join("\n\n");
}

/** One line: how many violations of each kind, over how many resources. */
export function summarize(result: EvaluationResult): string {
  const advisory = result.violations.filter((v) => !v.exempted && v.enforcementLevel === "advisory").length;
  const exempted = result.violations.filter((v) => v.exempted).length;
  return `${result.mandatoryCount} mandatory, ${advisory} advisory, ${exempted} exempted violation(s) in ${result.resourceCount} resources.`;
}

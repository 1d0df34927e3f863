import type { PolicyPackConfig } from "@pulumi/policy";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_NAMESPACE, stackReferenceName } from "../platform/config";
import { unitDependencies } from "../platform/units";
import type { DomainDeclaration } from "../platform/declarations";
import { loadMesh, MeshConfigError, type Mesh } from "../platform/mesh";
import { deployMesh, readStackConfigFrom } from "../program";
import { domains } from "../domains";
import { evaluatePlan, formatViolations, summarize } from "../policy/evaluate";
import { evaluateProgram, readStackFile, StackFileError, type PlannedResource } from "../tooling/evaluate";
import { diffPlans, formatPlanDiff } from "../tooling/plan-diff";
import {
  checkContractLock,
  CONTRACT_LOCK_FILE,
  ContractLockError,
  declaredContracts,
  readContractLock,
} from "../tooling/contract-lock";
import { buildReport, printReport, writeReport } from "../tooling/report";
import { peerStacksFromPlans, readSavedPlan, savedPlan, SavedPlanError } from "../tooling/saved-plans";

/** The organization of an offline plan's stacks: a self-managed backend's. */
const OFFLINE_ORGANIZATION = "organization";

export interface PlanOptions {
  readonly stack: string;
  /** Folder holding Pulumi.<stack>.yaml and receiving plan/. @default the working directory */
  readonly cwd?: string;
  /** The domains the mesh is checked and summarised with. @default the repository's `domains/` */
  readonly declarations?: readonly DomainDeclaration[];
  /** The program to evaluate. @default the mesh program over `declarations` */
  readonly program?: () => unknown;
  /** A saved plan to compare with: prints what changes, per account and unit stack, and the deploy order. */
  readonly against?: string;
  readonly log?: (line: string) => void;
  readonly error?: (line: string) => void;
}

/**
 * The offline plan: evaluates the real program for a stack under the Pulumi SDK's mock runtime
 * (no CLI, no AWS), prints what each account would get, writes plan/<stack>.json with the stack's
 * outputs, and runs the policy pack over it. A stack that deploys some units reads the other
 * units' outputs from the saved plans (see tooling/saved-plans.ts). With `against`, prints what
 * changes from that saved plan and the order in which the unit stacks must be deployed. Returns
 * the exit code: 1 for a problem the user must fix (printed as one message, nothing written) or a
 * mandatory policy violation.
 */
export async function runPlan(options: PlanOptions): Promise<number> {
  const { stack } = options;
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? console.log;
  const dir = join(cwd, "plan");
  const declarations = options.declarations ?? domains;
  let evaluation;
  let mesh: Mesh;
  let against;
  let unrecorded: readonly string[] = [];
  try {
    const config = readStackFile(join(cwd, `Pulumi.${stack}.yaml`));
    mesh = loadMesh(readStackConfigFrom(config), declarations);
    unrecorded = checkPublishedContracts(join(cwd, CONTRACT_LOCK_FILE), declarations);
    against = options.against === undefined ? undefined : readSavedPlan(options.against);
    const peerStacks = peerStacksFromPlans(dir, mesh.config.environment, stackReferences(mesh));
    evaluation = await evaluateProgram({
      stack,
      config,
      organization: OFFLINE_ORGANIZATION,
      peerStacks,
      program: options.program ?? (() => deployMesh(declarations)),
    });
  } catch (error) {
    const problem = findUserError(error);
    if (!problem) throw error;
    (options.error ?? console.error)(`plan ${stack}: ${problem.message}`);
    return 1;
  }
  const plan = savedPlan(mesh, evaluation);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stack}.json`);
  writeFileSync(file, JSON.stringify(plan, null, 2) + "\n");
  log(summary(mesh, evaluation.resources));

  // Who can reach what (read back from the generated policies), the topology and the cost.
  const report = buildReport(plan, mesh);
  printReport(report, log);
  const picture = await writeReport(dir, stack, report);
  log(`\nwrote ${file} (${evaluation.resources.length} resources), ${picture.svg} and ${picture.dot}`);

  // The same policies `pulumi preview --policy-pack policy` runs, over what was just evaluated.
  const policyConfig = join(cwd, "policy", `config.${stack}.json`);
  const policies = await evaluatePlan(plan, {
    config: existsSync(policyConfig)
      ? (JSON.parse(readFileSync(policyConfig, "utf8")) as PolicyPackConfig)
      : undefined,
  });
  if (against) log("\n" + formatPlanDiff(diffPlans(against, plan), plan, options.against!));

  log(`\npolicy pack mesh-guardrails${existsSync(policyConfig) ? ` (config ${policyConfig})` : ""}`);
  const details = formatViolations(policies);
  if (details) log(details);
  log(summarize(policies));
  if (unrecorded.length) {
    log(
      `\nnot yet in ${CONTRACT_LOCK_FILE}: ${unrecorded.join(", ")} (npm run contracts -- lock records them once published)`,
    );
  }
  return policies.mandatoryCount > 0 || report.violations.length > 0 ? 1 : 0;
}

/**
 * Published contract versions must not change (docs/contracts.md): throws naming each one that did;
 * returns the versions not recorded yet. Without a lock file there is nothing to compare with.
 */
function checkPublishedContracts(
  path: string,
  declarations: readonly DomainDeclaration[],
): readonly string[] {
  const lock = readContractLock(path);
  if (!lock) return [];
  const { changed, unrecorded } = checkContractLock(declaredContracts(declarations), lock);
  if (changed.length) throw new ContractLockError(`${path}:\n  ${changed.join("\n  ")}`);
  return unrecorded;
}

/** The stacks a stack reads, by unit: the units its units depend on that it does not deploy. */
function stackReferences(mesh: Mesh): Map<string, string> {
  const dependencies = unitDependencies(mesh);
  const needed = [...mesh.units].flatMap((unit) => [...(dependencies.get(unit) ?? [])]);
  return new Map(
    needed
      .filter((unit) => !mesh.units.has(unit))
      .map((unit) => [
        unit,
        stackReferenceName(mesh.config.stackReferencePattern, {
          organization: OFFLINE_ORGANIZATION,
          project: CONFIG_NAMESPACE,
          environment: mesh.config.environment,
          unit,
        }),
      ]),
  );
}

/** Errors a user causes and fixes (a declaration, a stack file, a saved plan): one message, no trace. */
const USER_ERRORS = [MeshConfigError, StackFileError, SavedPlanError, ContractLockError];

function findUserError(error: unknown): Error | undefined {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if (USER_ERRORS.some((type) => current instanceof type)) return current as Error;
  }
  return undefined;
}

/** Per account: its units, the products it publishes, the subscriptions it runs, its resources by type. */
function summary(mesh: Mesh, resources: readonly PlannedResource[]): string {
  const lines = [`plan of stack ${resources[0]?.urn.split("::")[0]?.split(":").pop() ?? ""}`.trimEnd()];
  for (const [alias, account] of Object.entries(mesh.config.accounts)) {
    const mine = resources.filter((r) => r.account === account.id && !r.type.startsWith("pulumi:providers:"));
    if (!mine.length) continue;
    lines.push("", `${alias} (${account.id}): ${mine.length} resources`);
    for (const domain of mesh.domains.filter((d) => d.accountAlias === alias && mesh.units.has(d.name))) {
      lines.push(
        `  domain ${domain.name} (${domain.declaration.owner.team}, ${domain.declaration.owner.contact})`,
      );
      for (const product of domain.products) {
        const capacity =
          product.capacity.mode === "on-demand"
            ? "on-demand"
            : `provisioned, ${mine.find((r) => r.type === "aws:kinesis/stream:Stream" && r.inputs.name === product.streamName)?.inputs.shardCount} shards`;
        lines.push(
          `    publishes ${product.ref} -> stream ${product.streamName} (${product.classification}, ${product.retentionHours} h, ${capacity})`,
        );
        for (const s of mesh.subscriptions.filter((s) => s.product === product)) {
          lines.push(`      read by ${s.ref} (${s.access.pattern}) as ${s.roleArn}`);
        }
      }
      for (const s of domain.subscriptions) {
        const filters = s.access.pattern === "filtered" ? `, ${s.access.filters.length} filter(s)` : "";
        lines.push(
          `    subscribes ${s.ref} <- ${s.product.ref} (${s.access.pattern}${filters}; function, mapping, failure bucket, alarms)`,
        );
      }
    }
    const byType = new Map<string, number>();
    for (const resource of mine) byType.set(resource.type, (byType.get(resource.type) ?? 0) + 1);
    for (const [type, count] of [...byType].sort()) lines.push(`  ${String(count).padStart(4)}  ${type}`);
  }
  return lines.join("\n");
}

/** `npm run plan -- <stack> [--against <saved plan>]` */
export function parsePlanArguments(args: readonly string[]): { stack: string; against?: string } {
  const rest = [...args];
  let against: string | undefined;
  const flag = rest.indexOf("--against");
  if (flag >= 0) {
    against = rest[flag + 1];
    if (!against || against.startsWith("--")) throw new Error("--against needs the path of a saved plan");
    rest.splice(flag, 2);
  }
  const unknown = rest.filter((arg) => arg.startsWith("--"));
  if (unknown.length)
    throw new Error(
      `unknown option ${unknown.join(", ")} (usage: npm run plan -- <stack> [--against plan/<stack>.json])`,
    );
  if (rest.length > 1) throw new Error(`one stack at a time, not ${rest.join(", ")}`);
  return { stack: rest[0] ?? "dev", against };
}

if (require.main === module) {
  let args: { stack: string; against?: string };
  try {
    args = parsePlanArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`plan: ${(error as Error).message}`);
    process.exit(1);
  }
  runPlan(args).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

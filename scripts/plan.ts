import type { PolicyPackConfig } from "@pulumi/policy";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadMesh, MeshConfigError, type Mesh } from "../platform/mesh";
import { deployMesh, readStackConfigFrom } from "../program";
import { domains } from "../domains";
import { evaluatePlan, formatViolations, summarize } from "../policy/evaluate";
import { evaluateProgram, readStackFile, type PlannedResource } from "../tooling/evaluate";
import { buildReport, printReport, writeReport } from "../tooling/report";

export interface PlanOptions {
  readonly stack: string;
  /** Folder holding Pulumi.<stack>.yaml and receiving plan/. @default the working directory */
  readonly cwd?: string;
  /** The program to evaluate. @default the mesh program */
  readonly program?: () => unknown;
  readonly log?: (line: string) => void;
  readonly error?: (line: string) => void;
}

/**
 * The offline plan: evaluates the real program for a stack under the Pulumi SDK's mock runtime
 * (no CLI, no AWS), prints what each account would get, writes plan/<stack>.json, and runs the
 * policy pack over it. Returns the exit code: 1 for a broken mesh (nothing written) or a mandatory
 * policy violation.
 */
export async function runPlan(options: PlanOptions): Promise<number> {
  const { stack } = options;
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? console.log;
  const config = readStackFile(join(cwd, `Pulumi.${stack}.yaml`));
  let evaluation;
  let mesh: Mesh;
  try {
    mesh = loadMesh(readStackConfigFrom(config), domains);
    evaluation = await evaluateProgram({ stack, config, program: options.program ?? (() => deployMesh()) });
  } catch (error) {
    const meshError = findMeshError(error);
    if (!meshError) throw error;
    (options.error ?? console.error)(`plan ${stack}: ${meshError.message}`);
    return 1;
  }
  const accounts = Object.fromEntries(
    Object.entries(mesh.config.accounts).map(([alias, a]) => [alias, a.id]),
  );
  const plan = { stack, accounts, resources: evaluation.resources };
  const dir = join(cwd, "plan");
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
  log(`\npolicy pack mesh-guardrails${existsSync(policyConfig) ? ` (config ${policyConfig})` : ""}`);
  const details = formatViolations(policies);
  if (details) log(details);
  log(summarize(policies));
  return policies.mandatoryCount > 0 || report.violations.length > 0 ? 1 : 0;
}

function findMeshError(error: unknown): MeshConfigError | undefined {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if (current instanceof MeshConfigError) return current;
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

if (require.main === module) {
  runPlan({ stack: process.argv[2] ?? "dev" }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MeshConfigError } from "../platform/mesh";
import { deployMesh } from "../platform/program";
import { evaluatePlan, formatViolations, summarize } from "../policy/evaluate";
import { evaluateProgram, readStackFile, type PlannedResource } from "../tooling/evaluate";

/**
 * The offline plan: evaluates the real program for a stack under the Pulumi SDK's mock runtime
 * (no CLI, no AWS), prints what each account would get and writes plan/<stack>.json.
 */
async function main(): Promise<number> {
  const stack = process.argv[2] ?? "dev";
  const config = readStackFile(join(process.cwd(), `Pulumi.${stack}.yaml`));
  let evaluation;
  try {
    evaluation = await evaluateProgram({ stack, config, program: () => deployMesh() });
  } catch (error) {
    const meshError = findMeshError(error);
    if (meshError) {
      console.error(`plan ${stack}: ${meshError.message}`);
      return 1;
    }
    throw error;
  }
  const accounts = Object.fromEntries(
    Object.entries((config["mesh:accounts"] ?? {}) as Record<string, { id: string }>).map(([alias, a]) => [
      alias,
      a.id,
    ]),
  );
  const plan = { stack, accounts, resources: evaluation.resources };
  mkdirSync("plan", { recursive: true });
  const file = join("plan", `${stack}.json`);
  writeFileSync(file, JSON.stringify(plan, null, 2) + "\n");
  printSummary(stack, accounts, evaluation.resources);
  console.log(`\nwrote ${file} (${evaluation.resources.length} resources)`);

  // The same policies `pulumi preview --policy-pack policy` runs, over what was just evaluated.
  const policies = await evaluatePlan(plan);
  console.log(`\npolicy pack mesh-guardrails`);
  const details = formatViolations(policies);
  if (details) console.log(details);
  console.log(summarize(policies));
  return policies.mandatoryCount > 0 ? 1 : 0;
}

function findMeshError(error: unknown): MeshConfigError | undefined {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if (current instanceof MeshConfigError) return current;
    if (current instanceof Error && current.name === "MeshConfigError") return current as MeshConfigError;
  }
  return undefined;
}

function printSummary(
  stack: string,
  accounts: Record<string, string>,
  resources: readonly PlannedResource[],
): void {
  console.log(`plan of stack ${stack}`);
  for (const [alias, id] of Object.entries(accounts)) {
    const mine = resources.filter((r) => r.account === id && !r.type.startsWith("pulumi:providers:"));
    if (!mine.length) continue;
    const byType = new Map<string, number>();
    for (const resource of mine) byType.set(resource.type, (byType.get(resource.type) ?? 0) + 1);
    console.log(`\n${alias} (${id}): ${mine.length} resources`);
    for (const [type, count] of [...byType].sort()) console.log(`  ${String(count).padStart(4)}  ${type}`);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

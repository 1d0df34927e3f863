import { fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { interactionEvents } from "../domains/interactions/contract";
import { deployMesh } from "../program";
import { evaluatePlan } from "../policy/evaluate";
import { defineDomain, type DomainDeclaration } from "../platform/declarations";
import { loadMesh } from "../platform/mesh";
import { evaluateProgram } from "../tooling/evaluate";
import { buildReport } from "../tooling/report";
import { typescriptNodeArgs } from "../tooling/node-args";

/** Mesh sizes evaluated, in domains. */
const SIZES = [4, 16, 64, 200] as const;

const PATTERNS = ["shared-replay", "enhanced-fan-out", "filtered"] as const;

/**
 * A synthetic mesh of `size` domains, each in its own account, each publishing one stream product
 * and subscribing to the products of the next two domains (round robin through the access
 * patterns): every resource kind the program makes grows with the domain count.
 */
export function syntheticMesh(size: number): {
  config: Record<string, unknown>;
  domains: DomainDeclaration[];
} {
  const name = (i: number) => `d${String(i % size).padStart(3, "0")}`;
  const domains = Array.from({ length: size }, (_, i) =>
    defineDomain({
      name: name(i),
      description: `Synthetic domain ${i}.`,
      owner: { team: `team-${i}`, contact: `team-${i}@example.com` },
      account: name(i),
      products: [
        {
          kind: "stream",
          name: "events",
          description: "Synthetic interactions.",
          contract: interactionEvents,
          partitionKey: "userId",
          capacity: { mode: "provisioned", writeMiBps: 1, writeRecordsPerSecond: 500 },
          classification: "internal",
        },
      ],
      subscriptions: [1, 2].map((offset, s) => {
        const pattern = PATTERNS[(i + s) % PATTERNS.length]!;
        return {
          name: `from-${name(i + offset)}`,
          product: `${name(i + offset)}/events`,
          // Every synthetic subscription runs the analytics ingestor: one handler, bundled once.
          handler: "../analytics/handlers/interactions-ingestor.ts",
          access:
            pattern === "filtered"
              ? { pattern, filters: [{ eventTypes: ["interaction.play"] }] }
              : { pattern },
        };
      }),
    } as DomainDeclaration),
  );
  const accounts: Record<string, { id: string }> = { platform: { id: "300000000000" } };
  domains.forEach((domain, i) => (accounts[domain.name] = { id: String(300000000001 + i) }));
  return {
    domains,
    config: {
      "pulumi:disable-default-providers": ["aws"],
      "mesh:environment": "dev",
      "mesh:organizationId": "o-a1b2c3d4e5",
      "mesh:region": "eu-west-1",
      "mesh:units": ["all"],
      "mesh:stackReferencePattern": "acme/mesh/{unit}-dev",
      "mesh:accounts": accounts,
      "mesh:defaultRetentionHours": 24,
      "mesh:minRetentionHours": 24,
      "mesh:capacityMode": "declared",
      "mesh:protectStateful": false,
      "mesh:pushTokenSha256": "a61ada0eeb1f33df293ed455c1e85d1432eea5b4cd364ffa1e50046ba0348102",
    },
  };
}

export interface PlanFigures {
  readonly domains: number;
  readonly resources: number;
  readonly evaluationMs: number;
  readonly policyMs: number;
  readonly reportMs: number;
  readonly peakMiB: number;
}

/**
 * Collects the garbage of the step before, so that each step's time is its own (the process runs
 * with --expose-gc; see {@link measureInChild}).
 */
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

/** One size, in this process: evaluation, policy pack, report, each timed; peak RSS at the end. */
async function measure(size: number): Promise<PlanFigures> {
  const { config, domains } = syntheticMesh(size);
  let start = performance.now();
  const evaluation = await evaluateProgram({ stack: "dev", config, program: () => deployMesh(domains, {}) });
  const evaluationMs = performance.now() - start;
  const mesh = loadMesh(
    Object.fromEntries(
      Object.entries(config)
        .filter(([key]) => key.startsWith("mesh:"))
        .map(([key, value]) => [key.slice("mesh:".length), value]),
    ),
    domains,
  );
  const accounts = Object.fromEntries(
    Object.entries(mesh.config.accounts).map(([alias, a]) => [alias, a.id]),
  );
  const plan = { stack: "dev", accounts, resources: evaluation.resources };
  collectGarbage();
  start = performance.now();
  await evaluatePlan(plan, {});
  const policyMs = performance.now() - start;
  collectGarbage();
  start = performance.now();
  buildReport(plan, mesh);
  const reportMs = performance.now() - start;
  return {
    domains: size,
    resources: evaluation.resources.length,
    evaluationMs,
    policyMs,
    reportMs,
    peakMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** Runs one size in a child process of its own, so that each peak memory figure is that size's. */
function measureInChild(size: number): Promise<PlanFigures> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ["--size", String(size)], {
      execArgv: ["--expose-gc", ...typescriptNodeArgs()],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    child.once("message", (figures) => resolve(figures as PlanFigures));
    child.once("error", reject);
    child.once("exit", (code) =>
      code ? reject(new Error(`plan bench of ${size} domains exited ${code}`)) : undefined,
    );
  });
}

const fixed = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * `npm run bench -- plan`: evaluates synthetic meshes of 4, 16, 64 and 200 domains (program under
 * the mock runtime, policy pack, report) and prints time and peak memory per size and per resource,
 * and each step's growth from 64 to 200 domains (linear growth is 200/64 = 3.1; target ≤ 3.5).
 */
export async function benchPlan(): Promise<PlanFigures[]> {
  const rows: PlanFigures[] = [];
  for (const size of SIZES) rows.push(await measureInChild(size));
  const header = [
    "domains",
    "resources",
    "evaluation",
    "policy",
    "report",
    "total",
    "peak RSS",
    "per resource",
  ];
  const lines = rows.map((row) => {
    const total = row.evaluationMs + row.policyMs + row.reportMs;
    return [
      fixed(row.domains),
      fixed(row.resources),
      `${fixed(row.evaluationMs / 1000, 2)} s`,
      `${fixed(row.policyMs / 1000, 2)} s`,
      `${fixed(row.reportMs / 1000, 2)} s`,
      `${fixed(total / 1000, 2)} s`,
      `${fixed(row.peakMiB)} MiB`,
      `${fixed((total / row.resources) * 1000, 0)} µs, ${fixed((row.peakMiB * 1024) / row.resources, 0)} KiB`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const print = (cells: readonly string[]) =>
    console.log(`  ${cells.map((c, i) => c.padStart(widths[i]!)).join("  ")}`);
  console.log("\nplan at scale: synthetic meshes, each size in its own process");
  print(header);
  for (const line of lines) print(line);
  const at = (n: number) => rows.find((row) => row.domains === n)!;
  const growth = (step: keyof PlanFigures) => (at(200)[step] as number) / (at(64)[step] as number);
  console.log(
    `  growth 64 → 200 domains (resources ×${fixed(at(200).resources / at(64).resources, 2)}; target ≤ 3.5 each): ` +
      `evaluation ×${fixed(growth("evaluationMs"), 2)}, policy ×${fixed(growth("policyMs"), 2)}, report ×${fixed(growth("reportMs"), 2)}`,
  );
  return rows;
}

if (require.main === module) {
  const sizeArgument = process.argv.indexOf("--size");
  if (sizeArgument > 0) {
    measure(Number(process.argv[sizeArgument + 1])).then(
      (figures) => process.send!(figures, () => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else {
    benchPlan().catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  }
}

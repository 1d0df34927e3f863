import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Mesh } from "../../platform/mesh";
import {
  accessMatrix,
  formatAccessMatrix,
  type AccessMatrix,
  type Plan,
  type Violation,
} from "./access-matrix";
import { atRestMatrix, formatAtRestMatrix, type AtRestMatrix } from "./at-rest-matrix";
import {
  atRestCosts,
  formatAtRestCost,
  formatCostTable,
  streamCosts,
  type AtRestCostReport,
  type CostOptions,
  type CostReport,
} from "./cost";
import { renderSvg, topologyDot } from "./topology";

export * from "./access-matrix";
export * from "./at-rest-matrix";
export * from "./cost";
export * from "./prices";
export * from "./topology";

/** The platform team's report of a plan: who can use each data product, the picture, the cost. */
export interface PlanReport {
  readonly matrix: AccessMatrix;
  /** Who can read each product at rest, and which columns. */
  readonly atRest: AtRestMatrix;
  /** Both planes' violations. */
  readonly violations: readonly Violation[];
  /** Graphviz DOT source of the topology. */
  readonly dot: string;
  readonly cost: CostReport;
  /** What each account pays at idle for its data at rest. */
  readonly atRestCost: AtRestCostReport;
}

/** Builds the report of a plan (`plan/<stack>.json` or an evaluation's resources) against its mesh. */
export function buildReport(plan: Plan, mesh: Mesh, options: CostOptions = {}): PlanReport {
  const matrix = accessMatrix(plan, mesh);
  const atRest = atRestMatrix(plan, mesh);
  return {
    matrix,
    atRest,
    violations: [...matrix.violations, ...atRest.violations],
    dot: topologyDot(mesh, matrix, atRest),
    cost: streamCosts(plan, mesh, options),
    atRestCost: atRestCosts(plan, mesh, { utilisation: options.utilisation }),
  };
}

/** Writes `<dir>/<stack>.dot` and `<dir>/<stack>.svg`; returns the paths written. */
export async function writeReport(
  dir: string,
  stack: string,
  report: PlanReport,
): Promise<{ dot: string; svg: string }> {
  mkdirSync(dir, { recursive: true });
  const dot = join(dir, `${stack}.dot`);
  const svg = join(dir, `${stack}.svg`);
  const rendered = await renderSvg(report.dot);
  writeFileSync(dot, report.dot);
  writeFileSync(svg, rendered);
  return { dot, svg };
}

/** Prints both planes' access matrices (with their violations) and the cost table. */
export function printReport(report: PlanReport, log: (text: string) => void = console.log): void {
  log("\nAccess to data products (from the generated policies):\n");
  log(formatAccessMatrix(report.matrix));
  log(
    "\nAccess to data products at rest (from the generated Lake Formation grants, bucket and role policies):\n",
  );
  log(formatAtRestMatrix(report.atRest));
  log("");
  log(formatCostTable(report.cost));
  log("");
  log(formatAtRestCost(report.atRestCost, report.cost));
}

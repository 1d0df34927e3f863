/**
 * Runs the mesh guardrails over an offline plan: `npm run policy -- plan/dev.json [--config <file>]`.
 * `--config` takes the same JSON as `pulumi preview --policy-pack-config`.
 * Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 unusable plan or config.
 */
import { readFileSync } from "node:fs";
import type { PolicyPackConfig } from "@pulumi/policy";
import { evaluatePlan, formatViolations, parsePlan, PlanError, summarize } from "../policy/evaluate";
import { PolicyConfigError } from "../policy/lib/settings";

const USAGE = "usage: npm run policy -- <plan.json> [--config <policy-config.json>]";

class UsageError extends Error {}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PlanError([`cannot read ${what} ${path}: ${(error as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlanError([`${what} ${path} is not valid JSON: ${(error as Error).message}`]);
  }
}

function parseArgs(argv: readonly string[]): { planPath: string; configPath?: string } {
  const positional: string[] = [];
  let configPath: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === "--config") {
      configPath = argv[++index];
      if (!configPath) throw new UsageError("--config needs a file");
    } else if (arg.startsWith("--")) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) throw new UsageError("expected one plan file");
  return { planPath: positional[0]!, configPath };
}

/** Where the command writes: the console, or a test's buffers. */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** `npm run policy -- <plan.json> [--config <file>]`: the exit code (0, 1 or 2), lines to `out`. */
export async function runPolicy(argv: readonly string[], out: Output = console): Promise<number> {
  try {
    const { planPath, configPath } = parseArgs(argv);
    const plan = parsePlan(readJson(planPath, "plan file"));
    const config = configPath ? readJson(configPath, "policy config") : undefined;
    if (config !== undefined && (config === null || typeof config !== "object" || Array.isArray(config))) {
      throw new PlanError([`policy config ${configPath} must be a JSON object`]);
    }
    const result = await evaluatePlan(plan, { config: config as PolicyPackConfig | undefined });
    const report = formatViolations(result);
    if (report) out.log(`${report}\n`);
    out.log(`${plan.stack}: ${summarize(result)}`);
    return result.mandatoryCount > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) out.error(`${error.message}\n${USAGE}`);
    else if (error instanceof PlanError || error instanceof PolicyConfigError) out.error(error.message);
    else out.error(`policy evaluation failed: ${(error as Error).stack ?? String(error)}`);
    return 2;
  }
}

if (require.main === module) {
  void runPolicy(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

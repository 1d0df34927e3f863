import { join } from "node:path";
import { percentile, runLocalMesh, type LocalMeshResult } from "./mesh";
import { loadPlan } from "./plan";
import { environmentKinesis, productStream, publishEvents, readEvents, tail } from "./tools";

const USAGE = `usage: npm run local -- [--stack dev] [--rate 125] [--duration 80] [--seed 1] [--faults | --serve]
       npm run local -- publish <domain>/<product> <events.jsonl>
       npm run local -- tail <domain>/<product> [--from-start] [--limit N]

Without a command: runs the data-in-motion plane of plan/<stack>.json (written by npm run plan --
<stack>) on this machine. publish and tail work against the Kinesis endpoint, region and credentials
of the usual AWS environment (AWS_ENDPOINT_URL_KINESIS for a local server).`;

interface Flags {
  stack: string;
  rate: number;
  duration: number;
  seed: number;
  faults: boolean;
  serve: boolean;
}

export function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { stack: "dev", rate: 125, duration: 80, seed: 1, faults: false, serve: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--faults" || flag === "--serve") {
      flags[flag.slice(2) as "faults" | "serve"] = true;
      continue;
    }
    const value = argv[++i];
    if (flag === "--stack" && value) flags.stack = value;
    else if ((flag === "--rate" || flag === "--duration" || flag === "--seed") && value !== undefined) {
      const number = Number(value);
      if (!(Number.isFinite(number) && number > 0))
        throw new Error(`${flag}: expected a positive number, got ${value}`);
      flags[flag.slice(2) as "rate" | "duration" | "seed"] = number;
    } else {
      throw new Error(`unknown or incomplete flag ${flag}\n${USAGE}`);
    }
  }
  if (flags.faults && flags.serve) throw new Error(`--faults and --serve exclude each other\n${USAGE}`);
  return flags;
}

/** The report: one line per subscription, the fault checks, then the summary line. */
export function formatReport(result: LocalMeshResult): string[] {
  const lines = [
    "subscription                                    read  filtered  delivered  retried  dead-lettered  lost    p50 ms    p99 ms",
  ];
  for (const s of result.subscriptions) {
    lines.push(
      [
        s.mapping.padEnd(44),
        String(s.read).padStart(8),
        String(s.filteredOut).padStart(9),
        String(s.delivered).padStart(10),
        String(s.retried).padStart(8),
        String(s.deadLettered).padStart(14),
        String(s.lost).padStart(5),
        String(percentile(s.latencies, 50)).padStart(9),
        String(percentile(s.latencies, 99)).padStart(9),
      ].join(" "),
    );
  }
  for (const check of result.checks) lines.push(`${check.ok ? "ok  " : "FAIL"} ${check.line}`);
  lines.push(
    `wall time ${result.wallSeconds.toFixed(1)} s; function logs and failure destinations in ${result.workDir}`,
  );
  lines.push(
    `local mesh: ${result.produced} events produced, ${result.lost} lost, ${result.deadLettered} dead-lettered, p50 ${result.p50} ms, p99 ${result.p99} ms`,
  );
  return lines;
}

/** `publish` and `tail`; true when the arguments named one of them. */
async function tool(argv: readonly string[]): Promise<boolean> {
  const [command, ref, ...rest] = argv;
  if (command === "publish") {
    if (!ref || rest.length !== 1) throw new Error(USAGE);
    productStream(ref);
    const result = await publishEvents(ref, readEvents(rest[0]!), environmentKinesis());
    console.log(`published ${result.published} events to ${ref}, ${result.failed} failed`);
    if (result.failed) process.exitCode = 1;
    return true;
  }
  if (command === "tail") {
    if (!ref) throw new Error(USAGE);
    const fromStart = rest.includes("--from-start");
    const limitAt = rest.indexOf("--limit");
    const limit = limitAt >= 0 ? Number(rest[limitAt + 1]) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      throw new Error(`--limit: expected a positive integer, got ${rest[limitAt + 1]}`);
    }
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    await tail(ref, {
      client: environmentKinesis(),
      fromStart,
      ...(limit !== undefined && { limit }),
      signal: stop.signal,
      onRecord: (line) => console.log(line),
    });
    return true;
  }
  return false;
}

async function main(): Promise<void> {
  if (await tool(process.argv.slice(2))) return;
  const flags = parseFlags(process.argv.slice(2));
  const plan = loadPlan(join(__dirname, "..", "plan", `${flags.stack}.json`));
  const stop = new AbortController();
  if (flags.serve) process.once("SIGINT", () => stop.abort());
  const result = await runLocalMesh(plan, {
    ...(flags.serve && { serve: stop.signal }),
    rate: flags.rate,
    durationSeconds: flags.duration,
    seed: flags.seed,
    faults: flags.faults,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  for (const line of formatReport(result)) console.log(line);
  const failed = result.lost > 0 || result.checks.some((check) => !check.ok);
  process.exit(failed ? 1 : 0);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}

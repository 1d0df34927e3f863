import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { Bundle } from "../components/lambda";
import type { PlannedFunction } from "./plan";

/** What an invocation ended with: the handler's result, or Lambda's function error. */
export type InvocationResult =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/**
 * The code of one function's execution environment: loads the bundle once (the cold start) and runs
 * one invocation at a time, like a Lambda execution environment. A worker thread has its own
 * `process.env` (a copy of the `env` it is started with), so every function sees exactly its
 * planned environment while several run at once, and a crash is `worker.terminate()`.
 */
const ENVIRONMENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { handler } = require(workerData.file);
parentPort.on("message", async ({ id, event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: workerData.name,
    functionVersion: "$LATEST",
    invokedFunctionArn: workerData.arn,
    memoryLimitInMB: String(workerData.memoryMb),
    awsRequestId: id,
    logGroupName: "/aws/lambda/" + workerData.name,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    parentPort.postMessage({ id, ok: true, result: await handler(event, context) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, errorType: error?.name ?? "Error", errorMessage: String(error?.message ?? error) });
  }
});
`;

/**
 * One planned function, run from the very bundle the plan deployed: the handler module is bundled
 * with `components/lambda.ts` and its hash must equal the plan's `sourceCodeHash` (otherwise the
 * plan is stale). Invocations are serialised per function (one environment; Lambda would scale out,
 * which the mappings' own concurrency models: one batch per shard lane at a time).
 */
export class LocalFunction {
  private worker: Worker | undefined;
  private readonly pending = new Map<string, (result: InvocationResult) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private next = 0;
  private readonly log: WriteStream;
  private readonly file: string;
  /** Invocations so far, and cold starts (environments started). */
  invocations = 0;
  coldStarts = 0;
  /** Milliseconds spent in invocations. */
  busyMs = 0;
  /** When the invocation running now started (ms), if one is. */
  runningSince: number | undefined;

  constructor(
    readonly planned: PlannedFunction,
    private readonly environment: Readonly<Record<string, string>>,
    workDir: string,
    /** The bundle of `planned.entry` as the plan builds it (`bundleHandler`), checked against the plan. */
    bundle: Bundle,
  ) {
    if (bundle.sha256 !== planned.sourceCodeHash) {
      throw new Error(
        `function ${planned.name}: the bundle of ${planned.entry} does not match the plan's sourceCodeHash: the plan is stale, run npm run plan again`,
      );
    }
    const dir = join(workDir, planned.name);
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, "index.js");
    writeFileSync(this.file, bundle.code);
    this.log = createWriteStream(join(workDir, `${planned.name}.log`));
  }

  /** Invokes the handler with `event`; resolves with its result or its function error, never rejects. */
  invoke(event: unknown): Promise<InvocationResult> {
    const run = this.queue.then(() => this.run(event));
    this.queue = run;
    return run;
  }

  /** Kills the environment while it runs (a crash: Runtime.ExitError); the next invocation starts a new one. */
  crash(): void {
    this.stopWorker("Runtime.ExitError", "the execution environment crashed (injected)");
  }

  async stop(): Promise<void> {
    this.stopWorker("Runtime.ExitError", "stopped");
    await new Promise((resolve) => this.log.end(resolve));
  }

  private run(event: unknown): Promise<InvocationResult> {
    const worker = this.start();
    const id = `${this.planned.name}-${++this.next}`;
    const timeoutMs = this.planned.timeoutSeconds * 1000;
    this.invocations++;
    const started = Date.now();
    this.runningSince = started;
    return new Promise<InvocationResult>((resolve) => {
      const timer = setTimeout(
        () =>
          this.stopWorker("Sandbox.Timedout", `Task timed out after ${this.planned.timeoutSeconds} seconds`),
        timeoutMs,
      );
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        this.busyMs += Date.now() - started;
        this.runningSince = undefined;
        this.pending.delete(id);
        resolve(result);
      });
      worker.postMessage({ id, event, timeoutMs });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    this.coldStarts++;
    const worker = new Worker(ENVIRONMENT, {
      eval: true,
      // Plain Node, as Lambda's runtime: not this process's options (tsx's loader would scan the
      // whole bundle for ES module syntax at every cold start: 0.3 s of CPU each).
      execArgv: [],
      env: { ...this.environment },
      stdout: true,
      stderr: true,
      workerData: {
        file: this.file,
        name: this.planned.name,
        arn: `arn:aws:lambda:${this.environment.AWS_REGION}:${this.planned.account}:function:${this.planned.name}`,
        memoryMb: this.planned.memoryMb,
      },
    });
    worker.stdout.pipe(this.log, { end: false });
    worker.stderr.pipe(this.log, { end: false });
    worker.on("message", (message: { id: string } & InvocationResult) =>
      this.pending.get(message.id)?.(message),
    );
    worker.on("error", (error) => this.settleAll("Runtime.ExitError", String(error)));
    this.worker = worker;
    return worker;
  }

  private stopWorker(errorType: string, errorMessage: string): void {
    const worker = this.worker;
    this.worker = undefined;
    this.settleAll(errorType, errorMessage);
    void worker?.terminate();
  }

  private settleAll(errorType: string, errorMessage: string): void {
    for (const settle of [...this.pending.values()]) settle({ ok: false, errorType, errorMessage });
  }
}

import { fork, type ChildProcess } from "node:child_process";
import { startDynamoDB } from "../local/dynamodb";
import { startKinesalite } from "../local/kinesalite";
import { startPersonalizeEvents } from "../local/personalize-events";
import { typescriptNodeArgs } from "../tooling/node-args";

/**
 * The local servers a benchmark talks to (DynamoDB: dynalite behind its transaction front;
 * Personalize Events; Kinesis: kinesalite), run in a child process so that the benchmark's CPU
 * figures are the client's alone: in one process the servers' CPU would be counted as the
 * client's. The process boundary is the point here, so this is a process and not an in-process
 * server.
 */
export type ServiceName = "dynamodb" | "personalize" | "kinesis";

export interface RemoteServices<S extends ServiceName> {
  /** Endpoint of each service started, on 127.0.0.1. */
  readonly endpoints: Readonly<Record<S, string>>;
  /** Requests received so far by DynamoDB and Personalize, by operation (empty when not started). */
  counts(): Promise<{ dynamodb: Record<string, number>; personalize: Record<string, number> }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

type Request = { kind: "counts" | "reset" | "stop"; id: number };

export const BENCH_TRACKING_ID = "bench-tracker";
export const BENCH_TABLES = ["bench-idempotency"] as const;

/** Starts `services` in one child process. */
export async function startRemoteServices<S extends ServiceName>(
  services: readonly S[],
): Promise<RemoteServices<S>> {
  const child: ChildProcess = fork(__filename, ["--serve", ...services], {
    execArgv: typescriptNodeArgs(),
    stdio: "inherit",
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const ready = new Promise<Record<S, string>>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench services exited with code ${code}`)));
    child.on("message", (message: { id?: number; ready?: Record<S, string>; value?: unknown }) => {
      if (message.ready) resolve(message.ready);
      else if (message.id !== undefined) pending.get(message.id)?.(message.value);
    });
  });
  const ask = (kind: Request["kind"]) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ kind, id } satisfies Request);
    });
  const endpoints = await ready;
  return {
    endpoints,
    counts: () => ask("counts") as ReturnType<RemoteServices<S>["counts"]>,
    reset: async () => void (await ask("reset")),
    stop: async () => {
      const exited = new Promise((resolve) =>
        child.exitCode === null ? child.once("exit", resolve) : resolve(undefined),
      );
      await ask("stop");
      await exited;
    },
  };
}

async function serve(services: readonly ServiceName[]): Promise<void> {
  const dynamodb = services.includes("dynamodb") ? await startDynamoDB() : undefined;
  for (const table of dynamodb ? BENCH_TABLES : []) await dynamodb!.createTable(table);
  const personalize = services.includes("personalize")
    ? await startPersonalizeEvents({ trackingIds: [BENCH_TRACKING_ID] })
    : undefined;
  const kinesis = services.includes("kinesis") ? await startKinesalite() : undefined;
  process.on("message", async (request: Request) => {
    let value: unknown;
    if (request.kind === "counts") {
      value = { dynamodb: { ...dynamodb?.requests }, personalize: { ...personalize?.requests } };
    } else if (request.kind === "reset") {
      dynamodb?.resetCounts();
      personalize?.reset();
    } else {
      await Promise.all([dynamodb?.stop(), personalize?.stop(), kinesis?.stop()]);
    }
    process.send!({ id: request.id, value });
    if (request.kind === "stop") process.disconnect();
  });
  process.send!({
    ready: {
      ...(dynamodb && { dynamodb: dynamodb.endpoint }),
      ...(personalize && { personalize: personalize.endpoint }),
      ...(kinesis && { kinesis: kinesis.endpoint }),
    },
  });
}

if (require.main === module && process.argv.includes("--serve")) {
  const services = process.argv.slice(process.argv.indexOf("--serve") + 1) as ServiceName[];
  serve(services).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

import { fork, type ChildProcess } from "node:child_process";
import { startDynamoDB, type LocalDynamoDB } from "../local/dynamodb";
import { startPersonalizeEvents, type LocalPersonalizeEvents } from "../local/personalize-events";

/**
 * The local servers a benchmark talks to (DynamoDB: dynalite behind its transaction front;
 * Personalize Events), run in a child process so that the benchmark's CPU figures are the
 * client's alone: in one process the servers' CPU would be counted as the handler's. The process
 * boundary is the point here, so this is a process and not an in-process server.
 */
export interface RemoteServices {
  readonly dynamodbEndpoint: string;
  readonly personalizeEndpoint: string;
  /** Requests received so far: DynamoDB by operation, Personalize by operation. */
  counts(): Promise<{ dynamodb: Record<string, number>; personalize: Record<string, number> }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

type Request = { kind: "counts" | "reset" | "stop"; id: number };

export const BENCH_TRACKING_ID = "bench-tracker";
export const BENCH_TABLES = ["bench-idempotency"] as const;

export async function startRemoteServices(): Promise<RemoteServices> {
  const child: ChildProcess = fork(__filename, ["--serve"], {
    execArgv: ["--require", "tsx/cjs"],
    stdio: "inherit",
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 0;
  const ready = new Promise<{ dynamodb: string; personalize: string }>((resolve, reject) => {
    child.once("error", reject);
    child.on(
      "message",
      (message: { id?: number; ready?: { dynamodb: string; personalize: string }; value?: unknown }) => {
        if (message.ready) resolve(message.ready);
        else if (message.id !== undefined) pending.get(message.id)?.(message.value);
      },
    );
  });
  const ask = (kind: Request["kind"]) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ kind, id } satisfies Request);
    });
  const endpoints = await ready;
  return {
    dynamodbEndpoint: endpoints.dynamodb,
    personalizeEndpoint: endpoints.personalize,
    counts: () => ask("counts") as ReturnType<RemoteServices["counts"]>,
    reset: async () => void (await ask("reset")),
    stop: async () => {
      await ask("stop");
      await new Promise((resolve) =>
        child.exitCode === null ? child.once("exit", resolve) : resolve(undefined),
      );
    },
  };
}

async function serve(): Promise<void> {
  const dynamodb: LocalDynamoDB = await startDynamoDB();
  for (const table of BENCH_TABLES) await dynamodb.createTable(table);
  const personalize: LocalPersonalizeEvents = await startPersonalizeEvents({
    trackingIds: [BENCH_TRACKING_ID],
  });
  process.on("message", async (request: Request) => {
    let value: unknown;
    if (request.kind === "counts") {
      value = { dynamodb: { ...dynamodb.requests }, personalize: { ...personalize.requests } };
    } else if (request.kind === "reset") {
      dynamodb.resetCounts();
      personalize.reset();
    } else {
      await Promise.all([dynamodb.stop(), personalize.stop()]);
    }
    process.send!({ id: request.id, value });
    if (request.kind === "stop") process.disconnect();
  });
  process.send!({ ready: { dynamodb: dynamodb.endpoint, personalize: personalize.endpoint } });
}

if (require.main === module && process.argv.includes("--serve")) {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

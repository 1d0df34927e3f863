import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { domains } from "../domains";
import { bundleHandler } from "../components/lambda";
import { Publisher } from "../runtime/publisher";
import { startDynamoDB } from "./dynamodb";
import { LocalFunction } from "./functions";
import { startKinesalite } from "./kinesalite";
import { MappingRunner, type LocalRecord, type MappingObserver } from "./mapping";
import { startFirehose } from "./firehose";
import {
  startWebSocketGateway,
  subscribe,
  type LocalWebSocketGateway,
  type Subscriber,
} from "./websocket-gateway";
import { startPersonalizeEvents } from "./personalize-events";
import type { LocalPlan } from "./plan";
import { Faults, type Ledger } from "./faults";
import { Scenario, type ScenarioEvent } from "./scenario";

export interface LocalMeshOptions {
  /** Events per second over the four producers. */
  readonly rate: number;
  readonly durationSeconds: number;
  readonly seed: number;
  readonly faults: boolean;
  /** How long to wait, after the last event is published, for every subscription to finish it. */
  readonly drainSeconds?: number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /**
   * Serve instead of producing: the mesh runs, empty, until the signal aborts, for teams to publish
   * to it (`npm run local -- publish`, with the endpoint it prints) and watch each outcome.
   */
  readonly serve?: AbortSignal;
}

/** One subscription's figures. */
export interface SubscriptionFigures {
  readonly mapping: string;
  readonly function: string;
  read: number;
  filteredOut: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  lost: number;
  latencies: number[];
}

export interface LocalMeshResult {
  readonly produced: number;
  readonly lost: number;
  readonly deadLettered: number;
  readonly p50: number;
  readonly p99: number;
  readonly subscriptions: readonly SubscriptionFigures[];
  /** Checks of the fault mode (empty without faults): a line each, and whether it held. */
  readonly checks: readonly { readonly ok: boolean; readonly line: string }[];
  readonly wallSeconds: number;
  readonly workDir: string;
}

/** A local subscriber token: the plan's stand-in hash is replaced with this token's. */
const PUSH_TOKEN = randomUUID();

/** Decoded event id of a record, or its sequence number for data that is not an envelope. */
function keyOf(record: LocalRecord): string {
  try {
    const id = (JSON.parse(record.data.toString("utf8")) as { id?: unknown }).id;
    if (typeof id === "string") return id;
  } catch {
    // not JSON: keyed by its position
  }
  return `${record.shardId}/${record.sequenceNumber}`;
}

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Runs the data-in-motion plane of `plan` on this machine: kinesalite with every planned stream,
 * dynalite with the functions' tables, local Personalize Events / Firehose / API Gateway management
 * endpoints, every planned function from its own bundle in its own environment, every Kinesis
 * mapping with its own settings, and the producers publishing a seeded scenario through the
 * project's Publisher. Resolves with the figures; every server is stopped before it resolves.
 */
export async function runLocalMesh(plan: LocalPlan, options: LocalMeshOptions): Promise<LocalMeshResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const workDir = mkdtempSync(join(tmpdir(), "local-mesh-"));
  const region = "eu-west-1";
  const stops: (() => Promise<void>)[] = [];
  const functions = new Map<string, LocalFunction>();
  const runners: MappingRunner[] = [];
  try {
    const kinesis = await startKinesalite();
    stops.push(() => kinesis.stop());
    for (const stream of plan.streams) await kinesis.createStream(stream.name, stream.shards);
    const dynamodb = await startDynamoDB();
    stops.push(() => dynamodb.stop());
    for (const table of plan.tables) await dynamodb.createTable(table.name, table.hashKey);
    const firehose = await startFirehose();
    stops.push(() => firehose.stop());
    const environments = [...plan.functions.values()].map((fn) => fn.environment);
    const datasetArns = environments.flatMap((env) =>
      Object.entries(env)
        .filter(([name]) => /^PERSONALIZE_.*DATASET_ARN$/.test(name))
        .map(([, value]) => value),
    );
    const trackingId = "local-tracker";
    const personalize = await startPersonalizeEvents({ trackingIds: [trackingId], datasetArns });
    stops.push(() => personalize.stop());

    const common = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_FIREHOSE: firehose.endpoint,
      AWS_ENDPOINT_URL_PERSONALIZE_EVENTS: personalize.endpoint,
      NODE_OPTIONS: "",
    };
    // One WebSocket API per push channel: the functions that push name its management endpoint.
    const gateways: LocalWebSocketGateway[] = [];
    const managementEndpoints = new Map<string, string>();
    for (const planned of plan.functions.values()) {
      if (!planned.environment.WEBSOCKET_ENDPOINT) continue;
      const part = (suffix: string) => {
        const fn = functions.get(`${planned.name}-${suffix}`);
        if (!fn) throw new Error(`${planned.name}: the plan has no ${planned.name}-${suffix} function`);
        return fn;
      };
      const gateway = await startWebSocketGateway(
        () => ({ authorizer: part("authorizer"), connect: part("connect"), disconnect: part("disconnect") }),
        planned.account,
        new URL(planned.environment.WEBSOCKET_ENDPOINT).pathname.slice(1),
      );
      stops.push(() => gateway.stop());
      gateways.push(gateway);
      managementEndpoints.set(planned.name, gateway.managementEndpoint);
    }
    // Every handler of the plan, bundled as the plan bundles it, in one esbuild call.
    const entries = [...new Set([...plan.functions.values()].map((f) => f.entry))];
    const built = await Promise.all(entries.map(bundleHandler));
    const bundles = new Map(entries.map((entry, i) => [entry, built[i]!]));
    for (const planned of plan.functions.values()) {
      // Values the plan cannot know (outputs of other resources) or holds a stand-in for, made local.
      const local: Record<string, string> = {};
      for (const variable of planned.unknownEnvironment) {
        if (variable !== "PERSONALIZE_TRACKING_ID") {
          throw new Error(
            `function ${planned.name}: ${variable} is unknown in the plan and has no local value`,
          );
        }
        local.PERSONALIZE_TRACKING_ID = trackingId;
      }
      const managementEndpoint = managementEndpoints.get(planned.name);
      if (managementEndpoint) local.WEBSOCKET_ENDPOINT = managementEndpoint;
      if (planned.environment.PUSH_TOKEN_SHA256) {
        local.PUSH_TOKEN_SHA256 = createHash("sha256").update(PUSH_TOKEN).digest("hex");
      }
      functions.set(
        planned.name,
        new LocalFunction(
          planned,
          { ...common, ...planned.environment, ...local },
          workDir,
          bundles.get(planned.entry)!,
        ),
      );
    }
    stops.push(async () => {
      for (const fn of functions.values()) await fn.stop();
    });
    log(
      `local mesh: ${plan.streams.length} streams, ${plan.mappings.length} mappings, ${functions.size} functions; work dir ${workDir}`,
    );

    // Push subscribers: real WebSocket clients, three per channel, through the $connect authorizer.
    const subscribers: Subscriber[] = [];
    stops.push(async () => {
      for (const subscriber of subscribers) subscriber.socket.terminate();
    });
    for (const gateway of gateways) {
      for (let i = 0; i < 3; i++) subscribers.push(await subscribe(gateway.url, PUSH_TOKEN));
    }

    // Accounting, by event id, per subscription.
    const figures = new Map<MappingRunner, SubscriptionFigures>();
    const outcomes = new Map<MappingRunner, Map<string, "delivered" | "filtered" | "dead-lettered">>();
    const ledgers: Ledger[] = [];
    const publishedAt = new Map<string, number>();
    const productOf = new Map<string, string>();
    for (const mapping of plan.mappings) {
      const fn = functions.get(mapping.functionName)!;
      const figure: SubscriptionFigures = {
        mapping: mapping.name,
        function: mapping.functionName,
        read: 0,
        filteredOut: 0,
        delivered: 0,
        retried: 0,
        deadLettered: 0,
        lost: 0,
        latencies: [],
      };
      const outcome = new Map<string, "delivered" | "filtered" | "dead-lettered">();
      const deadLetters = new Map<string, number>();
      const sequenceNumbers = new Map<string, string>();
      const observer: MappingObserver = {
        read(record) {
          figure.read++;
          sequenceNumbers.set(keyOf(record), record.sequenceNumber);
        },
        filteredOut(record) {
          figure.filteredOut++;
          if (options.serve) log(`${mapping.name}: ${keyOf(record)} filtered out`);
          if (!outcome.has(keyOf(record))) outcome.set(keyOf(record), "filtered");
        },
        delivered(records, at) {
          for (const record of records) {
            const key = keyOf(record);
            if (outcome.get(key) === "delivered") continue;
            outcome.set(key, "delivered");
            if (options.serve) log(`${mapping.name}: ${key} delivered`);
            figure.delivered++;
            const from = publishedAt.get(key);
            if (from !== undefined) figure.latencies.push(at - from);
          }
        },
        retried: (records) => void (figure.retried += records.length),
        deadLettered(records) {
          for (const record of records) {
            const key = keyOf(record);
            deadLetters.set(key, (deadLetters.get(key) ?? 0) + 1);
            if (!outcome.has(key)) {
              outcome.set(key, "dead-lettered");
              if (options.serve) log(`${mapping.name}: ${key} dead-lettered (see ${workDir}/destinations)`);
              figure.deadLettered++;
            }
          }
        },
      };
      const runner = new MappingRunner(mapping, {
        kinesis: kinesis.client,
        region,
        invoke: (event) => fn.invoke(event),
        timeoutSeconds: fn.planned.timeoutSeconds,
        observer,
        destination: async (record, shardId) => {
          // The S3 destination as a folder: bucket/aws/lambda/<mapping>/<shard>/<time>-<uuid>.
          const bucket = (mapping.onFailureDestination ?? "none").split(":::").pop()!;
          const dir = join(workDir, "destinations", bucket, "aws", "lambda", mapping.name, shardId);
          mkdirSync(dir, { recursive: true });
          const file = `${new Date().toISOString().replace(/:/g, ".")}-${randomUUID()}.json`;
          writeFileSync(join(dir, file), JSON.stringify(record));
        },
      });
      figures.set(runner, figure);
      outcomes.set(runner, outcome);
      ledgers.push({
        mapping,
        outcomes: outcome,
        deadLetters,
        sequenceNumbers,
        longestBatchMs: () => runner.longestBatchMs,
        allowedBatchMs: () => runner.allowedBatchMs(),
      });
      runners.push(runner);
    }
    stops.push(async () => {
      await Promise.all(runners.map((runner) => runner.stop()));
    });
    for (const runner of runners) await runner.start();

    // Producers: one Publisher per producing domain, the scenario at the given rate.
    const publishers = new Map<string, Publisher>();
    for (const domain of domains) {
      const streamed = domain.products.filter((product) => product.kind !== "at-rest");
      if (!streamed.length) continue;
      publishers.set(
        domain.name,
        new Publisher({
          client: kinesis.client,
          domain,
          streams: Object.fromEntries(
            streamed.map((product) => [product.name, { streamName: `${domain.name}.${product.name}` }]),
          ),
        }),
      );
    }
    const scenario = new Scenario(options.seed, `run${options.seed}`);
    const published: ScenarioEvent[] = [];
    const faults = options.faults
      ? new Faults({
          plan,
          kinesis: kinesis.client,
          publishers,
          personalize,
          firehose,
          dynamodb,
          functions,
          subscribers,
          workDir,
          published,
          log,
        })
      : undefined;
    if (options.serve) {
      log(
        `serving until Ctrl-C; publish with: AWS_ENDPOINT_URL_KINESIS=${kinesis.endpoint} AWS_REGION=${region} ` +
          `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local npm run local -- publish <domain>/<product> <file.jsonl>`,
      );
      const signal = options.serve;
      await new Promise<void>((resolve) =>
        signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
    const total = options.serve ? 0 : Math.round(options.rate * options.durationSeconds);
    const tickMs = 100;
    let produced = 0;
    const producing = Date.now();
    while (produced < total) {
      const due = Math.min(total, Math.ceil(((Date.now() - producing + tickMs) / 1000) * options.rate));
      const events = scenario.next(Math.max(0, due - produced));
      const byProduct = new Map<string, typeof events>();
      for (const item of events) byProduct.set(item.product, [...(byProduct.get(item.product) ?? []), item]);
      await Promise.all(
        [...byProduct].map(async ([product, items]) => {
          const [domain, name] = product.split("/") as [string, string];
          const now = Date.now();
          for (const item of items) {
            publishedAt.set(item.event.id, now);
            productOf.set(item.event.id, product);
          }
          const result = await publishers.get(domain)!.publish(
            name,
            items.map((item) => item.event),
          );
          if (result.failed.length)
            throw new Error(
              `${product}: ${result.failed.length} events not published: ${result.failed[0]!.errorMessage}`,
            );
        }),
      );
      produced += events.length;
      published.push(...events);
      await faults?.at(produced / total);
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    log(
      `local mesh: ${produced} events published in ${((Date.now() - producing) / 1000).toFixed(1)} s; draining`,
    );

    // Drain: every subscription has an outcome for every event of its stream, or the time is up.
    const expected = (runner: MappingRunner) =>
      [...productOf]
        .filter(([, product]) => product.replace("/", ".") === runner.mapping.streamName)
        .map(([id]) => id);
    const deadline = Date.now() + (options.drainSeconds ?? 60) * 1000;
    const settled = () =>
      runners.every(
        (runner) => runner.idle() && expected(runner).every((id) => outcomes.get(runner)!.has(id)),
      );
    while (!settled() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

    const lostIds = new Set<string>();
    for (const runner of runners) {
      const figure = figures.get(runner)!;
      for (const id of expected(runner)) {
        if (!outcomes.get(runner)!.has(id)) {
          figure.lost++;
          lostIds.add(id);
        }
      }
    }
    for (const fn of functions.values()) {
      log(
        `${fn.planned.name}: ${fn.invocations} invocations, ${fn.coldStarts} cold starts, busy ${(fn.busyMs / 1000).toFixed(1)} s`,
      );
    }
    log(`DynamoDB requests: ${JSON.stringify(dynamodb.requests)}`);
    // What the push functions completed must have reached every subscriber still connected.
    const pushed = new Set(
      ledgers
        .filter((ledger) => managementEndpoints.has(ledger.mapping.functionName))
        .flatMap((ledger) =>
          [...ledger.outcomes].filter(([, outcome]) => outcome === "delivered").map(([id]) => id),
        ),
    );
    const connected = subscribers.filter(
      (subscriber) => subscriber.socket.readyState === subscriber.socket.OPEN,
    );
    const missing = connected.map((subscriber) => {
      const got = new Set(
        subscriber.messages.flatMap((message) =>
          (JSON.parse(message) as { events: { id: string }[] }).events.map((e) => e.id),
        ),
      );
      return [...pushed].filter((id) => !got.has(id));
    });
    const checks = [
      {
        ok: missing.every((ids) => ids.length === 0),
        line: `push: each of the ${connected.length} connected subscribers received the ${pushed.size} events the live feed completed; missing: ${missing.map((ids) => ids.length).join(", ")}`,
      },
      ...effectChecks(
        personalize.accepted.PutEvents,
        firehose.records,
        subscribers,
        faults?.crashVictims() ?? new Set(),
      ),
      ...((await faults?.checks(ledgers)) ?? []),
    ];
    const latencies = [...figures.values()].flatMap((figure) => figure.latencies);
    const deadLettered = [...figures.values()].reduce((sum, figure) => sum + figure.deadLettered, 0);
    return {
      produced,
      lost: lostIds.size,
      deadLettered,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      subscriptions: [...figures.values()],
      checks,
      wallSeconds: (Date.now() - started) / 1000,
      workDir,
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Ids seen more than once in `ids`. */
function repeated(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}

/**
 * What the neighbours received, checked: each event reaches Personalize at most once and, per
 * user, in the order it happened; each document reaches Firehose at most once; each subscriber
 * gets each event at most once.
 */
function effectChecks(
  putEvents: readonly Record<string, unknown>[],
  firehose: ReadonlyMap<string, string[]>,
  subscribers: readonly Subscriber[],
  /** Events a crashed invocation had sent: sent again by its retry, by design (at-least-once). */
  crashVictims: ReadonlySet<string>,
): { ok: boolean; line: string }[] {
  const events = putEvents.flatMap((call) =>
    (call.eventList as { eventId: string; sentAt: number }[]).map((event) => ({
      ...event,
      userId: String(call.userId),
    })),
  );
  const again = repeated(events.map((event) => event.eventId));
  const twice = again.filter((id) => !crashVictims.has(id));
  const resent = again.length - twice.length;
  // Order of first receipts: a resent event arrives again after later ones, by nature.
  const first = new Set<string>();
  const lastByUser = new Map<string, number>();
  const outOfOrder = events.filter((event) => {
    if (first.has(event.eventId)) return false;
    first.add(event.eventId);
    const last = lastByUser.get(event.userId) ?? -Infinity;
    lastByUser.set(event.userId, Math.max(last, event.sentAt));
    return event.sentAt < last;
  });
  const documents = [...firehose.values()]
    .flat()
    .map((line) => String((JSON.parse(line) as { eventId?: unknown }).eventId));
  const received = subscribers.flatMap((subscriber) => subscriber.messages).length;
  const pushedTwice = subscribers.flatMap((subscriber) =>
    repeated(
      subscriber.messages.flatMap((message) =>
        (JSON.parse(message) as { events: { id: string }[] }).events.map((e) => e.id),
      ),
    ),
  );
  const example = (ids: readonly string[]) => (ids.length ? ` (e.g. ${ids[0]})` : "");
  return [
    {
      ok: twice.length === 0,
      line:
        `Personalize PutEvents: ${events.length} events, ${twice.length} received more than once${example(twice)}` +
        (crashVictims.size
          ? `; besides, ${resent} of the ${crashVictims.size} events the crashed invocation had sent were sent again by its retry, with the same eventId, which Personalize uses once (docs/aws-facts.md#firehose-and-personalize)`
          : ""),
    },
    {
      ok: outOfOrder.length === 0,
      line: `Personalize PutEvents: ${outOfOrder.length} events of a user received after a later one${example(outOfOrder.map((e) => e.eventId))}`,
    },
    {
      ok: repeated(documents).length === 0,
      line: `Firehose: ${documents.length} documents, ${repeated(documents).length} received more than once${example(repeated(documents))}`,
    },
    {
      ok: pushedTwice.length === 0,
      line: `push: ${subscribers.length} WebSocket subscribers received ${received} messages, ${pushedTwice.length} events twice${example(pushedTwice)}`,
    },
  ];
}

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PersonalizeEventsClient, PutEventsCommand } from "@aws-sdk/client-personalize-events";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { KinesisStreamEvent } from "aws-lambda";
import { createInteractionsUpdateHandler } from "../domains/recommendations/handlers/interactions-update";
import { DynamoDBIdempotencyStore } from "../runtime/consumer-idempotency";
import {
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../runtime/consumer-testing";
import { BENCH_TABLES, BENCH_TRACKING_ID, startRemoteServices } from "./local-services";
import { seededRandom } from "../tooling/random";

/**
 * Records benchmarked. Every idempotency write is a real request to dynalite, which is slow (about
 * 10 ms per item on a loaded 2-core machine), so the default is 2,000 records (4 batches of 500);
 * figures are per 1,000 records and do not depend on the count. `BENCH_RECORDS` overrides it.
 */
const EVENTS = Number(process.env.BENCH_RECORDS ?? 2_000);
const USERS = 800;
/** The interactions-update subscription's batch size (domains/recommendations/index.ts). */
const BATCH_SIZE = 500;
const MAX_EVENTS_PER_CALL = 10;

interface Interaction {
  readonly envelope: Record<string, unknown>;
  readonly group: string;
  readonly at: number;
}

/**
 * A stream of interactions as producers write it: each user has one to five listening sessions
 * over a day, each session a burst of plays, skips and likes; the stream interleaves them in time.
 */
function generate(): Interaction[] {
  // Deterministic numbers, so every run benchmarks the same stream.
  const next = seededRandom(20260301);
  const sessions: { userId: string; sessionId: string; start: number }[] = [];
  for (let u = 0; u < USERS; u++) {
    const count = 1 + Math.floor(next() * 5);
    for (let s = 0; s < count; s++) {
      sessions.push({
        userId: `user-${u}`,
        sessionId: `user-${u}-session-${s}`,
        start: Date.UTC(2026, 2, 1) + Math.floor(next() * 86_400_000),
      });
    }
  }
  const types = [
    "interaction.play",
    "interaction.play",
    "interaction.play",
    "interaction.skip",
    "interaction.like",
  ];
  const devices = ["mobile", "desktop", "web", "speaker", "car"];
  const interactions: Interaction[] = [];
  const offsets = new Map<string, number>();
  for (let i = 0; i < EVENTS; i++) {
    // Skewed towards a minority of long sessions, as listening is.
    const session = sessions[Math.floor(next() ** 2 * sessions.length)]!;
    const offset = offsets.get(session.sessionId) ?? 0;
    offsets.set(session.sessionId, offset + 1);
    const at = session.start + offset * 30_000;
    const type = types[Math.floor(next() * types.length)]!;
    const song = next() < 0.8;
    interactions.push({
      group: JSON.stringify([session.userId, session.sessionId]),
      at,
      envelope: {
        specversion: "1.0",
        id: `interaction-${i}`,
        source: "interactions/interaction-events",
        type,
        time: new Date(at).toISOString(),
        dataversion: 1,
        partitionkey: session.userId,
        data: {
          userId: session.userId,
          itemId: `${song ? "song" : "ep"}-${Math.floor(next() * 50_000)}`,
          itemType: song ? "song" : "episode",
          sessionId: session.sessionId,
          occurredAt: new Date(at).toISOString(),
          device: devices[Math.floor(next() * devices.length)],
          ...(type === "interaction.play" ? { playedMs: Math.floor(next() * 240_000) } : {}),
          ...(type === "interaction.skip" ? { positionMs: Math.floor(next() * 30_000) } : {}),
        },
      },
    });
  }
  return interactions.sort((a, b) => a.at - b.at);
}

/** Σ over user+session groups of ⌈n / 10⌉. */
function minimumCalls(interactions: readonly Interaction[]): number {
  const sizes = new Map<string, number>();
  for (const { group } of interactions) sizes.set(group, (sizes.get(group) ?? 0) + 1);
  let calls = 0;
  for (const size of sizes.values()) calls += Math.ceil(size / MAX_EVENTS_PER_CALL);
  return calls;
}

function cpuMs(run: () => void | Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  return Promise.resolve(run()).then(() => {
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  });
}

const format = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export interface InteractionsHandlerFigures {
  readonly events: number;
  readonly putEventsCalls: number;
  readonly minimumCallsInBatches: number;
  readonly handlerCpuMsPer1000: number;
  readonly baselineCpuMsPer1000: number;
  readonly dynamodbRequestsPer1000: number;
  readonly redeliveryDynamodbRequestsPer1000: number;
  readonly redeliveryPutEventsCalls: number;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * interactions-update on interactions in batches of 500, with the real SDK clients: Personalize
 * Events against a local endpoint speaking its REST-JSON protocol, the idempotency store against
 * dynalite, both in a child process so that the CPU measured here is the handler's. Prints CPU
 * per 1,000 records and requests per 1,000 records beside the baseline: decode + JSON.parse and
 * the fewest PutEvents calls for the same events, sent with the same client.
 */
export async function benchInteractionsHandler(): Promise<InteractionsHandlerFigures> {
  const interactions = generate();
  const nextSequenceNumber = sequenceNumbers();
  const batches: KinesisStreamEvent[] = [];
  for (let i = 0; i < interactions.length; i += BATCH_SIZE) {
    batches.push({
      Records: interactions.slice(i, i + BATCH_SIZE).map(({ envelope }) =>
        kinesisRecord(envelope, {
          sequenceNumber: nextSequenceNumber(),
          partitionKey: String(envelope.partitionkey),
        }),
      ),
    });
  }
  const minimumInBatches = batches.reduce(
    (total, _, b) => total + minimumCalls(interactions.slice(b * BATCH_SIZE, (b + 1) * BATCH_SIZE)),
    0,
  );

  const services = await startRemoteServices(["dynamodb", "personalize"]);
  const local = { region: "eu-west-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } };
  const personalize = new PersonalizeEventsClient({
    ...local,
    endpoint: services.endpoints.personalize,
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
  const dynamodb = new DynamoDBClient({
    ...local,
    endpoint: services.endpoints.dynamodb,
    requestHandler: new NodeHttpHandler(),
  });
  try {
    const context = lambdaContext("interactions-update", 300_000);
    /** A handler in a fresh execution environment: no completed ids remembered. */
    const newHandler = (keyPrefix: string) =>
      createInteractionsUpdateHandler({
        client: personalize,
        trackingId: BENCH_TRACKING_ID,
        idempotency: {
          store: new DynamoDBIdempotencyStore(dynamodb, BENCH_TABLES[0]),
          expiresAfterSeconds: 21_600,
          keyPrefix,
        },
        observability: silentObservability(),
      });
    const deliver = async (handler: ReturnType<typeof newHandler>) => {
      let failures = 0;
      for (const batch of batches) failures += (await handler(batch, context)).batchItemFailures.length;
      if (failures) throw new Error(`benchmark run reported ${failures} failed records`);
    };

    // Warm up (module initialisation, JIT, connections) under keys of its own.
    await deliver(newHandler("warm-up"));
    await services.reset();

    const handler = newHandler("bench");
    const handlerMs = await cpuMs(() => deliver(handler));
    const first = await services.counts();

    await services.reset();
    await deliver(handler);
    const warmRedelivery = await services.counts();

    await services.reset();
    await deliver(newHandler("bench"));
    const coldRedelivery = await services.counts();

    // The baseline: decode and parse every record, then the fewest PutEvents calls for them.
    await services.reset();
    const baselineMs = await cpuMs(async () => {
      for (const batch of batches) {
        const groups = new Map<string, { userId: string; sessionId: string; events: unknown[] }>();
        for (const record of batch.Records) {
          const envelope = JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
          const { userId, sessionId } = envelope.data;
          const key = JSON.stringify([userId, sessionId]);
          let group = groups.get(key);
          if (!group) groups.set(key, (group = { userId, sessionId, events: [] }));
          group.events.push(envelope);
        }
        await Promise.all(
          [...groups.values()].map(async (group) => {
            for (let i = 0; i < group.events.length; i += 10) {
              const eventList = group.events.slice(i, i + 10).map((envelope) => {
                const event = envelope as {
                  id: string;
                  type: string;
                  data: { itemType: string; itemId: string; occurredAt: string };
                };
                return {
                  eventId: event.id,
                  eventType: event.type,
                  itemId: `${event.data.itemType}:${event.data.itemId}`,
                  sentAt: new Date(event.data.occurredAt),
                };
              });
              await personalize.send(
                new PutEventsCommand({
                  trackingId: BENCH_TRACKING_ID,
                  userId: group.userId,
                  sessionId: group.sessionId,
                  eventList,
                }),
              );
            }
          }),
        );
      }
    });
    const baseline = await services.counts();

    // Last, because it cannot be undone in this process: the X-Ray SDK's async hook, loaded by the
    // Powertools tracer, as it runs in every invocation when POWERTOOLS_TRACE_ENABLED=true.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("@aws-lambda-powertools/tracer");
    const hooked = newHandler("bench-hooked");
    await deliver(hooked);
    await services.reset();
    const hookedMs = await cpuMs(() => deliver(newHandler("bench-hooked-2")));

    const per1000 = (value: number) => (value * 1000) / interactions.length;
    const figures: InteractionsHandlerFigures = {
      events: interactions.length,
      putEventsCalls: first.personalize.PutEvents ?? 0,
      minimumCallsInBatches: minimumInBatches,
      handlerCpuMsPer1000: per1000(handlerMs),
      baselineCpuMsPer1000: per1000(baselineMs),
      dynamodbRequestsPer1000: per1000(sum(first.dynamodb)),
      redeliveryDynamodbRequestsPer1000: per1000(sum(coldRedelivery.dynamodb)),
      redeliveryPutEventsCalls:
        (coldRedelivery.personalize.PutEvents ?? 0) + (warmRedelivery.personalize.PutEvents ?? 0),
    };
    const ratio = figures.handlerCpuMsPer1000 / figures.baselineCpuMsPer1000;
    const rows: [string, string][] = [
      ["records / batches of 500", `${format(figures.events)} / ${format(batches.length)}`],
      ["handler CPU per 1,000 records", `${format(figures.handlerCpuMsPer1000, 1)} ms`],
      [
        "baseline CPU per 1,000 records (decode, parse, fewest PutEvents)",
        `${format(figures.baselineCpuMsPer1000, 1)} ms`,
      ],
      ["handler ÷ baseline (target ≤ 3×)", `${format(ratio, 2)}×`],
      [
        "PutEvents calls: handler / fewest within batches / baseline",
        `${format(figures.putEventsCalls)} / ${format(minimumInBatches)} / ${format(baseline.personalize.PutEvents ?? 0)}`,
      ],
      [
        "DynamoDB requests per 1,000 records, first delivery (target ≤ 30)",
        `${format(figures.dynamodbRequestsPer1000, 1)} (${Object.entries(first.dynamodb)
          .map(([op, n]) => `${op} ${n}`)
          .join(", ")})`,
      ],
      [
        "  redelivery to a fresh environment (target ≤ 30)",
        `${format(figures.redeliveryDynamodbRequestsPer1000, 1)} (${
          Object.entries(coldRedelivery.dynamodb)
            .map(([op, n]) => `${op} ${n}`)
            .join(", ") || "none"
        })`,
      ],
      ["  redelivery to the same warm environment", format(per1000(sum(warmRedelivery.dynamodb)), 1)],
      ["PutEvents calls on redelivery", format(figures.redeliveryPutEventsCalls)],
      [
        "handler CPU per 1,000 with the X-Ray SDK hook loaded (SDK tracing on)",
        `${format(per1000(hookedMs), 1)} ms (${format(per1000(hookedMs) / figures.baselineCpuMsPer1000, 2)}× baseline)`,
      ],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log(
      "\ninteractions-update handler, real SDK clients (Personalize Events endpoint and dynalite in a child process)",
    );
    for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
    return figures;
  } finally {
    personalize.destroy();
    dynamodb.destroy();
    await services.stop();
  }
}

if (require.main === module) {
  benchInteractionsHandler().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

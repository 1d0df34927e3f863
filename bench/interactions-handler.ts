import { PersonalizeEventsClient, PutEventsCommand } from "@aws-sdk/client-personalize-events";
import type { KinesisStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { createInteractionsUpdateHandler } from "../domains/recommendations/handlers/interactions-update";
import {
  InMemoryPersistenceLayer,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../runtime/consumer-testing";

const EVENTS = 10_000;
const USERS = 800;
/** The interactions-update subscription's batch size (domains/recommendations/index.ts). */
const BATCH_SIZE = 500;
const MAX_EVENTS_PER_CALL = 10;

/** Deterministic numbers, so every run benchmarks the same stream. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  const next = random(20260301);
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
  readonly groups: number;
  readonly putEventsCalls: number;
  readonly minimumCalls: number;
  readonly minimumCallsInBatches: number;
  readonly handlerCpuMsPer1000: number;
  readonly baselineCpuMsPer1000: number;
  readonly replayPutEventsCalls: number;
}

/**
 * interactions-update on 10,000 interactions in batches of 500, with Personalize mocked and the
 * idempotency store in memory: how many PutEvents calls it makes against the fewest possible, and
 * what it costs in CPU per 1,000 records next to merely decoding them.
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
  const groups = new Set(interactions.map((i) => i.group)).size;
  const minimumInBatches = batches.reduce(
    (sum, _, b) => sum + minimumCalls(interactions.slice(b * BATCH_SIZE, (b + 1) * BATCH_SIZE)),
    0,
  );

  const personalize = mockClient(PersonalizeEventsClient);
  personalize.on(PutEventsCommand).resolves({});
  try {
    const context = lambdaContext("interactions-update");
    const newHandler = () =>
      createInteractionsUpdateHandler({
        trackingId: "bench-tracker",
        idempotency: { persistenceStore: new InMemoryPersistenceLayer(), expiresAfterSeconds: 21_600 },
        observability: silentObservability(),
      });

    // Warm up (module initialisation, JIT) on a handler and store of its own.
    const warmUp = newHandler();
    for (const batch of batches.slice(0, 4)) await warmUp(batch, context);
    personalize.resetHistory();

    const handler = newHandler();
    let failures = 0;
    const handlerMs = await cpuMs(async () => {
      for (const batch of batches) failures += (await handler(batch, context)).batchItemFailures.length;
    });
    const calls = personalize.commandCalls(PutEventsCommand).length;
    if (failures) throw new Error(`benchmark run reported ${failures} failed records`);

    // Lambda delivers everything again (a checkpoint replay): every id is known, nothing is sent.
    personalize.resetHistory();
    for (const batch of batches) await handler(batch, context);
    const replayCalls = personalize.commandCalls(PutEventsCommand).length;

    const baselineMs = await cpuMs(() => {
      for (const batch of batches) {
        for (const record of batch.Records)
          JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8"));
      }
    });

    const figures: InteractionsHandlerFigures = {
      events: interactions.length,
      groups,
      putEventsCalls: calls,
      minimumCalls: minimumCalls(interactions),
      minimumCallsInBatches: minimumInBatches,
      handlerCpuMsPer1000: (handlerMs * 1000) / interactions.length,
      baselineCpuMsPer1000: (baselineMs * 1000) / interactions.length,
      replayPutEventsCalls: replayCalls,
    };
    const rows: [string, string][] = [
      [
        "events / users / user+session groups",
        `${format(figures.events)} / ${format(USERS)} / ${format(groups)}`,
      ],
      ["batches (ESM batch size)", `${format(batches.length)} of ${format(BATCH_SIZE)}`],
      ["PutEvents calls made", format(figures.putEventsCalls)],
      ["minimum for these events, Σ ⌈n/10⌉ per user+session", format(figures.minimumCalls)],
      ["minimum within batches of 500 (groups split by batches)", format(figures.minimumCallsInBatches)],
      ["handler CPU per 1,000 records", `${format(figures.handlerCpuMsPer1000, 1)} ms`],
      ["baseline (base64 + JSON.parse) per 1,000 records", `${format(figures.baselineCpuMsPer1000, 1)} ms`],
      ["PutEvents calls when the same batches are delivered again", format(figures.replayPutEventsCalls)],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    console.log("\ninteractions-update handler (Personalize mocked, idempotency in memory)");
    for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
    return figures;
  } finally {
    personalize.restore();
  }
}

if (require.main === module) {
  benchInteractionsHandler().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

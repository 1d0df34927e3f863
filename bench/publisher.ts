import { performance } from "node:perf_hooks";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import interactionsDomain from "../domains/interactions";
import { Ordering, type StreamProductDeclaration } from "../platform/declarations";
import {
  buildEnvelope,
  MAX_RECORDS_PER_CALL,
  Publisher,
  wrapEnvelope,
  type PublishEvent,
} from "../runtime/publisher";
import { createActiveStream } from "../local/kinesalite";
import { localClientConfig } from "../local/local-aws";
import { startRemoteServices } from "./local-services";

const EVENTS = 20_000;
const SHARDS = 4;
/** Raw loop and Publisher run alternately this many times each; the median run is reported. */
const REPETITIONS = 5;
const PRODUCT = "interaction-events";
const DOMAIN = interactionsDomain.name;
const TARGET = interactionsDomain.products.find(
  (p): p is StreamProductDeclaration => p.kind === "stream" && p.name === PRODUCT,
)!;

function interactions(count: number, users = 1000): PublishEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    type: "interaction.play",
    data: {
      userId: `user-${i % users}`,
      itemId: `song-${i % 5000}`,
      itemType: "song",
      sessionId: `session-${i % 3000}`,
      occurredAt: new Date(Date.UTC(2026, 2, 1) + i).toISOString(),
      device: "mobile",
      playedMs: 30_000 + (i % 200_000),
    },
  }));
}

/** Counts the client's calls by command name. */
function countCalls(client: KinesisClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? "unknown";
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "benchCountCalls" },
  );
  return counts;
}

/** What a run reports: entries Kinesis refused (or that failed) after the path's own handling. */
interface Outcome {
  readonly failed: number;
}

/**
 * The ceiling: the Publisher's envelope around each payload as given (no validation), serialised
 * with JSON.stringify and sent in PutRecords calls of 500, one after another, no retries.
 */
async function publishRaw(
  client: KinesisClient,
  streamName: string,
  events: readonly PublishEvent[],
): Promise<Outcome> {
  let failed = 0;
  const now = new Date().toISOString();
  for (let start = 0; start < events.length; start += MAX_RECORDS_PER_CALL) {
    const Records = events.slice(start, start + MAX_RECORDS_PER_CALL).map((event) => {
      const data = event.data as Record<string, unknown>;
      const envelope = wrapEnvelope(DOMAIN, PRODUCT, TARGET, event, data, now);
      return { PartitionKey: envelope.partitionkey, Data: Buffer.from(JSON.stringify(envelope)) };
    });
    const output = await client.send(new PutRecordsCommand({ StreamName: streamName, Records }));
    failed += output.FailedRecordCount ?? 0;
  }
  return { failed };
}

/** What a producer without the Publisher would write: the same envelope, one PutRecord per event. */
async function publishNaively(
  client: KinesisClient,
  streamName: string,
  events: readonly PublishEvent[],
): Promise<Outcome> {
  for (const [index, event] of events.entries()) {
    const envelope = buildEnvelope(DOMAIN, PRODUCT, TARGET, event, index);
    await client.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: envelope.partitionkey,
        Data: Buffer.from(JSON.stringify(envelope)),
      }),
    );
  }
  return { failed: 0 };
}

async function countRecords(client: KinesisClient, streamName: string): Promise<number> {
  let count = 0;
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards) {
    let { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    while (ShardIterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      if (!page.Records?.length) break;
      count += page.Records.length;
      ShardIterator = page.NextShardIterator;
    }
  }
  return count;
}

const integer = (n: number) => Math.round(n).toLocaleString("en-US");

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(" | ")} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Measured {
  readonly label: string;
  readonly events: number;
  readonly ms: number;
  /** Client-process CPU (user + system), milliseconds. */
  readonly cpuMs: number;
  readonly calls: number;
  readonly callName: string;
  readonly failed: number;
  readonly streamName: string;
  /** Records in the stream, counted once every run is done so that reading them is not measured. */
  written: number;
}

/**
 * Publishes 20,000 small interaction events to a 4-shard stream on kinesalite, run in a child
 * process so that the CPU printed is the client's alone: a raw PutRecords-500 loop (the ceiling),
 * the Publisher with each ordering and key count, and a one-PutRecord-per-event loop. Raw loop and
 * Publisher (ordering none, 1,000 keys) run alternately, the median of each is printed with the
 * Publisher's share of the ceiling. kinesalite answers in about a millisecond; against AWS each
 * call costs a network round trip, so the naive loop falls further behind than printed here.
 */
export async function benchPublisher(): Promise<void> {
  const services = await startRemoteServices(["kinesis"]);
  const client = new KinesisClient(localClientConfig(services.endpoints.kinesis));
  try {
    const calls = countCalls(client);
    let streams = 0;
    /** Runs `path` against a new stream; wall time, client CPU and calls. */
    const measure = async (
      label: string,
      events: readonly PublishEvent[],
      path: (streamName: string) => Promise<Outcome>,
    ): Promise<Measured> => {
      const streamName = `bench-${streams++}`;
      await createActiveStream(client, streamName, SHARDS);
      const before = new Map(calls);
      const cpu = process.cpuUsage();
      const start = performance.now();
      const outcome = await path(streamName);
      const ms = performance.now() - start;
      const { user, system } = process.cpuUsage(cpu);
      const [callName, callCount] = [...calls].find(([name, n]) => n !== (before.get(name) ?? 0))!;
      return {
        label,
        events: events.length,
        ms,
        cpuMs: (user + system) / 1000,
        calls: callCount - (before.get(callName) ?? 0),
        callName: callName.replace(/Command$/, ""),
        failed: outcome.failed,
        streamName,
        written: 0,
      };
    };
    const withOrdering = (ordering: Ordering) => ({
      name: DOMAIN,
      products: interactionsDomain.products.map((p) => ({ ...p, ordering })),
    });
    const viaPublisher = (label: string, ordering: Ordering, events: readonly PublishEvent[]) =>
      measure(label, events, async (streamName) => {
        const publisher = new Publisher({
          client,
          domain: withOrdering(ordering),
          streams: { [PRODUCT]: { streamName } },
        });
        const result = await publisher.publish(PRODUCT, events);
        return { failed: result.failed.length };
      });
    const raw = (events: readonly PublishEvent[]) =>
      measure("raw PutRecords-500 loop (ceiling)", events, (streamName) =>
        publishRaw(client, streamName, events),
      );

    const events = interactions(EVENTS);
    // Warm-up, not printed: the first run of each path pays for JIT compilation and connections.
    await raw(events.slice(0, 2000));
    await viaPublisher("warm-up", Ordering.None, events.slice(0, 2000));
    const raws: Measured[] = [];
    const publishers: Measured[] = [];
    for (let i = 0; i < REPETITIONS; i++) {
      raws.push(await raw(events));
      publishers.push(await viaPublisher("Publisher, ordering none (1,000 keys)", Ordering.None, events));
    }
    const fewKeys = interactions(EVENTS, 100);
    const others = [
      await viaPublisher("Publisher, ordering per-key (1,000 keys)", Ordering.PerKey, events),
      await viaPublisher("Publisher, ordering none (100 keys)", Ordering.None, fewKeys),
      await viaPublisher("Publisher, ordering per-key (100 keys)", Ordering.PerKey, fewKeys),
      await measure("naive (PutRecord per event)", events, (streamName) =>
        publishNaively(client, streamName, events),
      ),
    ];
    for (const run of [...raws, ...publishers, ...others]) {
      run.written = await countRecords(client, run.streamName);
    }
    /** The median of each figure over the repetitions. */
    const typical = (runs: readonly Measured[]): Measured => ({
      ...runs[0]!,
      label: `${runs[0]!.label}, median of ${runs.length}`,
      ms: median(runs.map((r) => r.ms)),
      cpuMs: median(runs.map((r) => r.cpuMs)),
      failed: Math.max(...runs.map((r) => r.failed)),
      written: Math.min(...runs.map((r) => r.written)),
    });
    const ceiling = typical(raws);
    const unordered = typical(publishers);
    const ordered = others[0]!;
    const minimum = Math.ceil(EVENTS / MAX_RECORDS_PER_CALL);
    const rate = (row: Measured) => (row.events / row.ms) * 1000;

    console.log(
      `\nPublisher: ${integer(EVENTS)} interaction.play events to a ${SHARDS}-shard stream on kinesalite ` +
        `(127.0.0.1, in a child process; CPU is the bench process's own)\n`,
    );
    console.log(
      table([
        [
          "path",
          "wall time",
          "events/s",
          "CPU per 1,000 events",
          "calls",
          "calls vs minimum",
          "failed",
          "records in stream",
        ],
        ...[ceiling, unordered, ...others].map((row) => [
          row.label,
          `${(row.ms / 1000).toFixed(2)} s`,
          integer(rate(row)),
          `${((row.cpuMs / row.events) * 1000).toFixed(1)} ms`,
          `${integer(row.calls)} ${row.callName}`,
          `${(row.calls / minimum).toFixed(2)}x of ${minimum}`,
          integer(row.failed),
          integer(row.written),
        ]),
      ]),
    );
    console.log(
      `\nPublisher / raw PutRecords-500 loop: ${((rate(unordered) / rate(ceiling)) * 100).toFixed(1)}% of its ` +
        `events/s (target ≥ 90%), ${(unordered.cpuMs / ceiling.cpuMs).toFixed(2)}x its CPU ` +
        `(runs: raw ${raws.map((r) => integer(rate(r))).join(", ")}; Publisher ${publishers.map((r) => integer(rate(r))).join(", ")} events/s)`,
    );
    console.log(
      `Per-key ordering sends at most one event per key per call and waits for each call: with ` +
        `${integer(EVENTS / 1000)} events per key it needs as many rounds, so its cost grows with events per key ` +
        `(${(rate(ordered) / rate(unordered)).toFixed(2)}x the unordered events/s at 1,000 keys, ` +
        `${(rate(others[2]!) / rate(others[1]!)).toFixed(2)}x at 100 keys).`,
    );
    const naive = others[3]!;
    console.log(
      `Publisher / naive: ${(rate(unordered) / rate(naive)).toFixed(1)}x the events/s with ` +
        `${integer(naive.calls / unordered.calls)}x fewer calls\n`,
    );
  } finally {
    client.destroy();
    await services.stop();
  }
}

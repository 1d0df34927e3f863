import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import interactionsDomain from "../domains/interactions";
import { interactionEvents } from "../domains/interactions/contract";
import { Ordering } from "../platform/declarations";
import { currentVersion, parsePayload, type Envelope } from "../platform/contract";
import { MAX_RECORDS_PER_CALL, Publisher, type PublishEvent } from "../runtime/publisher";
import { startKinesalite } from "../local/kinesalite";

const EVENTS = 20_000;
const SHARDS = 4;
const PRODUCT = "interaction-events";

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

/** What a producer without the Publisher would write: the same envelope, one PutRecord per event. */
async function publishNaively(client: KinesisClient, streamName: string, events: readonly PublishEvent[]) {
  for (const event of events) {
    const data = parsePayload(interactionEvents, event.type, event.data);
    const envelope: Envelope = {
      specversion: "1.0",
      id: randomUUID(),
      source: `mesh://interactions/${PRODUCT}`,
      type: event.type,
      time: new Date().toISOString(),
      dataversion: currentVersion(interactionEvents).version,
      partitionkey: String(data.userId),
      data,
    };
    await client.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: envelope.partitionkey,
        Data: Buffer.from(JSON.stringify(envelope)),
      }),
    );
  }
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

/**
 * Publishes 20,000 small interaction events to a local kinesalite twice, through the Publisher
 * and through a one-PutRecord-per-event loop, and prints throughput and calls made. kinesalite
 * answers in well under a millisecond; against AWS each call costs a network round trip, so the
 * gap there is wider than printed here.
 */
export async function benchPublisher(): Promise<void> {
  const local = await startKinesalite();
  try {
    await local.createStream("bench-publisher", SHARDS);
    await local.createStream("bench-naive", SHARDS);
    const calls = countCalls(local.client);
    const events = interactions(EVENTS);
    const withOrdering = (ordering: Ordering) => ({
      name: interactionsDomain.name,
      products: interactionsDomain.products.map((p) => ({ ...p, ordering })),
    });
    /** Publishes `batch` to a new stream with the given ordering; wall time, calls and records written. */
    const run = async (label: string, ordering: Ordering, batch: readonly PublishEvent[]) => {
      const streamName = `bench-${label.replace(/\W+/g, "-")}`;
      await local.createStream(streamName, SHARDS);
      const publisher = new Publisher({
        client: local.client,
        domain: withOrdering(ordering),
        streams: { [PRODUCT]: { streamName } },
      });
      const before = calls.get("PutRecordsCommand") ?? 0;
      const start = performance.now();
      const result = await publisher.publish(PRODUCT, batch);
      const ms = performance.now() - start;
      if (result.failed.length) throw new Error(`${result.failed.length} events failed to publish`);
      return {
        label,
        ms,
        calls: (calls.get("PutRecordsCommand") ?? 0) - before,
        reported: result.calls,
        written: await countRecords(local.client, streamName),
      };
    };

    const unordered = await run("Publisher, ordering none (1,000 keys)", Ordering.None, events);
    const ordered = await run("Publisher, ordering per-key (1,000 keys)", Ordering.PerKey, events);
    const fewKeys = interactions(EVENTS, 100);
    const unorderedFew = await run("Publisher, ordering none (100 keys)", Ordering.None, fewKeys);
    const orderedFew = await run("Publisher, ordering per-key (100 keys)", Ordering.PerKey, fewKeys);

    const naiveStart = performance.now();
    await publishNaively(local.client, "bench-naive", events);
    const naiveMs = performance.now() - naiveStart;
    const putRecordCalls = calls.get("PutRecordCommand") ?? 0;
    const naiveWritten = await countRecords(local.client, "bench-naive");
    const minimum = Math.ceil(EVENTS / MAX_RECORDS_PER_CALL);
    const rate = (ms: number) => (EVENTS / ms) * 1000;

    console.log(
      `\nPublisher: ${integer(EVENTS)} interaction.play events to a ${SHARDS}-shard stream on kinesalite (127.0.0.1)\n`,
    );
    console.log(
      table([
        ["path", "wall time", "events/s", "calls", "calls vs minimum", "records in stream"],
        ...[unordered, ordered, unorderedFew, orderedFew].map((row) => [
          row.label,
          `${(row.ms / 1000).toFixed(2)} s`,
          integer(rate(row.ms)),
          `${integer(row.calls)} PutRecords (reported ${integer(row.reported)})`,
          `${(row.calls / minimum).toFixed(2)}x of ceil(${EVENTS}/${MAX_RECORDS_PER_CALL}) = ${minimum}`,
          integer(row.written),
        ]),
        [
          "naive (PutRecord per event)",
          `${(naiveMs / 1000).toFixed(2)} s`,
          integer(rate(naiveMs)),
          `${integer(putRecordCalls)} PutRecord`,
          `${integer(putRecordCalls / minimum)}x of ${minimum}`,
          integer(naiveWritten),
        ],
      ]),
    );
    console.log(
      `\nPer-key ordering sends at most one event per key per call and waits for each call: with ` +
        `${integer(EVENTS / 1000)} events per key it needs as many rounds, so its cost grows with events per key ` +
        `(${(rate(ordered.ms) / rate(unordered.ms)).toFixed(2)}x the unordered events/s at 1,000 keys, ` +
        `${(rate(orderedFew.ms) / rate(unorderedFew.ms)).toFixed(2)}x at 100 keys).`,
    );
    console.log(
      `Publisher / naive: ${(rate(unordered.ms) / rate(naiveMs)).toFixed(1)}x the events/s with ` +
        `${integer(putRecordCalls / unordered.calls)}x fewer calls\n`,
    );
  } finally {
    await local.stop();
  }
}

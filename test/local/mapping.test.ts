import { PutRecordCommand } from "@aws-sdk/client-kinesis";
import { strict as assert } from "node:assert";
import type { InvocationResult } from "../../local/functions";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";
import { MappingRunner, type DiscardCondition, type LocalRecord } from "../../local/mapping";
import type { PlannedMapping } from "../../local/plan";

/**
 * The mapping runner against cases from AWS's documentation (sources in local/mapping.ts), one
 * semantic per test, with a scripted function in place of a real one.
 */
interface KinesisEvent {
  Records: { kinesis: { partitionKey: string; sequenceNumber: string; data: string } }[];
}

const base: PlannedMapping = {
  name: "test-mapping",
  account: "111111111111",
  eventSourceArn: "arn:aws:kinesis:eu-west-1:111111111111:stream/test.events",
  streamName: "test.events",
  functionName: "test-function",
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  startingPosition: "TRIM_HORIZON",
  filterPatterns: [],
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  parallelizationFactor: 1,
  reportBatchItemFailures: true,
  onFailureDestination: "arn:aws:s3:::failures",
};

describe("local mesh: the Kinesis mapping runner, case by case", function () {
  this.timeout(30_000);
  let kinesis: LocalKinesis;
  let streams = 0;

  before(async () => {
    kinesis = await startKinesalite();
  });
  after(async () => {
    await kinesis.stop();
  });

  /** Puts `ids` (data `{"id": ...}`, key `key` or the id) on a new stream, runs the mapping until every record is done. */
  async function run(
    settings: Partial<PlannedMapping>,
    records: readonly { id: string; key?: string; data?: unknown }[],
    fn: (ids: string[], event: KinesisEvent) => Promise<InvocationResult> | InvocationResult,
    shards = 1,
  ) {
    const streamName = `test.events-${++streams}`;
    await kinesis.createStream(streamName, shards);
    for (const record of records) {
      await kinesis.client.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: record.key ?? record.id,
          Data: Buffer.from(JSON.stringify(record.data ?? { id: record.id })),
        }),
      );
    }
    const invocations: string[][] = [];
    const delivered: string[] = [];
    const filtered: string[] = [];
    const deadLettered: { condition: DiscardCondition; ids: string[]; record: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    const idOf = (record: LocalRecord) => (JSON.parse(record.data.toString()) as { id: string }).id;
    const runner = new MappingRunner(
      { ...base, ...settings, streamName, eventSourceArn: `${base.eventSourceArn}-${streams}` },
      {
        kinesis: kinesis.client,
        region: "eu-west-1",
        pollMs: 20,
        retryDelayMs: 10,
        timeoutSeconds: 5,
        invoke: async (event) => {
          const e = event as KinesisEvent;
          const ids = e.Records.map(
            (r) => (JSON.parse(Buffer.from(r.kinesis.data, "base64").toString()) as { id: string }).id,
          );
          invocations.push(ids);
          return fn(ids, e);
        },
        destination: async () => undefined,
        observer: {
          read: () => undefined,
          filteredOut: (record) => void filtered.push(idOf(record)),
          delivered: (done) => void delivered.push(...done.map(idOf)),
          retried: () => undefined,
          deadLettered: (done, condition, record) =>
            void deadLettered.push({ condition, ids: done.map(idOf), record }),
        },
      },
    );
    await runner.start();
    try {
      const deadline = Date.now() + 15_000;
      const finished = () => {
        const done = new Set([...delivered, ...filtered, ...deadLettered.flatMap((d) => d.ids)]);
        return records.every((record) => done.has(record.id)) && runner.idle();
      };
      while (!finished()) {
        if (Date.now() > deadline)
          throw new Error(`not finished: ${JSON.stringify({ invocations, delivered, filtered })}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await runner.stop();
    }
    return { invocations, delivered, filtered, deadLettered };
  }

  const ok = (result: unknown = {}): InvocationResult => ({ ok: true, result });
  const error: InvocationResult = { ok: false, errorType: "Error", errorMessage: "boom" };
  const failing = (event: KinesisEvent, ids: string[], which: readonly string[]) =>
    ok({
      batchItemFailures: event.Records.filter((_, i) => which.includes(ids[i]!)).map((r) => ({
        itemIdentifier: r.kinesis.sequenceNumber,
      })),
    });
  const records = (...ids: string[]) => ids.map((id) => ({ id }));

  it("starts at the planned position: TRIM_HORIZON, LATEST, or AT_TIMESTAMP", async () => {
    const streamName = `test.events-${++streams}`;
    await kinesis.createStream(streamName, 1);
    const put = (id: string) =>
      kinesis.client.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: id,
          Data: Buffer.from(JSON.stringify({ id })),
        }),
      );
    await put("old");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const timestamp = new Date().toISOString();
    await put("newer");
    const seen = new Map<string, string[]>();
    const runners = (["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] as const).map((position) => {
      seen.set(position, []);
      return new MappingRunner(
        {
          ...base,
          streamName,
          startingPosition: position,
          ...(position === "AT_TIMESTAMP" && { startingPositionTimestamp: timestamp }),
        },
        {
          kinesis: kinesis.client,
          region: "eu-west-1",
          pollMs: 20,
          timeoutSeconds: 5,
          invoke: async (event) => {
            for (const record of (event as KinesisEvent).Records) {
              seen.get(position)!.push(JSON.parse(Buffer.from(record.kinesis.data, "base64").toString()).id);
            }
            return ok();
          },
          destination: async () => undefined,
          observer: { read() {}, filteredOut() {}, delivered() {}, retried() {}, deadLettered() {} },
        },
      );
    });
    try {
      for (const runner of runners) await runner.start();
      await put("newest");
      const deadline = Date.now() + 10_000;
      while ([...seen.values()].some((ids) => !ids.includes("newest")) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await Promise.all(runners.map((runner) => runner.stop()));
    }
    assert.deepEqual(Object.fromEntries(seen), {
      TRIM_HORIZON: ["old", "newer", "newest"],
      LATEST: ["newest"],
      AT_TIMESTAMP: ["newer", "newest"],
    });
  });

  it("invokes batches of at most BatchSize records, in stream order", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const { invocations, delivered } = await run({ batchSize: 5 }, records(...ids), () => ok());
    assert.ok(invocations.every((batch) => batch.length <= 5));
    assert.deepEqual(invocations.flat(), ids);
    assert.deepEqual(delivered, ids);
  });

  it("bisects a batch whose invocation fails until the bad record is alone; halving does not use the retry quota", async () => {
    const { invocations, deadLettered, delivered } = await run(
      { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
      records("a", "b", "p", "c"),
      (ids) => (ids.includes("p") ? error : ok()),
    );
    assert.deepEqual(invocations, [["a", "b", "p", "c"], ["a", "b"], ["p", "c"], ["p"], ["c"]]);
    assert.deepEqual(
      deadLettered.map((d) => [d.condition, d.ids]),
      [["RetryAttemptsExhausted", ["p"]]],
    );
    assert.deepEqual(delivered.sort(), ["a", "b", "c"]);
  });

  it("with ReportBatchItemFailures, retries from the lowest failed sequence number (the checkpoint)", async () => {
    let first = true;
    const { invocations, delivered } = await run({}, records("a", "b", "c", "d"), (ids, event) => {
      if (!first) return ok();
      first = false;
      return failing(event, ids, ["d", "c"]);
    });
    assert.deepEqual(invocations, [
      ["a", "b", "c", "d"],
      ["c", "d"],
    ]);
    assert.deepEqual(delivered, ["a", "b", "c", "d"]);
  });

  it("treats a partial batch response naming an unknown record as a failure of the whole batch", async () => {
    let first = true;
    const { invocations } = await run({}, records("a", "b"), () => {
      if (!first) return ok();
      first = false;
      return ok({ batchItemFailures: [{ itemIdentifier: "not-a-sequence-number" }] });
    });
    assert.deepEqual(invocations, [
      ["a", "b"],
      ["a", "b"],
    ]);
  });

  it("after MaximumRetryAttempts retries, sends the invocation record (shard and sequence range) to the destination and moves on", async () => {
    const { invocations, deadLettered, delivered } = await run(
      { maximumRetryAttempts: 2 },
      records("a", "b", "c", "d"),
      (ids, event) => (ids.includes("b") ? failing(event, ids, ["b"]) : ok()),
    );
    // The first attempt and two retries.
    assert.deepEqual(invocations, [
      ["a", "b", "c", "d"],
      ["b", "c", "d"],
      ["b", "c", "d"],
    ]);
    assert.equal(deadLettered.length, 1);
    const { condition, ids, record } = deadLettered[0]!;
    assert.equal(condition, "RetryAttemptsExhausted");
    assert.deepEqual(ids, ["b", "c", "d"]);
    assert.equal(record.requestContext.approximateInvokeCount, 3);
    assert.equal(record.KinesisBatchInfo.batchSize, 3);
    assert.equal(record.KinesisBatchInfo.shardId, "shardId-000000000000");
    assert.ok(
      BigInt(record.KinesisBatchInfo.startSequenceNumber) < BigInt(record.KinesisBatchInfo.endSequenceNumber),
    );
    assert.ok(JSON.parse(record.payload).Records.length === 3, "an S3 destination gets the payload too");
    // c and d were completed by each invocation that reported only b: delivered, not lost.
    assert.deepEqual([...new Set(delivered)].sort(), ["a", "c", "d"]);
  });

  it("discards records older than MaximumRecordAgeInSeconds instead of invoking them again", async () => {
    const { deadLettered, invocations } = await run(
      { maximumRecordAgeInSeconds: 1 },
      records("old"),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return error;
      },
    );
    assert.ok(invocations.length >= 2 && invocations.length <= 8, `${invocations.length} invocations`);
    assert.deepEqual(
      deadLettered.map((d) => [d.condition, d.ids]),
      [["RecordAgeExceeded", ["old"]]],
    );
  });

  it("delivers only the records a filter pattern matches on their decoded data; the others count as filtered out", async () => {
    const { invocations, filtered } = await run(
      { filterPatterns: [JSON.stringify({ data: { kind: ["keep"], n: [{ numeric: [">=", 30] }] } })] },
      [
        { id: "k1", data: { id: "k1", kind: "keep", n: 30 } },
        { id: "k2", data: { id: "k2", kind: "keep", n: 29 } },
        { id: "k3", data: { id: "k3", kind: "drop", n: 99 } },
      ],
      () => ok(),
    );
    assert.deepEqual(invocations.flat(), ["k1"]);
    assert.deepEqual(filtered.sort(), ["k2", "k3"]);
  });

  it("with a parallelization factor, runs lanes at once and keeps each partition key's records in order", async () => {
    const keys = ["u1", "u2", "u3", "u4", "u5", "u6"];
    const all = Array.from({ length: 60 }, (_, i) => ({ id: `e${i}`, key: keys[i % keys.length]! }));
    let inFlight = 0;
    let most = 0;
    const { delivered } = await run({ parallelizationFactor: 3, batchSize: 4 }, all, async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight--;
      return ok();
    });
    assert.ok(most > 1, "lanes ran concurrently");
    for (const key of keys) {
      const expected = all.filter((e) => e.key === key).map((e) => e.id);
      assert.deepEqual(
        delivered.filter((id) => expected.includes(id)),
        expected,
        `order of ${key}`,
      );
    }
  });
});

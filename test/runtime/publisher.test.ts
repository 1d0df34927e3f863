import assert from "node:assert/strict";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mock } from "node:test";
import { mockClient } from "aws-sdk-client-mock";
import { z } from "zod";
import { interactionEvents } from "../../domains/interactions/contract";
import { ContractViolationError, defineContract, type Envelope } from "../../platform/contract";
import { Ordering, type DomainDeclaration } from "../../platform/declarations";
import {
  DeadLetterError,
  DEFAULT_DEADLINE_MS,
  MAX_RECORD_BYTES,
  MAX_REQUEST_BYTES,
  Publisher,
  RecordTooLargeError,
  type FailedEvent,
  type PublisherOptions,
  type PublishEvent,
} from "../../runtime/publisher";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";

const blobs = defineContract("test.blobs", [
  { version: 1, events: { "blob.put": z.object({ key: z.string(), blob: z.string() }) } },
]);

type Product = "interaction-events" | "blobs";

/** The producing domain as the Publisher reads it: contracts, partition keys and ordering. */
function producer(
  ordering: Ordering = Ordering.None,
  partitionKey = "userId",
): Pick<DomainDeclaration, "name" | "products"> {
  const product = {
    kind: "stream",
    description: "test",
    capacity: { mode: "on-demand" },
    classification: "internal",
  } as const;
  return {
    name: "interactions",
    products: [
      { ...product, name: "interaction-events", contract: interactionEvents, partitionKey, ordering },
      { ...product, name: "blobs", contract: blobs, partitionKey: "key", ordering: Ordering.None },
    ],
  };
}

function play(i: number, extra: Partial<PublishEvent> = {}): PublishEvent {
  return {
    type: "interaction.play",
    data: {
      userId: `user-${i % 7}`,
      itemId: `song-${i}`,
      itemType: "song",
      sessionId: `session-${i}`,
      occurredAt: "2026-03-01T12:00:00.000Z",
      playedMs: 1000 + i,
    },
    ...extra,
  };
}

function blob(i: number, bytes: number, id?: string): PublishEvent {
  return { type: "blob.put", id, data: { key: `k-${i}`, blob: "x".repeat(bytes) } };
}

function idOf(entry: { Data?: Uint8Array }): string {
  return (JSON.parse(Buffer.from(entry.Data!).toString("utf8")) as Envelope).id;
}

let streams = 0;

describe("Publisher", () => {
  const sleeps: number[] = [];
  const backoff = {
    sleep: async (ms: number) => void sleeps.push(ms),
    random: () => 0.5,
    baseDelayMs: 100,
  };

  function publisherFor(
    client: KinesisClient,
    stream: { streamName?: string; streamArn?: string },
    options: Partial<PublisherOptions<Product>> = {},
  ): Publisher<Product> {
    return new Publisher<Product>({
      client,
      domain: producer(),
      streams: { "interaction-events": stream, blobs: stream },
      ...backoff,
      ...options,
    });
  }

  beforeEach(() => {
    sleeps.length = 0;
  });

  describe("against kinesalite", () => {
    let local: LocalKinesis;
    const clients: KinesisClient[] = [];

    before(async () => {
      local = await startKinesalite();
    });
    after(async () => {
      await local.stop();
    });
    afterEach(() => {
      for (const client of clients.splice(0)) client.destroy();
    });

    async function newStream(shards = 2): Promise<string> {
      const name = `publisher-test-${++streams}`;
      await local.createStream(name, shards);
      return name;
    }

    /**
     * A client of the local server that records every PutRecords request. `failTimes` makes the
     * entry with that event id fail with ProvisionedThroughputExceededException the first n times
     * it is sent; the other entries of the call really go to kinesalite.
     */
    function recordingClient(failTimes = new Map<string, number>()) {
      const client = new KinesisClient({
        endpoint: local.endpoint,
        region: "eu-west-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        requestHandler: new NodeHttpHandler(),
        maxAttempts: 1,
      });
      clients.push(client);
      const requests: PutRecordsCommandInput[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== "PutRecordsCommand") return next(args);
          const input = args.input as PutRecordsCommandInput;
          requests.push(input);
          const records = input.Records ?? [];
          const failing = records.map((record) => {
            const left = failTimes.get(idOf(record)) ?? 0;
            if (left > 0) failTimes.set(idOf(record), left - 1);
            return left > 0;
          });
          const forwarded = records.filter((_, index) => !failing[index]);
          let written: PutRecordsResultEntry[] = [];
          let result: Awaited<ReturnType<typeof next>> = { output: { $metadata: {} }, response: {} };
          if (forwarded.length) {
            result = await next({ ...args, input: { ...input, Records: forwarded } });
            written = [...((result.output as PutRecordsCommandOutput).Records ?? [])];
          }
          const output: PutRecordsCommandOutput = {
            $metadata: result.output.$metadata,
            FailedRecordCount: failing.filter(Boolean).length,
            Records: failing.map((fails) =>
              fails
                ? {
                    ErrorCode: "ProvisionedThroughputExceededException",
                    ErrorMessage: "Rate exceeded for shard",
                  }
                : written.shift()!,
            ),
          };
          return { ...result, output };
        },
        { step: "initialize", name: "recordPutRecords" },
      );
      return { client, requests };
    }

    async function readStream(streamName: string): Promise<{ partitionKey: string; envelope: Envelope }[]> {
      const read: { partitionKey: string; envelope: Envelope }[] = [];
      const { Shards = [] } = await local.client.send(new ListShardsCommand({ StreamName: streamName }));
      for (const shard of Shards) {
        let { ShardIterator } = await local.client.send(
          new GetShardIteratorCommand({
            StreamName: streamName,
            ShardId: shard.ShardId,
            ShardIteratorType: "TRIM_HORIZON",
          }),
        );
        while (ShardIterator) {
          const page = await local.client.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
          if (!page.Records?.length) break;
          for (const record of page.Records) {
            read.push({
              partitionKey: record.PartitionKey!,
              envelope: JSON.parse(Buffer.from(record.Data!).toString("utf8")) as Envelope,
            });
          }
          ShardIterator = page.NextShardIterator;
        }
      }
      return read;
    }

    it("writes each event as a CloudEvents envelope keyed by its partition key field", async () => {
      const streamName = await newStream();
      const { client } = recordingClient();
      const before = new Date().toISOString();
      const given = play(1, { id: "evt-1", time: new Date("2026-03-01T12:00:01Z") });
      const withExtraField = play(2, { data: { ...(play(2).data as object), debug: "not in the contract" } });

      const result = await publisherFor(client, { streamName }).publish("interaction-events", [
        given,
        withExtraField,
      ]);

      assert.deepEqual(result, { published: 2, failed: [], calls: 1 });
      const read = await readStream(streamName);
      assert.equal(read.length, 2);
      for (const { partitionKey, envelope } of read) {
        assert.equal(partitionKey, envelope.data.userId);
        assert.equal(envelope.partitionkey, envelope.data.userId);
      }
      const first = read.find((r) => r.envelope.id === "evt-1")!.envelope;
      assert.deepEqual(first, {
        specversion: "1.0",
        id: "evt-1",
        source: "mesh://interactions/interaction-events",
        type: "interaction.play",
        time: "2026-03-01T12:00:01.000Z",
        dataversion: 1,
        partitionkey: "user-1",
        data: given.data,
      });
      const second = read.find((r) => r.envelope.id !== "evt-1")!.envelope;
      assert.match(second.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(second.time >= before && second.time <= new Date().toISOString(), second.time);
      assert.equal(second.partitionkey, "user-2");
      assert.equal("debug" in second.data, false, "fields outside the contract are not published");
    });

    it("gives every event of one publish call without a time of its own the time of that call", async () => {
      const streamName = await newStream();
      const { client } = recordingClient();
      const before = new Date().toISOString();
      await publisherFor(client, { streamName }).publish(
        "interaction-events",
        Array.from({ length: 50 }, (_, i) => play(i)),
      );
      const times = new Set((await readStream(streamName)).map((r) => r.envelope.time));
      assert.equal(times.size, 1, [...times].join(", "));
      const [time] = times;
      assert.ok(time! >= before && time! <= new Date().toISOString(), time);
    });

    it("sends 1,200 events in 3 PutRecords calls of at most 500 records", async () => {
      const streamName = await newStream(4);
      const { client, requests } = recordingClient();

      const result = await publisherFor(client, { streamName }).publish(
        "interaction-events",
        Array.from({ length: 1200 }, (_, i) => play(i)),
      );

      assert.deepEqual(result, { published: 1200, failed: [], calls: 3 });
      assert.deepEqual(
        requests.map((r) => r.Records!.length),
        [500, 500, 200],
      );
      const ids = new Set((await readStream(streamName)).map((r) => r.envelope.id));
      assert.equal(ids.size, 1200);
    });

    it("splits by bytes so that no request carries more than 5 MiB", async () => {
      const streamName = await newStream();
      const { client, requests } = recordingClient();

      const result = await publisherFor(client, { streamName }).publish(
        "blobs",
        Array.from({ length: 20 }, (_, i) => blob(i, 600_000)),
      );

      assert.deepEqual(result, { published: 20, failed: [], calls: 3 });
      assert.deepEqual(
        requests.map((r) => r.Records!.length),
        [8, 8, 4],
      );
      for (const request of requests) {
        const bytes = request.Records!.reduce(
          (sum, r) => sum + r.Data!.byteLength + Buffer.byteLength(r.PartitionKey!),
          0,
        );
        assert.ok(bytes <= MAX_REQUEST_BYTES, `request of ${bytes} bytes`);
      }
      assert.equal((await readStream(streamName)).length, 20);
    });

    it("rejects a batch with an invalid event, naming it, with its zod issues, and sends nothing", async () => {
      const streamName = await newStream();
      const { client, requests } = recordingClient();
      const invalid = play(1, { data: { ...(play(1).data as object), itemType: "video" } });

      const error = await publisherFor(client, { streamName })
        .publish("interaction-events", [play(0), invalid, play(2)])
        .then(
          () => assert.fail("publish resolved"),
          (e: unknown) => e,
        );

      assert.ok(error instanceof ContractViolationError);
      assert.match(
        error.message,
        /^cannot publish event 1 \(interaction\.play\): .*itemType.* to interaction-events; nothing was sent$/s,
      );
      assert.deepEqual(
        error.issues.map((issue) => [issue.code, issue.path]),
        [["invalid_value", [1, "itemType"]]],
      );
      assert.equal(requests.length, 0);
      assert.equal((await readStream(streamName)).length, 0);
    });

    it("rejects an unknown event type or a missing partition key before sending", async () => {
      const streamName = await newStream();
      const { client, requests } = recordingClient();
      const publisher = publisherFor(client, { streamName });
      const byDevice = new Publisher({
        client,
        domain: producer(Ordering.None, "device"),
        streams: { "interaction-events": { streamName } },
      });

      await assert.rejects(
        publisher.publish("interaction-events", [play(0), { type: "interaction.pause", data: {} }]),
        {
          name: "ContractViolationError",
          message: /^cannot publish event 1 \(interaction\.pause\): .*unknown event type interaction\.pause/,
        },
      );
      await assert.rejects(byDevice.publish("interaction-events", play(0)), (error: unknown) => {
        assert.ok(error instanceof ContractViolationError);
        assert.equal(
          error.message,
          "cannot publish event 0 (interaction.play): partition key field device is missing to interaction-events; nothing was sent",
        );
        assert.deepEqual(error.issues[0]?.path, [0, "device"]);
        return true;
      });
      assert.equal(requests.length, 0);
    });

    it("refuses a record over 1 MiB (data + partition key), naming the event, and sends nothing", async () => {
      const streamName = await newStream();
      const { client, requests } = recordingClient();
      const publisher = publisherFor(client, { streamName });
      const tooLarge = (bytes: number) =>
        publisher.publish("blobs", [blob(0, 10), blob(1, bytes, "big")]).then(
          () => undefined,
          (e: unknown) => e,
        );

      const error = await tooLarge(MAX_RECORD_BYTES);
      assert.ok(error instanceof RecordTooLargeError);
      const bytes = error.events[0]!.bytes;
      assert.equal(
        error.message,
        `cannot publish event 1 (blob.put, id big): its record is ${bytes} bytes ` +
          `(data + partition key), more than the 1048576 a Kinesis record may carry to blobs; nothing was sent`,
      );
      assert.equal(requests.length, 0);
      assert.equal((await readStream(streamName)).length, 0);

      // The limit counts the partition key too: a record of exactly 1 MiB passes, one byte more does not.
      const overhead = bytes - MAX_RECORD_BYTES;
      assert.equal(await tooLarge(MAX_RECORD_BYTES - overhead), undefined);
      assert.equal(requests.length, 1);
      const sent = requests[0]!.Records![1]!;
      assert.equal(sent.Data!.byteLength + Buffer.byteLength(sent.PartitionKey!), MAX_RECORD_BYTES);
      assert.ok((await tooLarge(MAX_RECORD_BYTES - overhead + 1)) instanceof RecordTooLargeError);
      assert.equal(requests.length, 1);
    });

    it("resends only the entries that failed, with backoff, until they are written", async () => {
      const streamName = await newStream();
      const { client, requests } = recordingClient(
        new Map([
          ["e1", 1],
          ["e4", 2],
        ]),
      );
      const ids = ["e0", "e1", "e2", "e3", "e4", "e5"];

      const result = await publisherFor(client, { streamName }).publish(
        "interaction-events",
        ids.map((id, i) => play(i, { id })),
      );

      assert.deepEqual(result, { published: 6, failed: [], calls: 3 });
      assert.deepEqual(
        requests.map((r) => r.Records!.map(idOf)),
        [ids, ["e1", "e4"], ["e4"]],
      );
      // Full jitter with random() = 0.5: half of 100 * 2^attempt.
      assert.deepEqual(sleeps, [100, 200]);
      const written = (await readStream(streamName)).map((r) => r.envelope.id).sort();
      assert.deepEqual(written, ids);
    });
    it("names every invalid event of a batch, not only the first", async () => {
      const streamName = await newStream();
      const { client, requests } = recordingClient();
      const bad = (i: number, field: string, value: unknown) =>
        play(i, { data: { ...(play(i).data as object), [field]: value } });

      const error = await publisherFor(client, { streamName })
        .publish("interaction-events", [
          play(0),
          bad(1, "itemType", "video"),
          play(2),
          bad(3, "playedMs", -1),
        ])
        .then(
          () => assert.fail("publish resolved"),
          (e: unknown) => e,
        );

      assert.ok(error instanceof ContractViolationError);
      assert.match(
        error.message,
        /^cannot publish 2 events to interaction-events; nothing was sent:\n  - event 1 \(interaction\.play\): .*itemType.*\n  - event 3 \(interaction\.play\): .*playedMs/s,
      );
      assert.deepEqual(
        error.issues.map((issue) => issue.path.slice(0, 2)),
        [
          [1, "itemType"],
          [3, "playedMs"],
        ],
      );
      assert.equal(requests.length, 0);
    });

    describe("per-key ordering", () => {
      /** Events numbered in publish order; keys interleaved so that batches mix them. */
      const sequence = (count: number, keys: number) =>
        Array.from({ length: count }, (_, i) =>
          play(i, { id: `e${i}`, data: { ...(play(i).data as object), userId: `user-${i % keys}` } }),
        );
      const perKey = (records: { partitionKey: string; envelope: Envelope }[]) => {
        const byKey = new Map<string, string[]>();
        for (const { partitionKey, envelope } of records) {
          byKey.set(partitionKey, [...(byKey.get(partitionKey) ?? []), envelope.id]);
        }
        return byKey;
      };
      const expected = (events: readonly PublishEvent[]) =>
        perKey(
          events.map((event) => ({
            partitionKey: (event.data as { userId: string }).userId,
            envelope: { id: event.id } as Envelope,
          })),
        );
      const orderedPublisher = (
        client: KinesisClient,
        streamName: string,
        options: Partial<PublisherOptions<Product>> = {},
      ) =>
        new Publisher<Product>({
          client,
          domain: producer(Ordering.PerKey),
          streams: { "interaction-events": { streamName }, blobs: { streamName } },
          ...backoff,
          ...options,
        });

      it("never writes a later event of a key before an earlier one when entries fail", async () => {
        const events = sequence(60, 4);
        // Every fifth event is throttled twice: unordered, it would land after later events of its key.
        const faults = new Map(events.filter((_, i) => i % 5 === 0).map((e) => [e.id!, 2]));
        const ordered = await newStream(2);
        const result = await orderedPublisher(recordingClient(new Map(faults)).client, ordered).publish(
          "interaction-events",
          events,
        );
        assert.equal(result.published, 60);
        assert.deepEqual(perKey(await readStream(ordered)), expected(events));

        // The same faults without per-key ordering reorder keys: the test above is not vacuous.
        const unordered = await newStream(2);
        await publisherFor(recordingClient(new Map(faults)).client, { streamName: unordered }).publish(
          "interaction-events",
          events,
        );
        assert.notDeepEqual(perKey(await readStream(unordered)), expected(events));
      });

      it("sends at most one event per key in each call", async () => {
        const streamName = await newStream(2);
        const { client, requests } = recordingClient();
        await orderedPublisher(client, streamName).publish("interaction-events", sequence(12, 3));
        for (const request of requests) {
          const keys = request.Records!.map((r) => r.PartitionKey);
          assert.equal(new Set(keys).size, keys.length, `a call carries ${keys.join(", ")}`);
        }
        assert.equal(requests.length, 4);
      });

      it("fails the later events of a key whose event fails for good, without sending them", async () => {
        const streamName = await newStream(2);
        const events = sequence(9, 3);
        const { client, requests } = recordingClient(new Map([["e1", 99]]));
        const result = await orderedPublisher(client, streamName, { maxAttempts: 3 }).publish(
          "interaction-events",
          events,
        );

        assert.equal(result.published, 6);
        assert.deepEqual(
          result.failed.map((f) => [f.event.id, f.errorCode, f.attempts, f.mayBeInStream]),
          [
            ["e1", "ProvisionedThroughputExceededException", 3, false],
            ["e4", "PrecedingEventFailed", 0, false],
            ["e7", "PrecedingEventFailed", 0, false],
          ],
        );
        assert.equal(
          result.failed[1]!.errorMessage,
          "not sent: event e1 of partition key user-1 failed before it",
        );
        const sent = requests.flatMap((r) => r.Records!.map(idOf));
        assert.ok(!sent.includes("e4") && !sent.includes("e7"));
        assert.deepEqual(perKey(await readStream(streamName)).get("user-1"), undefined);
      });

      it("keeps order across concurrent publish calls of one product", async () => {
        const streamName = await newStream(1);
        const { client } = recordingClient(new Map([["first", 2]]));
        const publisher = orderedPublisher(client, streamName);
        await Promise.all([
          publisher.publish("interaction-events", play(1, { id: "first" })),
          publisher.publish("interaction-events", play(1, { id: "second" })),
        ]);
        assert.deepEqual(
          (await readStream(streamName)).map((r) => r.envelope.id),
          ["first", "second"],
        );
      });
    });
  });

  describe("with a mocked client", () => {
    const client = new KinesisClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const kinesis = mockClient(client);
    const throttled = () =>
      new ProvisionedThroughputExceededException({ message: "Rate exceeded", $metadata: {} });

    afterEach(() => kinesis.reset());
    after(() => kinesis.restore());

    const putCalls = () => kinesis.commandCalls(PutRecordsCommand).map((call) => call.args[0].input);
    const accept = (input: PutRecordsCommandInput): Omit<PutRecordsCommandOutput, "$metadata"> => ({
      FailedRecordCount: 0,
      Records: input.Records!.map((_, i) => ({ SequenceNumber: String(i), ShardId: "shardId-000000000000" })),
    });

    it("returns the events still failing after the last attempt and hands them to the dead-letter sink", async () => {
      kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
        const records = input.Records!.map((record) =>
          idOf(record) === "stuck"
            ? { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard" }
            : { SequenceNumber: "1", ShardId: "shardId-000000000000" },
        );
        return { FailedRecordCount: records.filter((r) => "ErrorCode" in r).length, Records: records };
      });
      const deadLettered: (readonly FailedEvent[])[] = [];
      const publisher = publisherFor(
        client,
        { streamName: "s" },
        {
          maxAttempts: 3,
          deadLetter: async (failed) => void deadLettered.push(failed),
        },
      );

      const result = await publisher.publish("interaction-events", [
        play(0, { id: "a" }),
        play(1, { id: "stuck" }),
        play(2, { id: "b" }),
      ]);

      assert.equal(result.published, 2);
      assert.equal(result.calls, 3);
      assert.equal(result.failed.length, 1);
      const [failed] = result.failed;
      assert.equal(failed!.event.id, "stuck");
      assert.equal(failed!.event.partitionkey, "user-1");
      // The whole envelope as sent, so that it can be resent or stored as it is.
      assert.deepEqual(failed!.event, {
        specversion: "1.0",
        id: "stuck",
        source: "mesh://interactions/interaction-events",
        type: "interaction.play",
        time: failed!.event.time,
        dataversion: interactionEvents.versions.at(-1)!.version,
        partitionkey: "user-1",
        data: play(1).data,
      });
      assert.match(failed!.event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(failed!.errorCode, "ProvisionedThroughputExceededException");
      assert.equal(failed!.errorMessage, "Rate exceeded for shard");
      assert.equal(failed!.attempts, 3);
      // Kinesis refused the entry each time: it is not in the stream.
      assert.equal(failed!.mayBeInStream, false);
      assert.deepEqual(deadLettered, [result.failed]);
      assert.deepEqual(
        putCalls().map((input) => input.Records!.map(idOf)),
        [["a", "stuck", "b"], ["stuck"], ["stuck"]],
      );
      assert.equal(sleeps.length, 2);
    });

    it("counts a call that throws as all of its entries failing, and resends only those", async () => {
      let call = 0;
      kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
        if (++call === 2) throw throttled();
        return accept(input);
      });

      const result = await publisherFor(client, { streamName: "s" }).publish(
        "interaction-events",
        Array.from({ length: 1200 }, (_, i) => play(i)),
      );

      assert.deepEqual(result, { published: 1200, failed: [], calls: 4 });
      const calls = putCalls();
      assert.deepEqual(
        calls.map((input) => input.Records!.length),
        [500, 500, 200, 500],
      );
      assert.deepEqual(calls[3]!.Records!.map(idOf), calls[1]!.Records!.map(idOf));
    });

    it("returns every event as failed when every call throws", async () => {
      kinesis.on(PutRecordsCommand).rejects(throttled());
      const deadLettered: FailedEvent[] = [];
      const publisher = publisherFor(
        client,
        { streamName: "s" },
        {
          maxAttempts: 2,
          deadLetter: async (failed) => void deadLettered.push(...failed),
        },
      );

      const result = await publisher.publish("interaction-events", [play(0), play(1), play(2)]);

      assert.equal(result.published, 0);
      assert.equal(result.calls, 2);
      assert.deepEqual(
        result.failed.map((f) => [f.errorCode, f.errorMessage, f.attempts, f.mayBeInStream]),
        // A call that threw may have been written before its answer was lost.
        Array(3).fill(["ProvisionedThroughputExceededException", "Rate exceeded", 2, true]),
      );
      assert.equal(new Set(result.failed.map((f) => f.event.id)).size, 3);
      assert.deepEqual(deadLettered, result.failed);
    });

    it("rejects with the result attached when the dead-letter sink throws", async () => {
      kinesis.on(PutRecordsCommand).rejects(throttled());
      const sinkDown = new Error("sink down");
      const publisher = publisherFor(
        client,
        { streamName: "s" },
        {
          maxAttempts: 1,
          deadLetter: async () => {
            throw sinkDown;
          },
        },
      );

      const error = await publisher.publish("interaction-events", play(0, { id: "x" })).then(
        () => assert.fail("publish resolved"),
        (e: unknown) => e,
      );

      assert.ok(error instanceof DeadLetterError);
      assert.equal(error.cause, sinkDown);
      assert.deepEqual(
        error.result.failed.map((f) => f.event.id),
        ["x"],
      );
    });

    it("addresses a cross-account stream by StreamARN", async () => {
      kinesis.on(PutRecordsCommand).callsFake(accept);
      const streamArn = "arn:aws:kinesis:eu-west-1:111122223333:stream/interactions-interaction-events";

      await publisherFor(client, { streamArn }).publish("interaction-events", play(0));

      const [input] = putCalls();
      assert.equal(input!.StreamARN, streamArn);
      assert.equal(input!.StreamName, undefined);
    });

    it("rejects an id, time or partition key the envelope does not allow, naming each, and sends nothing", async () => {
      const publisher = publisherFor(client, { streamName: "s" });

      await assert.rejects(
        publisher.publish("interaction-events", [
          play(0, { id: "" }),
          play(1, { time: "yesterday" }),
          play(2, { time: new Date(Number.NaN) }),
          play(3),
        ]),
        (error: unknown) => {
          assert.ok(error instanceof ContractViolationError);
          assert.match(error.message, /^cannot publish 3 events to interaction-events; nothing was sent:/);
          assert.deepEqual(
            error.issues.map((issue) => issue.path),
            [
              [0, "id"],
              [1, "time"],
              [2, "time"],
            ],
          );
          return true;
        },
      );
      // The blobs contract does not bound its key; the envelope's partition key is at most 256 characters.
      await assert.rejects(
        publisher.publish("blobs", { type: "blob.put", data: { key: "k".repeat(257), blob: "" } }),
        {
          name: "ContractViolationError",
          message:
            /^cannot publish event 0 \(blob\.put\): invalid envelope: .*partitionkey.* to blobs; nothing was sent$/s,
        },
      );
      assert.equal(putCalls().length, 0);
    });

    it("sends nothing for an empty list", async () => {
      const result = await publisherFor(client, { streamName: "s" }).publish("interaction-events", []);

      assert.deepEqual(result, { published: 0, failed: [], calls: 0 });
      assert.equal(putCalls().length, 0);
    });
  });

  describe("deadline and call counting", () => {
    /** A server that accepts connections and never answers, or answers every request with a 500. */
    async function server(answer: "never" | "500") {
      const requests: number[] = [];
      const sockets = new Set<import("node:net").Socket>();
      const http = createServer((request, response) => {
        requests.push(Date.now());
        request.resume();
        if (answer === "500") {
          response.writeHead(500, { "content-type": "application/x-amz-json-1.1" });
          response.end(JSON.stringify({ __type: "InternalFailure", message: "injected" }));
        }
      });
      http.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
      const client = new KinesisClient({
        endpoint: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
        region: "eu-west-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        requestHandler: new NodeHttpHandler(),
        maxAttempts: 3,
      });
      const stop = async () => {
        client.destroy();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      };
      return { client, requests, stop };
    }

    it("returns every event failed, possibly in the stream, once the deadline passes against a silent endpoint", async () => {
      const silent = await server("never");
      try {
        const result = await publisherFor(silent.client, { streamName: "s" }, { deadlineMs: 300 }).publish(
          "interaction-events",
          [play(0, { id: "a" }), play(1, { id: "b" })],
        );
        assert.equal(result.published, 0);
        assert.deepEqual(
          result.failed.map((f) => [f.event.id, f.errorCode, f.mayBeInStream]),
          [
            ["a", "DeadlineExceeded", true],
            ["b", "DeadlineExceeded", true],
          ],
        );
        assert.equal(silent.requests.length, 1);
      } finally {
        await silent.stop();
      }
    });

    it("has a deadline by default", async () => {
      const hung = new KinesisClient({
        region: "eu-west-1",
        credentials: { accessKeyId: "t", secretAccessKey: "t" },
      });
      hung.send = (() => new Promise(() => {})) as KinesisClient["send"];
      mock.timers.enable({ apis: ["setTimeout"] });
      try {
        const publishing = publisherFor(hung, { streamName: "s" }).publish("interaction-events", play(0));
        await new Promise((resolve) => setImmediate(resolve));
        mock.timers.tick(DEFAULT_DEADLINE_MS);
        const result = await publishing;
        assert.deepEqual(
          result.failed.map((f) => f.errorCode),
          ["DeadlineExceeded"],
        );
      } finally {
        mock.timers.reset();
      }
    });

    it("counts the SDK's own retries in calls", async () => {
      const failing = await server("500");
      try {
        const result = await publisherFor(failing.client, { streamName: "s" }, { maxAttempts: 2 }).publish(
          "interaction-events",
          play(0),
        );
        // Two Publisher attempts, each retried by the SDK up to its maxAttempts of 3.
        assert.equal(failing.requests.length, 6);
        assert.equal(result.calls, 6);
        assert.deepEqual(
          result.failed.map((f) => [f.errorCode, f.attempts, f.mayBeInStream]),
          [["InternalFailure", 2, true]],
        );
      } finally {
        await failing.stop();
      }
    });
  });

  describe("configuration", () => {
    const client = new KinesisClient({ region: "eu-west-1" });

    it("refuses a partition key field that an event type does not declare", () => {
      assert.throws(
        () =>
          new Publisher({
            client,
            domain: producer(Ordering.None, "artistId"),
            streams: { "interaction-events": { streamName: "s" } },
          }),
        {
          message:
            "product interaction-events: partition key field artistId is not declared by interaction.play in " +
            "interactions.interaction-events v1",
        },
      );
    });

    it("refuses a product without a stream name or ARN", () => {
      assert.throws(
        () => new Publisher({ client, domain: producer(), streams: { "interaction-events": {} } }),
        { message: "streams.interaction-events: needs a streamName or a streamArn" },
      );
      assert.throws(
        () => new Publisher({ client, domain: producer(), streams: { "play-events": { streamName: "s" } } }),
        {
          message:
            "streams.play-events: domain interactions declares no product play-events (known: interaction-events, blobs)",
        },
      );
    });
  });
});

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
import { mockClient } from "aws-sdk-client-mock";
import { z } from "zod";
import { interactionEvents } from "../../domains/interactions/contract";
import { ContractViolationError, defineContract, type Envelope } from "../../platform/contract";
import {
  DeadLetterError,
  MAX_RECORD_BYTES,
  MAX_REQUEST_BYTES,
  Publisher,
  RecordTooLargeError,
  type FailedEvent,
  type PublisherOptions,
  type PublishEvent,
} from "../../runtime/publisher";
import { startKinesalite, type LocalKinesis } from "../helpers/kinesalite";

const blobs = defineContract("test.blobs", [
  { version: 1, events: { "blob.put": z.object({ key: z.string(), blob: z.string() }) } },
]);

type Product = "interaction-events" | "blobs";

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
      domain: "interactions",
      products: {
        "interaction-events": { stream, contract: interactionEvents, partitionKey: "userId" },
        blobs: { stream, contract: blobs, partitionKey: "key" },
      },
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
      assert.match(error.message, /^cannot publish event 1 \(interaction\.play\) to interaction-events: /);
      assert.deepEqual(
        error.issues.map((issue) => [issue.code, issue.path]),
        [["invalid_value", ["itemType"]]],
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
        domain: "interactions",
        products: {
          "interaction-events": {
            stream: { streamName },
            contract: interactionEvents,
            partitionKey: "device",
          },
        },
      });

      await assert.rejects(
        publisher.publish("interaction-events", [play(0), { type: "interaction.pause", data: {} }]),
        {
          name: "ContractViolationError",
          message:
            /^cannot publish event 1 \(interaction\.pause\) to interaction-events: .*unknown event type interaction\.pause/,
        },
      );
      await assert.rejects(byDevice.publish("interaction-events", play(0)), (error: unknown) => {
        assert.ok(error instanceof ContractViolationError);
        assert.equal(
          error.message,
          "cannot publish event 0 (interaction.play) to interaction-events: partition key field device is missing",
        );
        assert.deepEqual(error.issues[0]?.path, ["device"]);
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
      assert.equal(
        error.message,
        `cannot publish event 1 (blob.put, id big) to blobs: its record is ${error.bytes} bytes ` +
          `(data + partition key), more than the 1048576 a Kinesis record may carry; nothing was sent`,
      );
      assert.equal(requests.length, 0);
      assert.equal((await readStream(streamName)).length, 0);

      // The limit counts the partition key too: a record of exactly 1 MiB passes, one byte more does not.
      const overhead = error.bytes - MAX_RECORD_BYTES;
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
      assert.equal(failed!.errorCode, "ProvisionedThroughputExceededException");
      assert.equal(failed!.errorMessage, "Rate exceeded for shard");
      assert.equal(failed!.attempts, 3);
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
        result.failed.map((f) => [f.errorCode, f.errorMessage, f.attempts]),
        Array(3).fill(["ProvisionedThroughputExceededException", "Rate exceeded", 2]),
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

    it("sends nothing for an empty list", async () => {
      const result = await publisherFor(client, { streamName: "s" }).publish("interaction-events", []);

      assert.deepEqual(result, { published: 0, failed: [], calls: 0 });
      assert.equal(putCalls().length, 0);
    });
  });

  describe("configuration", () => {
    const client = new KinesisClient({ region: "eu-west-1" });

    it("refuses a partition key field that an event type does not declare", () => {
      assert.throws(
        () =>
          new Publisher({
            client,
            domain: "interactions",
            products: {
              p: { stream: { streamName: "s" }, contract: interactionEvents, partitionKey: "artistId" },
            },
          }),
        {
          message:
            "product p: partition key field artistId is not declared by interaction.play in " +
            "interactions.interaction-events v1",
        },
      );
    });

    it("refuses a product without a stream name or ARN", () => {
      assert.throws(
        () =>
          new Publisher({
            client,
            domain: "interactions",
            products: { p: { stream: {}, contract: interactionEvents, partitionKey: "userId" } },
          }),
        { message: "product p: stream needs a streamName or a streamArn" },
      );
    });
  });
});

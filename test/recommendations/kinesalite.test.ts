import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type _Record as KinesisRecord,
} from "@aws-sdk/client-kinesis";
import {
  PersonalizeEventsClient,
  PutEventsCommand,
  PutItemsCommand,
  PutUsersCommand,
  type PutEventsCommandInput,
  type PutItemsCommandInput,
  type PutUsersCommandInput,
} from "@aws-sdk/client-personalize-events";
import type { KinesisStreamEvent } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import { createInteractionsUpdateHandler } from "../../domains/recommendations/handlers/interactions-update";
import { createItemsUpdateHandler } from "../../domains/recommendations/handlers/items-update";
import { createUsersUpdateHandler } from "../../domains/recommendations/handlers/users-update";
import type { StreamHandler } from "../../runtime/consumer-kit";
import { InMemoryIdempotencyStore, lambdaContext, silentObservability } from "../../runtime/consumer-testing";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";

/**
 * The handlers on batches read from a real (local) stream: envelopes go in with PutRecords, come
 * back with GetShardIterator/GetRecords, and are handed over the way the event source mapping does:
 * one invocation per shard batch, `data` base64, sequence numbers and ARNs as Kinesis reports them.
 */
type Publishable = { readonly partitionkey: string } | Buffer;

async function publish(kinesis: LocalKinesis, stream: string, items: readonly Publishable[]): Promise<void> {
  const { FailedRecordCount } = await kinesis.client.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: items.map((item) =>
        Buffer.isBuffer(item)
          ? { Data: item, PartitionKey: "poison" }
          : { Data: Buffer.from(JSON.stringify(item)), PartitionKey: item.partitionkey },
      ),
    }),
  );
  assert.equal(FailedRecordCount, 0);
}

/** Every shard's records from the start, each shard as the batches Lambda would deliver. */
async function readBatches(
  kinesis: LocalKinesis,
  stream: string,
  batchSize: number,
): Promise<KinesisStreamEvent[]> {
  const { StreamDescriptionSummary } = await kinesis.client.send(
    new DescribeStreamSummaryCommand({ StreamName: stream }),
  );
  const streamArn = StreamDescriptionSummary!.StreamARN!;
  const { Shards = [] } = await kinesis.client.send(new ListShardsCommand({ StreamName: stream }));
  const batches: KinesisStreamEvent[] = [];
  for (const shard of Shards) {
    const { ShardIterator } = await kinesis.client.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    let iterator = ShardIterator;
    while (iterator) {
      const page = await kinesis.client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }),
      );
      if (!page.Records?.length) break;
      batches.push({
        Records: page.Records.map((record) => asLambdaRecord(record, shard.ShardId!, streamArn)),
      });
      iterator = page.NextShardIterator;
    }
  }
  return batches;
}

function asLambdaRecord(
  record: KinesisRecord,
  shardId: string,
  streamArn: string,
): KinesisStreamEvent["Records"][number] {
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: record.PartitionKey!,
      sequenceNumber: record.SequenceNumber!,
      data: Buffer.from(record.Data!).toString("base64"),
      approximateArrivalTimestamp: record.ApproximateArrivalTimestamp!.getTime() / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::111111111111:role/recommendations-consumer",
    awsRegion: streamArn.split(":")[3]!,
    eventSourceARN: streamArn,
  };
}

function envelope(
  id: string,
  source: string,
  type: string,
  partitionkey: string,
  data: Record<string, unknown>,
) {
  return {
    specversion: "1.0",
    id,
    source,
    type,
    time: "2026-03-01T10:00:00Z",
    dataversion: 1,
    partitionkey,
    data,
  };
}

describe("Personalize handlers on batches read from kinesalite", () => {
  let kinesis: LocalKinesis;
  let personalize: AwsClientStub<PersonalizeEventsClient>;
  const context = lambdaContext("recommendations");
  const options = () => ({
    idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 21600 },
    observability: silentObservability(),
    retry: { sleep: async () => undefined },
  });

  before(async () => {
    kinesis = await startKinesalite();
    personalize = mockClient(PersonalizeEventsClient);
  });
  after(async () => {
    personalize.restore();
    await kinesis.stop();
  });
  beforeEach(() => {
    personalize.reset();
    personalize.on(PutEventsCommand).resolves({});
    personalize.on(PutItemsCommand).resolves({});
    personalize.on(PutUsersCommand).resolves({});
  });

  async function invokeAll(handler: StreamHandler, batches: readonly KinesisStreamEvent[]) {
    const failed: string[] = [];
    for (const batch of batches) {
      const response = await handler(batch, context);
      failed.push(...response.batchItemFailures.map((failure) => failure.itemIdentifier));
    }
    return failed;
  }

  it("interactions-update: every event sent once across two shards, the poison record reported, a replay sends nothing", async () => {
    await kinesis.createStream("interactions", 2);
    const users = ["ann", "bob", "cho", "dev"];
    const events = Array.from({ length: 48 }, (_, i) => {
      const userId = users[i % users.length]!;
      return envelope(`i-${i}`, "interactions/interaction-events", "interaction.like", userId, {
        userId,
        itemId: `song-${i}`,
        itemType: "song",
        sessionId: `${userId}-session-${Math.floor(i / 24)}`,
        occurredAt: new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString(),
      });
    });
    await publish(kinesis, "interactions", [
      ...events.slice(0, 20),
      Buffer.from("<xml/>"),
      ...events.slice(20),
    ]);
    const batches = await readBatches(kinesis, "interactions", 20);
    const records = batches.flatMap((batch) => batch.Records);
    assert.equal(records.length, 49);
    assert.equal(new Set(records.map((r) => r.eventSourceARN)).size, 1);

    const handler = createInteractionsUpdateHandler({ trackingId: "tracking-1", ...options() });
    const failed = await invokeAll(handler, batches);
    const poison = records.find((r) => r.kinesis.partitionKey === "poison")!;
    assert.deepEqual(failed, [poison.kinesis.sequenceNumber]);

    const sent = personalize
      .commandCalls(PutEventsCommand)
      .flatMap((call) =>
        (call.args[0].input as PutEventsCommandInput).eventList!.map((event) => event.eventId!),
      );
    assert.deepEqual(sent.slice().sort(), events.map((event) => event.id).sort());
    for (const call of personalize.commandCalls(PutEventsCommand)) {
      const input = call.args[0].input as PutEventsCommandInput;
      assert.ok(input.eventList!.length <= 10);
      assert.ok(input.sessionId!.startsWith(`${input.userId}-session-`));
    }

    // Lambda checkpointed at the poison record: everything after it on its shard comes again.
    const callsBefore = personalize.commandCalls(PutEventsCommand).length;
    assert.deepEqual(await invokeAll(handler, batches), [poison.kinesis.sequenceNumber]);
    assert.equal(personalize.commandCalls(PutEventsCommand).length, callsBefore);
  });

  it("items-update: songs and podcasts streams through one function", async () => {
    await kinesis.createStream("songs", 1);
    await kinesis.createStream("podcasts", 1);
    await publish(
      kinesis,
      "songs",
      Array.from({ length: 12 }, (_, i) =>
        envelope(`s-${i}`, "songs/song-events", "song.published", `song-${i}`, {
          songId: `song-${i}`,
          title: "A song",
          artistId: "artist-1",
          genres: ["rock"],
          durationMs: 200_000,
          releaseYear: 2024,
          explicit: false,
          publishedAt: "2026-01-01T00:00:00Z",
        }),
      ),
    );
    await publish(kinesis, "podcasts", [
      envelope("p-1", "podcasts/episode-events", "episode.published", "ep-1", {
        episodeId: "ep-1",
        podcastId: "pod-1",
        title: "Pilot",
        category: "comedy",
        language: "en",
        durationMs: 1_800_000,
        explicit: false,
        publishedAt: "2026-01-02T00:00:00Z",
      }),
      envelope("p-2", "podcasts/episode-events", "episode.updated", "ep-1", {
        episodeId: "ep-1",
        podcastId: "pod-1",
        explicit: true,
        updatedAt: "2026-01-03T00:00:00Z",
      }),
    ]);
    const handler = createItemsUpdateHandler({ datasetArn: "arn:items", ...options() });
    const failed = [
      ...(await invokeAll(handler, await readBatches(kinesis, "songs", 100))),
      ...(await invokeAll(handler, await readBatches(kinesis, "podcasts", 100))),
    ];
    assert.deepEqual(failed, []);
    assert.deepEqual(
      personalize
        .commandCalls(PutItemsCommand)
        .map((call) => (call.args[0].input as PutItemsCommandInput).items!.map((item) => item.itemId)),
      // The partial episode.updated is skipped: PutItems would replace the item with it.
      [
        Array.from({ length: 10 }, (_, i) => `song:song-${i}`),
        ["song:song-10", "song:song-11"],
        ["episode:ep-1"],
      ],
    );
  });

  it("users-update: users written in stream order, an invalid record reported alone", async () => {
    await kinesis.createStream("users", 1);
    const user = (id: string, type: string, data: Record<string, unknown>) =>
      envelope(id, "users/user-events", type, String(data.userId), data);
    await publish(kinesis, "users", [
      user("u-1", "user.created", {
        userId: "ann",
        country: "IT",
        tier: "free",
        createdAt: "2026-01-01T00:00:00Z",
      }),
      user("u-2", "user.updated", {
        userId: "ann",
        country: "IT",
        tier: "premium",
        language: "it",
        updatedAt: "2026-01-02T00:00:00Z",
      }),
      user("u-3", "user.created", {
        userId: "bob",
        country: "it",
        tier: "free",
        createdAt: "2026-01-01T00:00:00Z",
      }),
    ]);
    const batches = await readBatches(kinesis, "users", 100);
    const handler = createUsersUpdateHandler({ datasetArn: "arn:users", ...options() });
    const failed = await invokeAll(handler, batches);

    assert.deepEqual(failed, [batches[0]!.Records[2]!.kinesis.sequenceNumber]);
    assert.deepEqual(
      personalize
        .commandCalls(PutUsersCommand)
        .map((call) => (call.args[0].input as PutUsersCommandInput).users),
      [
        [{ userId: "ann", properties: '{"country":"IT","tier":"free"}' }],
        [{ userId: "ann", properties: '{"country":"IT","tier":"premium","language":"it"}' }],
      ],
    );
  });
});

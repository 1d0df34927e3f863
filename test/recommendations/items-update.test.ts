import { DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import {
  InvalidInputException,
  PersonalizeEventsClient,
  PutItemsCommand,
  type PutItemsCommandInput,
} from "@aws-sdk/client-personalize-events";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import {
  createItemsUpdateHandler,
  handler as deployedHandler,
  type ItemsUpdateOptions,
} from "../../domains/recommendations/handlers/items-update";
import { propertyColumns, propertyKey } from "../../domains/recommendations/handlers/personalize";
import {
  InMemoryIdempotencyStore,
  kinesisEvent,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../../runtime/consumer-testing";

const DATASET = "arn:aws:personalize:eu-west-1:333333333333:dataset/recommendations/ITEMS";

function envelope(id: string, type: string, data: Record<string, unknown>) {
  return {
    specversion: "1.0",
    id,
    source: type.startsWith("song.") ? "songs/song-events" : "podcasts/episode-events",
    type,
    time: "2026-03-01T10:00:00Z",
    dataversion: 1,
    partitionkey: String(data.songId ?? data.episodeId),
    data,
  };
}

const songPublished = (id: string, songId: string, extra: Record<string, unknown> = {}) =>
  envelope(id, "song.published", {
    songId,
    title: `Song ${songId}`,
    artistId: "artist-1",
    genres: ["rock", "indie pop"],
    durationMs: 215_000,
    releaseYear: 2025,
    explicit: false,
    publishedAt: "2026-02-01T00:00:00Z",
    ...extra,
  });

const songUpdated = (id: string, songId: string, changes: Record<string, unknown>) =>
  envelope(id, "song.updated", { songId, updatedAt: "2026-03-01T00:00:00Z", ...changes });

const episodePublished = (id: string, episodeId: string) =>
  envelope(id, "episode.published", {
    episodeId,
    podcastId: "pod-1",
    title: "Episode",
    category: "technology",
    language: "en",
    durationMs: 3_600_000,
    explicit: true,
    publishedAt: "2026-02-02T12:00:00Z",
  });

const context = lambdaContext("items-update");

describe("items-update", () => {
  let personalize: AwsClientStub<PersonalizeEventsClient>;
  const calls = () =>
    personalize.commandCalls(PutItemsCommand).map((call) => call.args[0].input as PutItemsCommandInput);
  const sentIds = () => calls().map((input) => input.items!.map((item) => item.itemId));

  before(() => {
    personalize = mockClient(PersonalizeEventsClient);
  });
  after(() => personalize.restore());
  beforeEach(() => {
    personalize.reset();
    personalize.on(PutItemsCommand).resolves({});
  });

  function build(options: ItemsUpdateOptions = {}) {
    const sleeps: number[] = [];
    const observability = silentObservability();
    const handler = createItemsUpdateHandler({
      datasetArn: DATASET,
      retry: { sleep: async (ms) => void sleeps.push(ms) },
      idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 21600 },
      observability,
      ...options,
    });
    return { handler, sleeps, errors: observability.errors };
  }

  it("maps songs and episodes to items with the schema's columns under camelCase keys", async () => {
    const { handler } = build();
    const response = await handler(
      kinesisEvent([songPublished("s-1", "song-1"), episodePublished("e-1", "ep-1")]),
      context,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal(calls().length, 1);
    assert.equal(calls()[0]!.datasetArn, DATASET);
    assert.deepEqual(
      calls()[0]!.items!.map((item) => ({
        itemId: item.itemId,
        properties: JSON.parse(item.properties as string),
      })),
      [
        {
          itemId: "song:song-1",
          properties: {
            contentType: "song",
            genres: "rock|indie pop",
            durationMs: 215_000,
            explicit: "False",
            releaseYear: 2025,
            creationTimestamp: 1769904000,
          },
        },
        {
          itemId: "episode:ep-1",
          properties: {
            contentType: "episode",
            genres: "technology",
            durationMs: 3_600_000,
            explicit: "True",
            language: "en",
            creationTimestamp: 1770033600,
          },
        },
      ],
    );
  });

  it("writes only columns of the Items schema, under the keys Personalize expects", () => {
    const columns = [...propertyColumns("Items").keys()];
    assert.deepEqual(columns.map(propertyKey), [
      "contentType",
      "genres",
      "durationMs",
      "explicit",
      "language",
      "releaseYear",
      "creationTimestamp",
    ]);
  });

  it("skips a partial update, which PutItems would turn into an item without its other columns", async () => {
    const { handler } = build();
    const response = await handler(
      kinesisEvent([
        songUpdated("t", "song-1", { title: "New title" }),
        songUpdated("g", "song-1", { genres: ["jazz"], explicit: true }),
      ]),
      context,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal(calls().length, 0);
  });

  it("sends at most 10 items a call, in stream order, never two writes of one item in a call", async () => {
    const { handler } = build();
    const events = [
      ...Array.from({ length: 12 }, (_, i) => songPublished(`p-${i}`, `song-${i}`)),
      songPublished("r-0", "song-0", { explicit: true }),
    ];
    const response = await handler(kinesisEvent(events), context);

    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [
      Array.from({ length: 10 }, (_, i) => `song:song-${i}`),
      ["song:song-10", "song:song-11", "song:song-0"],
    ]);
  });

  it("keeps two writes of one item in separate calls, in order", async () => {
    const { handler } = build();
    await handler(
      kinesisEvent([
        songPublished("a", "song-1"),
        songPublished("b", "song-1", { explicit: true }),
        songPublished("c", "song-2"),
      ]),
      context,
    );
    assert.deepEqual(sentIds(), [["song:song-1", "song:song-2"], ["song:song-1"]]);
    assert.equal(JSON.parse(calls()[1]!.items![0]!.properties as string).explicit, "True");
  });

  it("fails only the record whose values cannot be sent: an id over 256 characters, a genre with a pipe", async () => {
    const { handler, errors } = build();
    const batch = kinesisEvent([
      songPublished("ok", "song-1"),
      songPublished("long-id", "s".repeat(256)),
      songPublished("pipe", "song-2", { genres: ["rock|pop"] }),
      episodePublished("ok-2", "ep-1"),
    ]);
    const response = await handler(batch, context);

    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [batch.Records[1]!.kinesis.sequenceNumber, batch.Records[2]!.kinesis.sequenceNumber],
    );
    assert.deepEqual(sentIds(), [["song:song-1", "episode:ep-1"]]);
    assert.deepEqual(
      errors.map((e) => (e.extra.error as Error).message),
      [
        "event long-id cannot be sent to Personalize: itemId is 261 characters, more than the 256 allowed",
        'event pipe cannot be sent to Personalize: genre value "rock|pop" contains "|", the separator of categorical values',
      ],
    );
  });

  it("resends a throttled call after a backoff: one retry, everything succeeds", async () => {
    const { handler, sleeps } = build();
    personalize
      .on(PutItemsCommand)
      .rejectsOnce(
        Object.assign(new Error("Rate exceeded"), {
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({});
    const response = await handler(
      kinesisEvent([songPublished("a", "song-1"), songPublished("b", "song-2")]),
      context,
    );

    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [
      ["song:song-1", "song:song-2"],
      ["song:song-1", "song:song-2"],
    ]);
    assert.equal(sleeps.length, 1);
  });

  it("after the last attempt fails the throttled writes and holds back later writes of the same items", async () => {
    const { handler, errors } = build();
    const serverError = Object.assign(new Error("Internal error"), {
      name: "InternalServerError",
      $metadata: { httpStatusCode: 500 },
    });
    // The first call (song-1 .. song-10) keeps failing; later calls succeed.
    personalize.on(PutItemsCommand).callsFake((input: PutItemsCommandInput) => {
      if (input.items!.some((item) => item.itemId === "song:song-5")) throw serverError;
      return {};
    });
    const batch = kinesisEvent([
      ...Array.from({ length: 10 }, (_, i) => songPublished(`p-${i + 1}`, `song-${i + 1}`)),
      songPublished("u-1", "song-1", { explicit: true }),
      songPublished("p-11", "song-11"),
    ]);
    const response = await handler(batch, context);

    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      batch.Records.slice(0, 11).map((r) => r.kinesis.sequenceNumber),
    );
    assert.equal(calls().length, 6, "five attempts of the first call, then song-11 alone");
    assert.deepEqual(sentIds().at(-1), ["song:song-11"]);
    assert.equal(
      (errors.find((e) => e.extra.eventId === "u-1")!.extra.error as Error).message,
      "PutItems not attempted for event u-1: event p-1 for song:song-1, earlier in the stream, failed and must be applied first",
    );
    assert.equal(
      (errors.find((e) => e.extra.eventId === "p-1")!.extra.error as Error).message,
      "PutItems still failing after 5 attempts: InternalServerError: Internal error",
    );
  });

  it("finds the item Personalize refuses by splitting the call, without holding back the others", async () => {
    const { handler } = build();
    personalize.on(PutItemsCommand).callsFake((input: PutItemsCommandInput) => {
      if (input.items!.some((item) => item.itemId === "song:bad")) {
        throw new InvalidInputException({ message: "bad item", $metadata: { httpStatusCode: 400 } });
      }
      return {};
    });
    const batch = kinesisEvent([
      songPublished("a", "good"),
      songPublished("b", "bad"),
      songPublished("c", "bad", { explicit: true }),
    ]);
    const response = await handler(batch, context);

    // The refusal is permanent: the later write of the same item may go ahead (and is refused too).
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [batch.Records[1]!.kinesis.sequenceNumber, batch.Records[2]!.kinesis.sequenceNumber],
    );
    assert.deepEqual(sentIds(), [["song:good", "song:bad"], ["song:good"], ["song:bad"], ["song:bad"]]);
  });

  it("fails a poison record alone and sends the rest", async () => {
    const { handler } = build();
    const next = sequenceNumbers();
    const records = [
      kinesisRecord(songPublished("a", "song-1"), { sequenceNumber: next() }),
      kinesisRecord(envelope("x", "song.deleted", { songId: "song-9" }), { sequenceNumber: next() }),
      kinesisRecord(Buffer.from([0xde, 0xad]), { sequenceNumber: next() }),
      kinesisRecord(episodePublished("b", "ep-1"), { sequenceNumber: next() }),
    ];
    const response = await handler({ Records: records }, context);

    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [records[1]!.kinesis.sequenceNumber, records[2]!.kinesis.sequenceNumber],
    );
    assert.deepEqual(sentIds(), [["song:song-1", "episode:ep-1"]]);
  });

  it("writes an item once however often its event is delivered", async () => {
    const { handler } = build();
    await handler(kinesisEvent([songPublished("a", "song-1"), songPublished("a", "song-1")]), context);
    await handler(kinesisEvent([songPublished("a", "song-1"), episodePublished("b", "ep-1")]), context);
    assert.deepEqual(sentIds(), [["song:song-1"], ["episode:ep-1"]]);
  });

  describe("the deployed handler (configuration from the environment, idempotency in DynamoDB)", () => {
    let dynamodb: AwsClientStub<DynamoDBClient>;
    before(() => {
      dynamodb = mockClient(DynamoDBClient);
      Object.assign(process.env, {
        PERSONALIZE_ITEMS_DATASET_ARN: DATASET,
        IDEMPOTENCY_TABLE: "recommendations-idempotency",
        IDEMPOTENCY_TTL_SECONDS: "21600",
      });
    });
    after(() => {
      dynamodb.restore();
      for (const name of ["PERSONALIZE_ITEMS_DATASET_ARN", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS"]) {
        delete process.env[name];
      }
    });

    it("reads songs and episodes with the same function and writes to the dataset from the environment", async () => {
      dynamodb.on(TransactWriteItemsCommand).resolves({});
      const response = await deployedHandler(
        kinesisEvent([songPublished("env-s", "song-1"), episodePublished("env-e", "ep-1")]),
        context,
      );
      assert.deepEqual(response.batchItemFailures, []);
      assert.deepEqual(
        calls().map((input) => input.datasetArn),
        [DATASET],
      );
      assert.equal(dynamodb.commandCalls(TransactWriteItemsCommand).length, 2, "one claim, one completion");
    });
  });
});

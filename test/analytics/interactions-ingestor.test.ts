import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  FirehoseClient,
  PutRecordBatchCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  type PutRecordBatchCommandInput,
} from "@aws-sdk/client-firehose";
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import {
  FirehoseLimits,
  createInteractionsIngestor,
  type InteractionsIngestorOptions,
} from "../../domains/analytics/handlers/interactions-ingestor";
import type { Observability } from "../../runtime/consumer-kit";
import {
  InMemoryIdempotencyStore,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../../runtime/consumer-testing";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";

const DELIVERY_STREAM = "analytics-interactions";
const STREAM_ARN = "arn:aws:kinesis:eu-west-1:222222222222:stream/interaction-events";

function interaction(i: number, type = "interaction.play", data: Record<string, unknown> = {}) {
  const userId = `user-${i % 7}`;
  return {
    specversion: "1.0",
    id: `evt-${i}`,
    source: "interactions/interaction-events",
    type,
    time: "2026-03-01T12:00:01.000Z",
    dataversion: 1,
    partitionkey: userId,
    data: {
      userId,
      itemId: `song-${i}`,
      itemType: "song",
      sessionId: `session-${i % 3}`,
      occurredAt: "2026-03-01T12:00:00.000Z",
      ...(type === "interaction.play" ? { playedMs: 30_000 + i } : {}),
      ...data,
    },
  };
}

const nextSequenceNumber = sequenceNumbers();
const record = (payload: unknown): KinesisStreamRecord =>
  kinesisRecord(payload, { sequenceNumber: nextSequenceNumber(), eventSourceARN: STREAM_ARN });
const batchOf = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
const context = lambdaContext("analytics-interactions-ingestor");

/** Prints nothing (the kit's service dimension warning included). */
function quiet(): Observability {
  const observability = silentObservability();
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  try {
    return { ...observability, metrics: new Metrics({ namespace: "test", logger: observability.logger }) };
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

const firehose = new FirehoseClient({ region: "eu-west-1" });
let firehoseMock: AwsClientStub<FirehoseClient>;

function ingestor(overrides: Partial<InteractionsIngestorOptions> = {}) {
  return createInteractionsIngestor({
    client: firehose,
    deliveryStreamName: DELIVERY_STREAM,
    retry: { maxAttempts: 3, sleep: async () => {} },
    idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 3_600 },
    observability: quiet(),
    ...overrides,
  });
}

const calls = (): PutRecordBatchCommandInput[] =>
  firehoseMock.commandCalls(PutRecordBatchCommand).map((call) => call.args[0].input);
const documentsOf = (input: PutRecordBatchCommandInput) =>
  input.Records!.map(
    (entry) => JSON.parse(Buffer.from(entry.Data!).toString("utf8")) as Record<string, unknown>,
  );
const eventIdsOf = (input: PutRecordBatchCommandInput) =>
  documentsOf(input).map((document) => document.eventId);
const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);

/** Answers every call with success except for the event ids in `refuse`. */
function refusing(refuse: (eventId: string) => boolean) {
  return (input: PutRecordBatchCommandInput) => {
    const responses = documentsOf(input).map((document) =>
      refuse(String(document.eventId))
        ? { ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down." }
        : { RecordId: `r-${String(document.eventId)}` },
    );
    return {
      FailedPutCount: responses.filter((response) => "ErrorCode" in response).length,
      Encrypted: false,
      RequestResponses: responses,
    };
  };
}

describe("interactions-ingestor", () => {
  before(() => {
    firehoseMock = mockClient(firehose);
  });
  after(() => firehoseMock.restore());
  beforeEach(() => firehoseMock.reset());

  it("writes each interaction as one flattened JSON line", async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFake(refusing(() => false));
    const like = interaction(2, "interaction.like", { device: "car" });
    const response = await ingestor()(batchOf([record(interaction(1)), record(like)]), context);

    assert.deepEqual(response, { batchItemFailures: [] });
    const [call] = calls();
    assert.equal(call!.DeliveryStreamName, DELIVERY_STREAM);
    assert.ok(call!.Records!.every((entry) => Buffer.from(entry.Data!).toString("utf8").endsWith("}\n")));
    assert.deepEqual(documentsOf(call!), [
      {
        eventId: "evt-1",
        type: "interaction.play",
        source: "interactions/interaction-events",
        time: "2026-03-01T12:00:01.000Z",
        dataversion: 1,
        userId: "user-1",
        itemId: "song-1",
        itemType: "song",
        sessionId: "session-1",
        occurredAt: "2026-03-01T12:00:00.000Z",
        playedMs: 30_001,
      },
      {
        eventId: "evt-2",
        type: "interaction.like",
        source: "interactions/interaction-events",
        time: "2026-03-01T12:00:01.000Z",
        dataversion: 1,
        userId: "user-2",
        itemId: "song-2",
        itemType: "song",
        sessionId: "session-2",
        occurredAt: "2026-03-01T12:00:00.000Z",
        device: "car",
      },
    ]);
  });

  it("sends 1,200 events in 3 PutRecordBatch calls of at most 500 records, in stream order", async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFake(refusing(() => false));
    const records = Array.from({ length: 1_200 }, (_, i) => record(interaction(i)));
    const response = await ingestor()(batchOf(records), context);

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(
      calls().map((call) => call.Records!.length),
      [500, 500, 200],
    );
    assert.deepEqual(
      calls().flatMap(eventIdsOf),
      records.map((_, i) => `evt-${i}`),
    );
    for (const call of calls()) {
      const bytes = call.Records!.reduce((sum, entry) => sum + entry.Data!.byteLength, 0);
      assert.ok(bytes <= FirehoseLimits.bytesPerCall);
    }
  });

  it("resends only the entries Firehose refused, until they are written", async () => {
    firehoseMock
      .on(PutRecordBatchCommand)
      .callsFakeOnce(refusing((id) => id === "evt-1" || id === "evt-3"))
      .callsFake(refusing(() => false));
    const records = Array.from({ length: 5 }, (_, i) => record(interaction(i)));
    const response = await ingestor()(batchOf(records), context);

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(calls().map(eventIdsOf), [
      ["evt-0", "evt-1", "evt-2", "evt-3", "evt-4"],
      ["evt-1", "evt-3"],
    ]);
  });

  it("reports exactly the records still refused after the last attempt, and retries only them on redelivery", async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFake(refusing((id) => id === "evt-2" || id === "evt-5"));
    const records = Array.from({ length: 7 }, (_, i) => record(interaction(i)));
    const handler = ingestor();
    const response = await handler(batchOf(records), context);

    assert.deepEqual(
      failedIds(response),
      [records[2]!, records[5]!].map((r) => r.kinesis.sequenceNumber),
    );
    assert.deepEqual(calls().map(eventIdsOf), [
      ["evt-0", "evt-1", "evt-2", "evt-3", "evt-4", "evt-5", "evt-6"],
      ["evt-2", "evt-5"],
      ["evt-2", "evt-5"],
    ]);

    // Lambda delivers the batch again from the lowest failed record: only the failed events go out.
    firehoseMock.reset();
    firehoseMock.on(PutRecordBatchCommand).callsFake(refusing(() => false));
    const again = await handler(batchOf(records.slice(2)), context);
    assert.deepEqual(again, { batchItemFailures: [] });
    assert.deepEqual(calls().map(eventIdsOf), [["evt-2", "evt-5"]]);
  });

  it("counts a call that throws as all its entries failing and resends them", async () => {
    firehoseMock
      .on(PutRecordBatchCommand)
      .rejectsOnce(new ServiceUnavailableException({ $metadata: {}, message: "Slow down." }))
      .callsFake(refusing(() => false));
    const records = Array.from({ length: 3 }, (_, i) => record(interaction(i)));
    assert.deepEqual(await ingestor()(batchOf(records), context), { batchItemFailures: [] });
    assert.deepEqual(calls().map(eventIdsOf), [
      ["evt-0", "evt-1", "evt-2"],
      ["evt-0", "evt-1", "evt-2"],
    ]);
  });

  it("reads the per-entry results, not FailedPutCount: a refused entry is resent even when the count says 0", async () => {
    firehoseMock
      .on(PutRecordBatchCommand)
      .callsFakeOnce((input: PutRecordBatchCommandInput) => ({
        ...refusing((id) => id === "evt-1")(input),
        FailedPutCount: 0,
      }))
      .callsFake(refusing(() => false));
    const records = Array.from({ length: 3 }, (_, i) => record(interaction(i)));
    assert.deepEqual(await ingestor()(batchOf(records), context), { batchItemFailures: [] });
    assert.deepEqual(calls().map(eventIdsOf), [["evt-0", "evt-1", "evt-2"], ["evt-1"]]);
  });

  it("does not resend what cannot pass on a retry (a missing delivery stream, a KMS refusal)", async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFakeOnce((input: PutRecordBatchCommandInput) => {
      const responses = documentsOf(input).map((document) =>
        document.eventId === "evt-0"
          ? { ErrorCode: "KMS.DisabledException", ErrorMessage: "key disabled" }
          : { RecordId: `r-${String(document.eventId)}` },
      );
      return { FailedPutCount: 1, Encrypted: true, RequestResponses: responses };
    });
    const records = Array.from({ length: 2 }, (_, i) => record(interaction(i)));
    const first = await ingestor()(batchOf(records), context);
    assert.deepEqual(failedIds(first), [records[0]!.kinesis.sequenceNumber]);
    assert.equal(calls().length, 1, "the KMS refusal is not resent");

    firehoseMock.reset();
    firehoseMock
      .on(PutRecordBatchCommand)
      .rejects(new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: "no stream" }));
    const more = [record(interaction(5)), record(interaction(6))];
    const second = await ingestor()(batchOf(more), context).catch((error: Error) => error);
    assert.ok(second instanceof Error, "every record failed: the batch fails as a whole");
    assert.equal(calls().length, 1, "a missing delivery stream is not retried");
  });

  it("fails a poison record alone and writes the others", async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFake(refusing(() => false));
    const noUser = interaction(1);
    delete (noUser.data as Partial<typeof noUser.data>).userId;
    const records = [
      record(interaction(0)),
      record(noUser),
      record(Buffer.from("not json")),
      record(interaction(3, "interaction.unknown")),
      record(interaction(4)),
    ];
    const response = await ingestor()(batchOf(records), context);

    assert.deepEqual(
      failedIds(response),
      [records[1]!, records[2]!, records[3]!].map((r) => r.kinesis.sequenceNumber),
    );
    assert.deepEqual(calls().map(eventIdsOf), [["evt-0", "evt-4"]]);
  });

  it("writes an event delivered twice once, in one batch or across batches", async () => {
    firehoseMock.on(PutRecordBatchCommand).callsFake(refusing(() => false));
    const handler = ingestor();
    const first = [record(interaction(0)), record(interaction(1)), record(interaction(0))];
    assert.deepEqual(await handler(batchOf(first), context), { batchItemFailures: [] });
    // Redelivered (a checkpoint replay or the producer publishing again under a new sequence number).
    const second = [record(interaction(1)), record(interaction(2))];
    assert.deepEqual(await handler(batchOf(second), context), { batchItemFailures: [] });

    assert.deepEqual(calls().map(eventIdsOf), [["evt-0", "evt-1"], ["evt-2"]]);
  });

  describe("on a batch read from kinesalite", () => {
    let kinesis: LocalKinesis;
    before(async () => {
      kinesis = await startKinesalite();
      await kinesis.createStream("interaction-events");
    });
    after(async () => kinesis?.stop());

    it("writes the valid interactions and reports the invalid record", async () => {
      firehoseMock.on(PutRecordBatchCommand).callsFake(refusing(() => false));
      const published = [
        interaction(0),
        interaction(1, "interaction.like"),
        { ...interaction(2), time: "yesterday" },
        interaction(3, "interaction.follow", { itemType: "artist", itemId: "artist-3" }),
      ];
      const event = await publishAndRead(kinesis, "interaction-events", published);
      const response = await ingestor()(event, context);

      assert.deepEqual(failedIds(response), [event.Records[2]!.kinesis.sequenceNumber]);
      assert.deepEqual(calls().map(eventIdsOf), [["evt-0", "evt-1", "evt-3"]]);
      assert.deepEqual(documentsOf(calls()[0]!)[2], {
        eventId: "evt-3",
        type: "interaction.follow",
        source: "interactions/interaction-events",
        time: "2026-03-01T12:00:01.000Z",
        dataversion: 1,
        userId: "user-3",
        itemId: "artist-3",
        itemType: "artist",
        sessionId: "session-0",
        occurredAt: "2026-03-01T12:00:00.000Z",
      });
    });
  });
});

/**
 * Publishes envelopes with PutRecords, reads them back with GetRecords and builds the event Lambda
 * would invoke the function with (base64 data, sequence numbers, arrival time in seconds).
 */
async function publishAndRead(
  kinesis: LocalKinesis,
  streamName: string,
  envelopes: readonly { partitionkey: string }[],
): Promise<KinesisStreamEvent> {
  const put = await kinesis.client.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: envelopes.map((envelope) => ({
        PartitionKey: envelope.partitionkey,
        Data: Buffer.from(JSON.stringify(envelope)),
      })),
    }),
  );
  assert.equal(put.FailedRecordCount, 0);
  const shardId = put.Records![0]!.ShardId!;
  const { ShardIterator } = await kinesis.client.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      StartingSequenceNumber: put.Records![0]!.SequenceNumber!,
    }),
  );
  const { Records = [] } = await kinesis.client.send(
    new GetRecordsCommand({ ShardIterator, Limit: envelopes.length }),
  );
  assert.equal(Records.length, envelopes.length);
  return {
    Records: Records.map((r) =>
      kinesisRecord(Buffer.from(r.Data!), {
        sequenceNumber: r.SequenceNumber!,
        partitionKey: r.PartitionKey!,
        shardId,
        approximateArrivalTimestamp: r.ApproximateArrivalTimestamp!.getTime() / 1000,
        eventSourceARN: `arn:aws:kinesis:eu-west-1:000000000000:stream/${streamName}`,
      }),
    ),
  };
}

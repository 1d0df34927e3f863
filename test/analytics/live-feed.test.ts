import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  ApiGatewayManagementApiClient,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import {
  MAX_MESSAGE_BYTES,
  createLiveFeed,
  toMessages,
  type LiveFeedMessage,
} from "../../domains/analytics/handlers/live-feed";
import type { Envelope } from "../../platform/contract";
import {
  InMemoryIdempotencyStore,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../../runtime/consumer-testing";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";

const TABLE = "analytics-live-feed-connections";

function interaction(i: number, type = "interaction.play") {
  const userId = `user-${i % 5}`;
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
      itemId: `episode-${i}`,
      itemType: "episode",
      sessionId: `session-${i % 2}`,
      occurredAt: "2026-03-01T12:00:00.000Z",
      ...(type === "interaction.play" ? { playedMs: 1_000 * i } : {}),
    },
  };
}

const nextSequenceNumber = sequenceNumbers();
const record = (payload: unknown): KinesisStreamRecord =>
  kinesisRecord(payload, { sequenceNumber: nextSequenceNumber() });
const batchOf = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
const context = lambdaContext("analytics-live-feed");

/** Metrics that print nothing and remember what was added. */
class RecordingMetrics extends Metrics {
  readonly added = new Map<string, number>();
  override addMetric(...args: Parameters<Metrics["addMetric"]>): this {
    const [name, , value] = args;
    this.added.set(name, (this.added.get(name) ?? 0) + value);
    return super.addMetric(...args);
  }
}

function quiet() {
  const observability = silentObservability();
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  try {
    return {
      ...observability,
      metrics: new RecordingMetrics({ namespace: "test", logger: observability.logger }),
    };
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

const managementApi = new ApiGatewayManagementApiClient({
  region: "eu-west-1",
  endpoint: "https://abc123.execute-api.eu-west-1.amazonaws.com/live",
});
let managementMock: AwsClientStub<ApiGatewayManagementApiClient>;
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-1" }));
let documentsMock: AwsClientStub<DynamoDBDocumentClient>;

function liveFeed() {
  const observability = quiet();
  const handler = createLiveFeed({
    managementApi,
    documents,
    connectionsTable: TABLE,
    idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 3_600 },
    observability,
  });
  return { handler, metrics: observability.metrics };
}

/** The connections table, in scan pages; every scan reads the same pages. */
function connections(...pages: string[][]) {
  documentsMock.on(ScanCommand).callsFake((input: { ExclusiveStartKey?: { connectionId: string } }) => {
    const start = input.ExclusiveStartKey
      ? pages.findIndex((page) => page[page.length - 1] === input.ExclusiveStartKey!.connectionId) + 1
      : 0;
    const page = pages[start]!;
    return {
      Items: page.map((connectionId) => ({ connectionId })),
      ...(start < pages.length - 1 ? { LastEvaluatedKey: { connectionId: page[page.length - 1]! } } : {}),
    };
  });
}

/** connectionId → the event ids it received, in order; filled by {@link subscribers}. */
let delivered = new Map<string, string[]>();
const received = () => delivered;

/** The API Gateway side: posts succeed unless `refuse` returns an error for the connection. */
function subscribers(refuse: (connectionId: string) => Error | undefined = () => undefined) {
  managementMock
    .on(PostToConnectionCommand)
    .callsFake(({ ConnectionId, Data }: { ConnectionId: string; Data: Uint8Array }) => {
      const error = refuse(ConnectionId);
      if (error) throw error;
      const message = JSON.parse(Buffer.from(Data).toString("utf8")) as LiveFeedMessage;
      delivered.set(ConnectionId, [
        ...(delivered.get(ConnectionId) ?? []),
        ...message.events.map((event) => event.id),
      ]);
      return {};
    });
}

const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);

describe("live-feed", () => {
  before(() => {
    managementMock = mockClient(managementApi);
    documentsMock = mockClient(documents);
  });
  after(() => {
    managementMock.restore();
    documentsMock.restore();
  });
  beforeEach(() => {
    managementMock.reset();
    documentsMock.reset();
    delivered = new Map();
  });

  it("posts the batch's events to every connection of every scan page", async () => {
    connections(["c-1", "c-2"], ["c-3"]);
    subscribers();
    const { handler, metrics } = liveFeed();
    const response = await handler(
      batchOf([record(interaction(1)), record(interaction(2, "interaction.like"))]),
      context,
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(
      received(),
      new Map([
        ["c-1", ["evt-1", "evt-2"]],
        ["c-2", ["evt-1", "evt-2"]],
        ["c-3", ["evt-1", "evt-2"]],
      ]),
    );
    const data = managementMock.commandCalls(PostToConnectionCommand)[0]!.args[0].input.Data as Uint8Array;
    const message = JSON.parse(Buffer.from(data).toString("utf8")) as LiveFeedMessage;
    assert.deepEqual(message.events[0], interaction(1));
    const scans = documentsMock.commandCalls(ScanCommand).map((call) => call.args[0].input);
    assert.equal(scans.length, 2);
    assert.equal(scans[0]!.TableName, TABLE);
    assert.deepEqual(scans[1]!.ExclusiveStartKey, { connectionId: "c-2" });
    assert.equal(metrics.added.get("PostsDelivered"), 3);
  });

  it("deletes a gone connection and keeps posting to the others", async () => {
    connections(["c-1", "c-gone", "c-3"]);
    subscribers((id) =>
      id === "c-gone"
        ? new GoneException({ $metadata: { httpStatusCode: 410 }, message: "Gone" })
        : undefined,
    );
    documentsMock.on(DeleteCommand).resolves({});
    const { handler, metrics } = liveFeed();
    const response = await handler(batchOf([record(interaction(1))]), context);

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(
      documentsMock.commandCalls(DeleteCommand).map((call) => call.args[0].input),
      [{ TableName: TABLE, Key: { connectionId: "c-gone" } }],
    );
    assert.deepEqual([...received().keys()], ["c-1", "c-3"]);
    assert.equal(metrics.added.get("ConnectionsGone"), 1);
  });

  it("does not fail the batch when a post fails: it is logged, counted and not retried", async () => {
    connections(["c-1", "c-2"]);
    subscribers((id) =>
      id === "c-1"
        ? new LimitExceededException({ $metadata: { httpStatusCode: 429 }, message: "Limit exceeded" })
        : undefined,
    );
    const { handler, metrics } = liveFeed();
    const response = await handler(batchOf([record(interaction(1)), record(interaction(2))]), context);

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(received(), new Map([["c-2", ["evt-1", "evt-2"]]]));
    assert.equal(documentsMock.commandCalls(DeleteCommand).length, 0);
    assert.equal(metrics.added.get("PostsFailed"), 1);
    assert.equal(metrics.added.get("PostsDelivered"), 1);
  });

  it("does not fail the batch when the connections cannot be listed", async () => {
    documentsMock.on(ScanCommand).rejects(new Error("ProvisionedThroughputExceededException"));
    const { handler, metrics } = liveFeed();
    assert.deepEqual(await handler(batchOf([record(interaction(1))]), context), { batchItemFailures: [] });
    assert.equal(managementMock.commandCalls(PostToConnectionCommand).length, 0);
    assert.equal(metrics.added.get("ConnectionScanFailed"), 1);
  });

  it("reports a record that fails the contract, and pushes the rest", async () => {
    connections(["c-1"]);
    subscribers();
    const invalid = { ...interaction(2), data: { ...interaction(2).data, itemType: "album" } };
    const records = [record(interaction(1)), record(invalid), record(interaction(3))];
    const { handler } = liveFeed();
    const response = await handler(batchOf(records), context);

    assert.deepEqual(failedIds(response), [records[1]!.kinesis.sequenceNumber]);
    assert.deepEqual(received(), new Map([["c-1", ["evt-1", "evt-3"]]]));
  });

  it("does not push an event twice when the mapping delivers it again", async () => {
    subscribers();
    connections(["c-1"]);
    const { handler } = liveFeed();
    const records = [record(interaction(1)), record({ not: "an envelope" }), record(interaction(3))];
    await handler(batchOf(records), context);
    // Redelivered from the failed record on: evt-3 was pushed already.
    await handler(batchOf([...records.slice(1), record(interaction(4))]), context);
    assert.deepEqual(received(), new Map([["c-1", ["evt-1", "evt-3", "evt-4"]]]));
  });

  it("splits a batch into messages of at most 128 KiB, keeping stream order", () => {
    const envelopes = Array.from({ length: 1_000 }, (_, i) => interaction(i) as unknown as Envelope);
    const { messages, tooLarge } = toMessages(envelopes);
    assert.equal(tooLarge, 0);
    assert.ok(messages.length > 1);
    assert.ok(messages.every((message) => message.byteLength <= MAX_MESSAGE_BYTES));
    const ids = messages.flatMap((message) =>
      (JSON.parse(Buffer.from(message).toString("utf8")) as LiveFeedMessage).events.map((e) => e.id),
    );
    assert.deepEqual(
      ids,
      envelopes.map((e) => e.id),
    );
  });

  it("counts an event over the WebSocket frame limit, which cannot be pushed, and pushes the others", () => {
    const big = {
      ...interaction(2),
      data: { ...interaction(2).data, device: "x".repeat(MAX_MESSAGE_BYTES) },
    };
    const envelopes = [interaction(1), big, interaction(3)] as unknown as Envelope[];
    const { messages, tooLarge } = toMessages(envelopes);
    assert.equal(tooLarge, 1);
    const ids = messages.flatMap((message) =>
      (JSON.parse(Buffer.from(message).toString("utf8")) as LiveFeedMessage).events.map((e) => e.id),
    );
    assert.deepEqual(ids, ["evt-1", "evt-3"]);
  });

  describe("on a batch read from kinesalite", () => {
    let kinesis: LocalKinesis;
    before(async () => {
      kinesis = await startKinesalite();
      await kinesis.createStream("interaction-events");
    });
    after(async () => kinesis?.stop());

    it("pushes the valid interactions to every connection and reports the invalid record", async () => {
      connections(["c-1", "c-2"]);
      subscribers();
      const event = await publishAndRead(kinesis, "interaction-events", [
        interaction(0),
        { ...interaction(1), specversion: "0.3" },
        interaction(2, "interaction.skip"),
      ]);
      const { handler } = liveFeed();
      const response = await handler(event, context);

      // interaction.skip needs positionMs: the third record fails its contract too.
      assert.deepEqual(
        failedIds(response),
        [event.Records[1]!, event.Records[2]!].map((r) => r.kinesis.sequenceNumber),
      );
      assert.deepEqual(
        received(),
        new Map([
          ["c-1", ["evt-0"]],
          ["c-2", ["evt-0"]],
        ]),
      );
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

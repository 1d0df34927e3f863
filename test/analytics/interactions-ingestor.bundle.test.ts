import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { kinesisEvent, lambdaContext } from "../../runtime/consumer-testing";
import { bundleHandler, type Bundle } from "../helpers/bundle";
import { startDynamoDB, type LocalDynamoDB } from "../../local/dynamodb";

/**
 * Just enough of Firehose (PutRecordBatch) over HTTP for the bundle's own SDK client, which a mock
 * in this process cannot reach; the idempotency table is a local DynamoDB (dynalite).
 */
class FakeAws {
  /** Event ids of each PutRecordBatch call, in order. */
  readonly firehoseCalls: string[][] = [];
  readonly documents: Record<string, unknown>[] = [];
  /** Event ids Firehose refuses the first time it sees them. */
  readonly refuseOnce = new Set<string>();
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.answer(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    const target = String(request.headers["x-amz-target"]);
    const reply = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      response.end(JSON.stringify(payload));
    };
    switch (target) {
      case "Firehose_20150804.PutRecordBatch":
        return reply(200, this.putRecordBatch(body as { Records: { Data: string }[] }));
      default:
        return reply(400, { __type: "UnknownOperationException", message: target });
    }
  }

  private putRecordBatch(body: { Records: { Data: string }[] }) {
    const documents = body.Records.map(
      (record) => JSON.parse(Buffer.from(record.Data, "base64").toString("utf8")) as Record<string, unknown>,
    );
    this.firehoseCalls.push(documents.map((document) => String(document.eventId)));
    const responses = documents.map((document) => {
      const id = String(document.eventId);
      if (this.refuseOnce.delete(id))
        return { ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down." };
      this.documents.push(document);
      return { RecordId: `record-${id}` };
    });
    return {
      FailedPutCount: responses.filter((response) => "ErrorCode" in response).length,
      Encrypted: false,
      RequestResponses: responses,
    };
  }
}

function interaction(i: number) {
  return {
    specversion: "1.0",
    id: `evt-${i}`,
    source: "interactions/interaction-events",
    type: "interaction.play",
    time: "2026-03-01T12:00:01.000Z",
    dataversion: 1,
    partitionkey: `user-${i}`,
    data: {
      userId: `user-${i}`,
      itemId: `song-${i}`,
      itemType: "song",
      sessionId: "session-1",
      occurredAt: "2026-03-01T12:00:00.000Z",
      playedMs: 45_000,
    },
  };
}

describe("interactions-ingestor, bundled with esbuild", () => {
  const aws = new FakeAws();
  let dynamodb: LocalDynamoDB;
  let bundle: Bundle;
  let handler: (event: KinesisStreamEvent, context: unknown) => Promise<KinesisStreamBatchResponse>;
  const saved = { ...process.env };

  before(async () => {
    const endpoint = await aws.start();
    dynamodb = await startDynamoDB();
    await dynamodb.createTable("analytics-idempotency");
    bundle = await bundleHandler("domains/analytics/handlers/interactions-ingestor.ts");
    Object.assign(process.env, {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_FIREHOSE: endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      DELIVERY_STREAM: "analytics-interactions",
      IDEMPOTENCY_TABLE: "analytics-idempotency",
      IDEMPOTENCY_TTL_SECONDS: "86400",
      POWERTOOLS_SERVICE_NAME: "interactions-ingestor",
      POWERTOOLS_METRICS_DISABLED: "true",
      POWERTOOLS_LOG_LEVEL: "SILENT",
    });
    delete process.env.AWS_PROFILE;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = (require(bundle.file) as { handler: typeof handler }).handler;
  });

  after(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    await aws.stop();
    await dynamodb.stop();
    if (bundle) await rm(bundle.dir, { recursive: true, force: true });
  });

  it("is one self-contained CommonJS file exporting handler", async () => {
    assert.equal(bundle.handler, "index.handler");
    assert.equal(typeof handler, "function");
    const source = await readFile(bundle.file, "utf8");
    // What the handler imports is inside (only optional SDK add-ons such as the CRT signer stay requires).
    assert.doesNotMatch(source, /require\("(@aws-sdk\/client-|@aws-lambda-powertools|zod)/);
  });

  it("writes the valid interactions, resends a refused one, reports the invalid record and skips a redelivery", async () => {
    aws.refuseOnce.add("evt-1");
    const event = kinesisEvent([
      interaction(0),
      interaction(1),
      { ...interaction(2), type: "interaction.pause" },
      interaction(3),
    ]);
    const context = lambdaContext("analytics-interactions-ingestor");

    const response = await handler(event, context);

    assert.deepEqual(response, {
      batchItemFailures: [{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }],
    });
    assert.deepEqual(aws.firehoseCalls, [["evt-0", "evt-1", "evt-3"], ["evt-1"]]);
    assert.deepEqual(
      aws.documents.map((document) => document.eventId),
      ["evt-0", "evt-3", "evt-1"],
    );
    assert.deepEqual(aws.documents[0], {
      eventId: "evt-0",
      type: "interaction.play",
      source: "interactions/interaction-events",
      time: "2026-03-01T12:00:01.000Z",
      dataversion: 1,
      userId: "user-0",
      itemId: "song-0",
      itemType: "song",
      sessionId: "session-1",
      occurredAt: "2026-03-01T12:00:00.000Z",
      playedMs: 45_000,
    });
    const { Items = [] } = await dynamodb.client.send(
      new ScanCommand({ TableName: "analytics-idempotency" }),
    );
    assert.equal(Items.length, 3);
    assert.ok(Items.every((item) => item.status?.S === "COMPLETED"));

    // Lambda delivers the batch again from the failed record on: nothing is written twice.
    const again = await handler({ Records: event.Records.slice(2) }, context);
    assert.deepEqual(again, {
      batchItemFailures: [{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }],
    });
    assert.equal(aws.firehoseCalls.length, 2);
  });
});

import type { KinesisStreamBatchResponse } from "aws-lambda";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { StreamHandler } from "../../runtime/consumer-kit";
import { kinesisEvent, lambdaContext } from "../../runtime/consumer-testing";
import { bundleHandler, type Bundle } from "../helpers/bundle";

/**
 * The bundle carries its own AWS SDK, which aws-sdk-client-mock in this process cannot reach, so
 * Personalize Events and DynamoDB are a small HTTP server on 127.0.0.1 that the bundled clients are
 * pointed at with the SDK's service-specific endpoint variables. The DynamoDB side keeps items and
 * applies the one condition that matters here: an id already COMPLETED cannot be claimed again.
 */
interface FakeAws {
  readonly endpoint: string;
  readonly putEvents: Record<string, unknown>[];
  readonly dynamodbOperations: string[];
  close(): Promise<void>;
}

interface AttributeValue {
  readonly S?: string;
  readonly N?: string;
}

/** The parts of DynamoDB and PutEvents request bodies the fake reads. */
interface RequestBody {
  readonly Key?: Record<string, AttributeValue>;
  readonly Item?: Record<string, AttributeValue>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
  readonly [field: string]: unknown;
}

async function startFakeAws(): Promise<FakeAws> {
  const putEvents: Record<string, unknown>[] = [];
  const dynamodbOperations: string[] = [];
  const table = new Map<string, Record<string, AttributeValue>>();
  const body = async (request: IncomingMessage): Promise<RequestBody> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as RequestBody;
  };
  const server: Server = createServer(async (request, response) => {
    const input = await body(request);
    const target = request.headers["x-amz-target"];
    if (typeof target === "string" && target.startsWith("DynamoDB_20120810.")) {
      const operation = target.slice("DynamoDB_20120810.".length);
      dynamodbOperations.push(operation);
      const key = input.Key?.id?.S;
      response.setHeader("content-type", "application/x-amz-json-1.0");
      if (operation === "PutItem") {
        const item = input.Item!;
        const existing = table.get(item.id!.S!);
        if (existing?.status?.S === "COMPLETED") {
          response.statusCode = 400;
          response.end(
            JSON.stringify({
              __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
              message: "The conditional request failed",
              Item: existing,
            }),
          );
          return;
        }
        table.set(item.id!.S!, item);
      } else if (operation === "UpdateItem" && key) {
        const values = input.ExpressionAttributeValues!;
        table.set(key, { ...table.get(key), status: values[":status"]!, expiration: values[":expiry"]! });
      } else if (operation === "DeleteItem" && key) {
        table.delete(key);
      }
      response.end("{}");
      return;
    }
    if (request.method === "POST" && request.url === "/events") {
      putEvents.push(input);
      response.statusCode = 200;
      response.end();
      return;
    }
    response.statusCode = 404;
    response.end(JSON.stringify({ message: `unexpected ${request.method} ${request.url}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    putEvents,
    dynamodbOperations,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

function interaction(id: string, userId: string) {
  return {
    specversion: "1.0",
    id,
    source: "interactions/interaction-events",
    type: "interaction.like",
    time: "2026-03-01T10:00:00Z",
    dataversion: 1,
    partitionkey: userId,
    data: {
      userId,
      itemId: "s-1",
      itemType: "song",
      sessionId: "session-1",
      occurredAt: "2026-03-01T10:00:00Z",
    },
  };
}

describe("interactions-update bundle", () => {
  let bundle: Bundle;
  let aws: FakeAws;
  const saved: Record<string, string | undefined> = {};

  before(async function () {
    this.timeout(120_000);
    bundle = await bundleHandler("domains/recommendations/handlers/interactions-update.ts");
    aws = await startFakeAws();
    const environment: Record<string, string> = {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_PERSONALIZE_EVENTS: aws.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: aws.endpoint,
      PERSONALIZE_TRACKING_ID: "tracking-bundle",
      IDEMPOTENCY_TABLE: "idempotency",
      IDEMPOTENCY_TTL_SECONDS: "21600",
      // Read by the bundle's own Powertools singletons when it is loaded below.
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    };
    for (const [name, value] of Object.entries(environment)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });

  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await aws?.close();
    if (bundle) await rm(bundle.dir, { recursive: true, force: true });
  });

  it("is one CommonJS file whose handler sends PutEvents and skips a redelivered event", async () => {
    assert.equal(bundle.handler, "index.handler");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle.file) as { handler: StreamHandler };
    const context = lambdaContext("interactions-update");

    const first = (await handler(
      kinesisEvent([interaction("b-1", "ann"), interaction("b-2", "ann"), interaction("b-3", "bob")]),
      context,
    )) as KinesisStreamBatchResponse;
    const replay = (await handler(
      kinesisEvent([interaction("b-3", "bob"), interaction("b-4", "bob")]),
      context,
    )) as KinesisStreamBatchResponse;

    assert.deepEqual(first.batchItemFailures, []);
    assert.deepEqual(replay.batchItemFailures, []);
    const sent = aws.putEvents
      .map((call) => ({
        trackingId: call.trackingId,
        userId: call.userId,
        ids: (call.eventList as { eventId: string }[]).map((event) => event.eventId),
      }))
      .sort((a, b) => String(a.ids[0]).localeCompare(String(b.ids[0])));
    assert.deepEqual(sent, [
      { trackingId: "tracking-bundle", userId: "ann", ids: ["b-1", "b-2"] },
      { trackingId: "tracking-bundle", userId: "bob", ids: ["b-3"] },
      { trackingId: "tracking-bundle", userId: "bob", ids: ["b-4"] },
    ]);
    // One claim and one completion per event; b-3's redelivery is answered by the warm
    // environment's local cache of completed ids, without a round trip.
    assert.deepEqual(aws.dynamodbOperations.slice().sort(), [
      ...Array(4).fill("PutItem"),
      ...Array(4).fill("UpdateItem"),
    ]);
  });
});

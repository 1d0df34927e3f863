import type { KinesisStreamBatchResponse } from "aws-lambda";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import type { StreamHandler } from "../../runtime/consumer-kit";
import { kinesisEvent, lambdaContext } from "../../runtime/consumer-testing";
import { bundleHandler, type Bundle } from "../helpers/bundle";
import { startDynamoDB, type LocalDynamoDB } from "../../local/dynamodb";
import { setEnvironment } from "../../local/local-aws";
import { startPersonalizeEvents, type LocalPersonalizeEvents } from "../../local/personalize-events";

/**
 * The bundle carries its own AWS SDK, which aws-sdk-client-mock in this process cannot reach, so
 * its clients are pointed, with the SDK's service-specific endpoint variables, at a local
 * Personalize Events endpoint and a local DynamoDB (dynalite).
 */
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
  let dynamodb: LocalDynamoDB;
  let personalize: LocalPersonalizeEvents;
  let restoreEnvironment = () => {};

  before(async function () {
    this.timeout(120_000);
    bundle = await bundleHandler("domains/recommendations/handlers/interactions-update.ts");
    dynamodb = await startDynamoDB();
    await dynamodb.createTable("idempotency");
    personalize = await startPersonalizeEvents({ trackingIds: ["tracking-bundle"] });
    const environment: Record<string, string> = {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_PERSONALIZE_EVENTS: personalize.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      PERSONALIZE_TRACKING_ID: "tracking-bundle",
      IDEMPOTENCY_TABLE: "idempotency",
      IDEMPOTENCY_TTL_SECONDS: "21600",
      // Read by the bundle's own Powertools singletons when it is loaded below.
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
    };
    restoreEnvironment = setEnvironment(environment);
  });

  after(async () => {
    restoreEnvironment();
    await personalize?.stop();
    await dynamodb?.stop();
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
    const sent = personalize.accepted.PutEvents.map((call) => ({
      trackingId: call.trackingId,
      userId: call.userId,
      ids: (call.eventList as { eventId: string }[]).map((event) => event.eventId),
    })).sort((a, b) => String(a.ids[0]).localeCompare(String(b.ids[0])));
    assert.deepEqual(sent, [
      { trackingId: "tracking-bundle", userId: "ann", ids: ["b-1", "b-2"] },
      { trackingId: "tracking-bundle", userId: "bob", ids: ["b-3"] },
      { trackingId: "tracking-bundle", userId: "bob", ids: ["b-4"] },
    ]);
    // One claim and one completion transaction per batch; b-3's redelivery is answered by the
    // warm environment's local cache of completed ids, without a round trip.
    assert.deepEqual(dynamodb.requests, { TransactWriteItems: 4 });
  });
});

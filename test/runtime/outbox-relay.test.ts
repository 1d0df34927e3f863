import assert from "node:assert/strict";
import {
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from "@aws-sdk/client-kinesis";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, DynamoDBRecord } from "aws-lambda";
import type { Envelope } from "../../platform/contract";
import { Outbox } from "../../runtime/outbox";
import { createOutboxRelay, outboxEntries } from "../../runtime/outbox-relay";
import { Publisher } from "../../runtime/publisher";
import { silentObservability } from "../../runtime/consumer-testing";
import { startDynamoDbLocal, type LocalDynamoDb } from "../helpers/dynamodb-local";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";
import { createCatalogueTable, ITEM_PRODUCTS, publishedEnvelopes, streamRecords } from "../helpers/outbox";

const context = {
  functionName: "catalogue-outbox-relay",
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * The real kinesalite client, except that PutRecords entries whose partition key is in `poisoned`
 * fail with ProvisionedThroughputExceededException (the other entries of the call are written), as
 * Kinesis answers a call that is partly throttled.
 */
function throttling(client: KinesisClient, poisoned: Set<string>): KinesisClient {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof PutRecordsCommand) || poisoned.size === 0)
        return client.send(command as never);
      const records = command.input.Records ?? [];
      const healthy = records.filter((r) => !poisoned.has(r.PartitionKey!));
      const written = healthy.length
        ? ((await client.send(new PutRecordsCommand({ ...command.input, Records: healthy }))).Records ?? [])
        : [];
      let next = 0;
      const results: PutRecordsResultEntry[] = records.map((r) =>
        poisoned.has(r.PartitionKey!)
          ? { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "injected" }
          : written[next++]!,
      );
      return {
        FailedRecordCount: results.filter((r) => r.ErrorCode).length,
        Records: results,
        $metadata: {},
      } satisfies PutRecordsCommandOutput;
    },
  } as unknown as KinesisClient;
}

describe("outbox relay: DynamoDB Local stream records to kinesalite", function () {
  this.timeout(240_000);
  let dynamo: LocalDynamoDb;
  let kinesis: LocalKinesis;
  let runs = 0;
  let table: string;
  let streamArn: string;
  let kinesisStream: string;
  let outbox: Outbox<"item-events">;
  const poisoned = new Set<string>();

  before(async () => {
    [dynamo, kinesis] = await Promise.all([startDynamoDbLocal(), startKinesalite()]);
  });
  after(async () => {
    await dynamo?.stop();
    await kinesis?.stop();
  });
  beforeEach(async () => {
    runs++;
    table = `catalogue-${runs}`;
    kinesisStream = `catalogue.item-events-${runs}`;
    streamArn = await createCatalogueTable(dynamo, table);
    await kinesis.createStream(kinesisStream, 1);
    outbox = new Outbox({
      client: dynamo.documents,
      tableName: table,
      domain: "catalogue",
      products: ITEM_PRODUCTS,
    });
    poisoned.clear();
  });

  const relay = () =>
    createOutboxRelay({
      publisher: new Publisher({
        client: throttling(kinesis.client, poisoned),
        domain: {
          name: "catalogue",
          products: [
            {
              kind: "stream",
              name: "item-events",
              description: "Items.",
              ...ITEM_PRODUCTS["item-events"],
              capacity: { mode: "on-demand" },
              classification: "public",
            },
          ],
        },
        streams: { "item-events": { streamName: kinesisStream } },
        maxAttempts: 2,
        baseDelayMs: 1,
        maxDelayMs: 1,
      }),
      observability: silentObservability(),
    });

  const change = (itemId: string, type: "item.published" | "item.updated", title: string, id: string) =>
    outbox.write({
      writes: [{ Put: { TableName: table, Item: { pk: `item#${itemId}`, sk: "item", itemId, title } } }],
      events: { product: "item-events", type, id, data: { itemId, title } },
    });

  /** Per key, the distinct event ids in the order consumers (deduplicating on id) apply them. */
  const appliedOrder = (envelopes: readonly Envelope[]) => {
    const seen = new Set<string>();
    const byKey: Record<string, string[]> = {};
    for (const envelope of envelopes) {
      if (seen.has(envelope.id)) continue;
      seen.add(envelope.id);
      (byKey[envelope.partitionkey] ??= []).push(envelope.id);
    }
    return byKey;
  };

  it("publishes every outbox event with its outbox id, skipping business items", async () => {
    await change("i-1", "item.published", "First", "a1");
    await change("i-2", "item.published", "Second", "b1");
    await change("i-1", "item.updated", "First!", "a2");
    const records = await streamRecords(dynamo, streamArn);
    assert.equal(records.length, 6);

    const response = await relay()({ Records: records }, context);
    assert.deepEqual(response, { batchItemFailures: [] });
    const published = await publishedEnvelopes(kinesis.client, kinesisStream);
    assert.deepEqual(
      published.map((e) => [e.id, e.type, e.partitionkey, e.source]),
      [
        ["a1", "item.published", "i-1", "mesh://catalogue/item-events"],
        ["b1", "item.published", "i-2", "mesh://catalogue/item-events"],
        ["a2", "item.updated", "i-1", "mesh://catalogue/item-events"],
      ],
    );
    // The envelope on the stream is the one the service wrote in its transaction.
    const written = records.flatMap((r) => outboxEntries(r)?.envelopes ?? []);
    assert.deepEqual(published, written);
  });

  it("survives a failure and the redelivery: nothing lost, nothing published twice under different ids, order per key kept", async () => {
    await change("i-1", "item.published", "First", "a1");
    await change("i-2", "item.published", "Second", "b1");
    await change("i-1", "item.updated", "First!", "a2");
    await outbox.write({
      writes: [
        { Put: { TableName: table, Item: { pk: "item#i-3", sk: "item", itemId: "i-3", title: "Third" } } },
      ],
      events: [
        { product: "item-events", type: "item.published", id: "c1", data: { itemId: "i-3", title: "Third" } },
        { product: "item-events", type: "item.updated", id: "c2", data: { itemId: "i-3", title: "Third!" } },
      ],
    });
    await change("i-2", "item.updated", "Second!", "b2");
    const records = await streamRecords(dynamo, streamArn);
    const outboxRecords = records.filter((r) => outboxEntries(r));
    const sequenceOf = (id: string) =>
      outboxRecords.find((r) => outboxEntries(r)!.envelopes.some((e) => e.id === id))!.dynamodb!
        .SequenceNumber!;

    // Kinesis throttles key i-2: b1 fails, and b2 (same key, later) must not overtake it.
    poisoned.add("i-2");
    const handler = relay();
    const first = await handler({ Records: records }, context);
    assert.deepEqual(first, {
      batchItemFailures: [{ itemIdentifier: sequenceOf("b1") }, { itemIdentifier: sequenceOf("b2") }],
    });
    assert.deepEqual(
      (await publishedEnvelopes(kinesis.client, kinesisStream)).map((e) => e.id),
      ["a1", "c1", "a2", "c2"],
    );

    // Lambda checkpoints at the lowest failed sequence number and delivers everything after it again.
    poisoned.clear();
    const lowest = first.batchItemFailures[0]!.itemIdentifier;
    const redelivered = records.filter((r) => BigInt(r.dynamodb!.SequenceNumber!) >= BigInt(lowest));
    assert.deepEqual(await handler({ Records: redelivered }, context), { batchItemFailures: [] });

    const published = await publishedEnvelopes(kinesis.client, kinesisStream);
    const written = outboxRecords.flatMap((r) => outboxEntries(r)!.envelopes);
    // Nothing lost: every written event is on the stream.
    assert.deepEqual(new Set(published.map((e) => e.id)), new Set(written.map((e) => e.id)));
    // Republished events are identical, id included, so consumers deduplicate them.
    for (const envelope of published) {
      assert.deepEqual(
        envelope,
        written.find((w) => w.id === envelope.id),
      );
    }
    assert.ok(published.length > written.length, "the redelivery republished some events");
    assert.deepEqual(appliedOrder(published), {
      "i-1": ["a1", "a2"],
      "i-2": ["b1", "b2"],
      "i-3": ["c1", "c2"],
    });
  });

  it("reports a malformed outbox item as failed and still publishes the others", async () => {
    await change("i-1", "item.published", "First", "a1");
    await dynamo.documents.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: "outbox#item-events#bad",
          sk: "outbox",
          kind: "outbox",
          product: "item-events",
          partitionKey: "bad",
          events: "not json",
          expiresAt: 1,
        },
      }),
    );
    await change("i-2", "item.published", "Second", "b1");
    const records = await streamRecords(dynamo, streamArn);
    const bad = records.find((r) => r.dynamodb!.Keys!.pk!.S === "outbox#item-events#bad")!;

    const response = await relay()({ Records: records }, context);
    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: bad.dynamodb!.SequenceNumber }] });
    assert.deepEqual(
      (await publishedEnvelopes(kinesis.client, kinesisStream)).map((e) => e.id),
      ["a1", "b1"],
    );
    assert.throws(() => outboxEntries(bad), {
      name: "MalformedOutboxItemError",
      message: new RegExp(
        `^record ${bad.dynamodb!.SequenceNumber} \\(outbox item outbox#item-events#bad\\): events is not JSON`,
      ),
    });
  });

  it("refuses an invocation that is not a DynamoDB stream batch", async () => {
    await assert.rejects(relay()({ Records: [{ eventName: "INSERT" } as DynamoDBRecord] }, context), {
      name: "UnexpectedStreamEventError",
      message: "Records[0] has no dynamodb.SequenceNumber: not a DynamoDB stream batch",
    });
  });
});

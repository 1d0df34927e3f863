import assert from "node:assert/strict";
import {
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from "@aws-sdk/client-kinesis";
import { PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, DynamoDBRecord } from "aws-lambda";
import { ContractViolationError, type Envelope } from "../../platform/contract";
import { Outbox, OutboxWriteError, outboxEventsSchema, type OutboxItem } from "../../runtime/outbox";
import { createOutboxRelay, outboxEntries } from "../../runtime/outbox-relay";
import { Publisher } from "../../runtime/publisher";
import { silentObservability } from "../../runtime/consumer-testing";
import { startDynamoDbLocal, type LocalDynamoDb } from "../helpers/dynamodb-local";
import { startKinesalite, type LocalKinesis } from "../../local/kinesalite";
import { createCatalogueTable, ITEM_PRODUCTS, publishedEnvelopes, streamRecords } from "../helpers/outbox";

const NOW = new Date("2026-03-01T12:00:00.000Z");

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

// One DynamoDB Local (a JVM: seconds of CPU to start) for the outbox and its relay.
describe("the transactional outbox against DynamoDB Local", function () {
  this.timeout(240_000);
  let local: LocalDynamoDb;
  before(async () => {
    local = await startDynamoDbLocal();
  });
  after(() => local?.stop());

  describe("Outbox", () => {
    let tables = 0;
    let table: string;
    let streamArn: string;
    let outbox: Outbox<"item-events">;

    beforeEach(async () => {
      table = `outbox-${++tables}`;
      streamArn = await createCatalogueTable(local, table);
      outbox = new Outbox({
        client: local.documents,
        tableName: table,
        domain: "catalogue",
        products: ITEM_PRODUCTS,
        now: () => NOW,
      });
    });

    const items = async () =>
      ((await local.documents.send(new ScanCommand({ TableName: table }))).Items ?? []).sort((a, b) =>
        `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`),
      );
    const put = (itemId: string, title: string, condition?: string) => ({
      Put: {
        TableName: table,
        Item: { pk: `item#${itemId}`, sk: "item", itemId, title },
        ...(condition && { ConditionExpression: condition }),
      },
    });

    it("writes the business item and an outbox item with the envelope in one transaction", async () => {
      const result = await outbox.write({
        writes: [put("i-1", "First")],
        events: {
          product: "item-events",
          type: "item.published",
          id: "evt-1",
          data: { itemId: "i-1", title: "First", extra: 1 },
        },
      });
      assert.deepEqual(result.events, [
        {
          specversion: "1.0",
          id: "evt-1",
          source: "mesh://catalogue/item-events",
          type: "item.published",
          time: "2026-03-01T12:00:00.000Z",
          dataversion: 1,
          partitionkey: "i-1",
          data: { itemId: "i-1", title: "First" },
        },
      ]);
      const stored = await items();
      assert.deepEqual(stored[0], { pk: "item#i-1", sk: "item", itemId: "i-1", title: "First" });
      const outboxItem = stored[1] as OutboxItem;
      assert.deepEqual(
        { ...outboxItem, events: outboxEventsSchema.parse(JSON.parse(outboxItem.events)) },
        {
          pk: "outbox#item-events#i-1",
          sk: "outbox",
          kind: "outbox",
          product: "item-events",
          partitionKey: "i-1",
          events: result.events,
          expiresAt: NOW.getTime() / 1000 + 7 * 24 * 3600,
        },
      );
      // Both writes are on the table's stream, which is what the relay reads.
      const records = await streamRecords(local, streamArn);
      assert.deepEqual(
        records.map((r) => [r.eventName, r.dynamodb!.Keys!.pk!.S]),
        [
          ["INSERT", "item#i-1"],
          ["INSERT", "outbox#item-events#i-1"],
        ],
      );
    });

    it("assigns a fresh id per event, keeps one item per key with its events in order", async () => {
      const { events } = await outbox.write({
        writes: [put("i-1", "First"), put("i-2", "Second")],
        events: [
          { product: "item-events", type: "item.published", data: { itemId: "i-1", title: "First" } },
          { product: "item-events", type: "item.published", data: { itemId: "i-2", title: "Second" } },
          { product: "item-events", type: "item.updated", data: { itemId: "i-1", title: "First!" } },
        ],
      });
      assert.equal(new Set(events.map((e) => e.id)).size, 3);
      const outboxItems = (await items()).filter((item) => item.kind === "outbox");
      assert.deepEqual(
        outboxItems.map((item) => [item.pk, JSON.parse(item.events).map((e: { id: string }) => e.id)]),
        [
          ["outbox#item-events#i-1", [events[0]!.id, events[2]!.id]],
          ["outbox#item-events#i-2", [events[1]!.id]],
        ],
      );
    });

    it("writes a new stream record for the same key on every write, so no event is overwritten unseen", async () => {
      await outbox.write({
        writes: [put("i-1", "First")],
        events: {
          product: "item-events",
          type: "item.published",
          id: "evt-1",
          data: { itemId: "i-1", title: "First" },
        },
      });
      await outbox.write({
        writes: [put("i-1", "Renamed")],
        events: {
          product: "item-events",
          type: "item.updated",
          id: "evt-2",
          data: { itemId: "i-1", title: "Renamed" },
        },
      });
      const images = (await streamRecords(local, streamArn))
        .filter((r) => r.dynamodb!.NewImage!.kind?.S === "outbox")
        .map((r) => [r.eventName, JSON.parse(r.dynamodb!.NewImage!.events!.S!)[0].id]);
      assert.deepEqual(images, [
        ["INSERT", "evt-1"],
        ["MODIFY", "evt-2"],
      ]);
    });

    it("writes nothing when the business write's condition fails, and names it", async () => {
      await outbox.write({
        writes: [put("i-1", "First")],
        events: { product: "item-events", type: "item.published", data: { itemId: "i-1", title: "First" } },
      });
      const before = await items();
      await assert.rejects(
        outbox.write({
          writes: [put("i-1", "Again", "attribute_not_exists(pk)")],
          events: { product: "item-events", type: "item.published", data: { itemId: "i-1", title: "Again" } },
        }),
        (error: unknown) => {
          assert.ok(error instanceof OutboxWriteError);
          assert.equal(
            error.message,
            `outbox write to ${table} was cancelled, nothing was written: writes[0]: ConditionalCheckFailed`,
          );
          assert.deepEqual(error.reasons, ["ConditionalCheckFailed", "None"]);
          return true;
        },
      );
      assert.deepEqual(await items(), before);
    });

    it("rejects an event that breaks its contract before writing anything", async () => {
      await assert.rejects(
        outbox.write({
          writes: [put("i-1", "First")],
          events: { product: "item-events", type: "item.published", data: { itemId: "i-1" } },
        }),
        (error: unknown) =>
          error instanceof ContractViolationError &&
          error.message.startsWith(
            "cannot publish event 0 (item.published) to item-events: catalogue.item-events: invalid item.published event",
          ),
      );
      assert.deepEqual(await items(), []);
    });

    it("rejects unknown products, empty event lists and transactions over 100 items, naming the table", async () => {
      await assert.rejects(
        outbox.write({
          writes: [],
          events: {
            product: "other" as "item-events",
            type: "item.published",
            data: { itemId: "i", title: "t" },
          },
        }),
        { message: "unknown product other for domain catalogue (expected one of item-events)" },
      );
      await assert.rejects(outbox.write({ writes: [put("i-1", "First")], events: [] }), {
        message: `outbox write to ${table}: no events (use a plain write for changes without events)`,
      });
      await assert.rejects(
        outbox.write({
          writes: Array.from({ length: 100 }, (_, i) => put(`i-${i}`, "t")),
          events: { product: "item-events", type: "item.published", data: { itemId: "i-1", title: "t" } },
        }),
        {
          message: `outbox write to ${table}: 100 writes and 1 outbox items are 101 items, more than the 100 one transaction may write; nothing was written`,
        },
      );
      assert.deepEqual(await items(), []);
    });

    it("refuses a retention shorter than the stream's 24 hours", () => {
      assert.throws(
        () =>
          new Outbox({
            client: local.documents,
            tableName: table,
            domain: "catalogue",
            products: ITEM_PRODUCTS,
            retentionSeconds: 3600,
          }),
        {
          message:
            "retentionSeconds must be a whole number of at least 86400 (a DynamoDB stream keeps records 24 h), got 3600",
        },
      );
    });
  });

  describe("outbox relay: DynamoDB Local stream records to kinesalite", () => {
    let kinesis: LocalKinesis;
    let runs = 0;
    let table: string;
    let streamArn: string;
    let kinesisStream: string;
    let outbox: Outbox<"item-events">;
    const poisoned = new Set<string>();

    before(async () => {
      kinesis = await startKinesalite();
    });
    after(() => kinesis?.stop());
    beforeEach(async () => {
      runs++;
      table = `relay-${runs}`;
      kinesisStream = `catalogue.item-events-${runs}`;
      streamArn = await createCatalogueTable(local, table);
      await kinesis.createStream(kinesisStream, 1);
      outbox = new Outbox({
        client: local.documents,
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
      const records = await streamRecords(local, streamArn);
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
          {
            product: "item-events",
            type: "item.published",
            id: "c1",
            data: { itemId: "i-3", title: "Third" },
          },
          {
            product: "item-events",
            type: "item.updated",
            id: "c2",
            data: { itemId: "i-3", title: "Third!" },
          },
        ],
      });
      await change("i-2", "item.updated", "Second!", "b2");
      const records = await streamRecords(local, streamArn);
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
      await local.documents.send(
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
      const records = await streamRecords(local, streamArn);
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
});

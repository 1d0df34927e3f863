import assert from "node:assert/strict";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { ContractViolationError } from "../../platform/contract";
import { Outbox, OutboxWriteError, outboxEventsSchema, type OutboxItem } from "../../runtime/outbox";
import { startDynamoDbLocal, type LocalDynamoDb } from "../helpers/dynamodb-local";
import { createCatalogueTable, ITEM_PRODUCTS, streamRecords } from "../helpers/outbox";

const NOW = new Date("2026-03-01T12:00:00.000Z");

describe("Outbox against DynamoDB Local", function () {
  this.timeout(240_000);
  let local: LocalDynamoDb;
  let tables = 0;
  let table: string;
  let streamArn: string;
  let outbox: Outbox<"item-events">;

  before(async () => {
    local = await startDynamoDbLocal();
  });
  after(() => local?.stop());
  beforeEach(async () => {
    table = `catalogue-${++tables}`;
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

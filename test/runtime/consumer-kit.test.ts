import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import { z } from "zod";
import { ContractViolationError, defineContract } from "../../platform/contract";
import {
  InMemoryPersistenceLayer,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../../runtime/consumer-testing";
import {
  UndecodableRecordError,
  UnexpectedEventError,
  createBatchHandler,
  createRecordHandler,
  decodeRecord,
  env,
  envInteger,
  type EventFailure,
  type StreamEvent,
} from "../../runtime/consumer-kit";

const orders = defineContract("test.orders", [
  {
    version: 1,
    events: {
      "order.placed": z.object({ orderId: z.string().min(1), amount: z.number().int().positive() }),
      "order.cancelled": z.object({ orderId: z.string().min(1) }),
    },
  },
]);
const refunds = defineContract("test.refunds", [
  { version: 1, events: { "refund.issued": z.object({ orderId: z.string().min(1), amount: z.number() }) } },
]);

function envelope(
  id: string,
  type = "order.placed",
  data: Record<string, unknown> = { orderId: id, amount: 1 },
) {
  return {
    specversion: "1.0",
    id,
    source: "test/orders",
    type,
    time: "2026-01-01T00:00:00Z",
    dataversion: 1,
    partitionkey: String(data.orderId ?? id),
    data,
  };
}

const nextSequenceNumber = sequenceNumbers();
/** A record as Lambda delivers it; a Buffer is sent as the bytes it holds. */
const record = (payload: unknown) => kinesisRecord(payload, { sequenceNumber: nextSequenceNumber() });
const batch = (...records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
const context = lambdaContext("orders-consumer");
const quiet = silentObservability;

const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);

describe("consumer kit", () => {
  describe("env", () => {
    it("returns a set variable, the fallback for an unset one, and throws naming a missing one", () => {
      process.env.KIT_TEST_SET = "value";
      delete process.env.KIT_TEST_UNSET;
      assert.equal(env("KIT_TEST_SET"), "value");
      assert.equal(env("KIT_TEST_UNSET", "fallback"), "fallback");
      assert.throws(() => env("KIT_TEST_UNSET"), {
        name: "MissingEnvironmentVariableError",
        message: "environment variable KIT_TEST_UNSET is not set",
      });
    });

    it("reads integers with a minimum", () => {
      process.env.KIT_TEST_INT = "21600";
      assert.equal(envInteger("KIT_TEST_INT", { min: 60 }), 21600);
      process.env.KIT_TEST_INT = "6h";
      assert.throws(() => envInteger("KIT_TEST_INT", { min: 60 }), {
        message: 'environment variable KIT_TEST_INT must be an integer of at least 60, got "6h"',
      });
      process.env.KIT_TEST_INT = "30";
      assert.throws(() => envInteger("KIT_TEST_INT", { min: 60 }), /at least 60, got "30"/);
    });
  });

  describe("decodeRecord", () => {
    it("decodes base64 JSON and validates envelope and payload", () => {
      const r = record(envelope("e-1"));
      const decoded = decodeRecord(r, orders);
      assert.equal(decoded.sequenceNumber, r.kinesis.sequenceNumber);
      assert.equal(decoded.record, r);
      assert.equal(decoded.contract, orders);
      assert.deepEqual(decoded.envelope.data, { orderId: "e-1", amount: 1 });
    });

    it("refuses data that is not JSON, naming the sequence number", () => {
      const r = record(Buffer.from("{not json"));
      assert.throws(
        () => decodeRecord(r, orders),
        (error: unknown) =>
          error instanceof UndecodableRecordError &&
          error.sequenceNumber === r.kinesis.sequenceNumber &&
          error.message.startsWith(
            `record ${r.kinesis.sequenceNumber}: data is not base64-encoded UTF-8 JSON:`,
          ),
      );
    });

    it("refuses bytes that are not UTF-8 rather than decoding them with replacement characters", () => {
      const r = record(Buffer.from([0x22, 0xff, 0xfe, 0x22]));
      assert.throws(() => decodeRecord(r, orders), UndecodableRecordError);
    });

    it("refuses a payload that breaks the contract, with the zod issues", () => {
      const r = record(envelope("e-2", "order.placed", { orderId: "o", amount: -5 }));
      assert.throws(
        () => decodeRecord(r, orders),
        (error: unknown) =>
          error instanceof ContractViolationError &&
          error.message.startsWith("test.orders: invalid order.placed event:") &&
          error.issues.length === 1 &&
          error.issues[0]!.path.join(".") === "amount",
      );
    });

    it("with several contracts, validates against the one that declares the type", () => {
      const decoded = decodeRecord(record(envelope("e-3", "refund.issued", { orderId: "o", amount: 2.5 })), [
        orders,
        refunds,
      ]);
      assert.equal(decoded.contract, refunds);
      assert.throws(
        () => decodeRecord(record(envelope("e-4", "order.shipped", { orderId: "o" })), [orders, refunds]),
        {
          message:
            "test.orders | test.refunds: unknown event type order.shipped (expected one of order.placed, order.cancelled, refund.issued)",
        },
      );
      assert.throws(
        () => decodeRecord(record({ ...envelope("e-5"), type: 7, specversion: "0.3" }), [orders, refunds]),
        (error: unknown) =>
          error instanceof ContractViolationError &&
          error.message.startsWith("test.orders | test.refunds: malformed envelope:") &&
          error.issues[0]!.path[0] === "specversion",
      );
    });
  });

  describe("createRecordHandler", () => {
    it("reports exactly the records that do not decode, break the contract, or fail, by sequence number", async () => {
      const observability = quiet();
      const seen: string[] = [];
      const handler = createRecordHandler({
        contract: orders,
        processInParallel: false,
        idempotency: { persistenceStore: new InMemoryPersistenceLayer(), expiresAfterSeconds: 3600 },
        observability,
        async processEvent(event) {
          seen.push(event.envelope.id);
          if (event.envelope.id === "boom") throw new Error("downstream refused");
        },
      });
      const good1 = record(envelope("a"));
      const garbage = record(Buffer.from("\u0000\u0001 not json"));
      const invalid = record(envelope("b", "order.placed", { orderId: "b" }));
      const boom = record(envelope("boom"));
      const good2 = record(envelope("c"));
      const response = await handler(batch(good1, garbage, invalid, boom, good2), context);

      assert.deepEqual(failedIds(response), [
        garbage.kinesis.sequenceNumber,
        invalid.kinesis.sequenceNumber,
        boom.kinesis.sequenceNumber,
      ]);
      assert.deepEqual(seen, ["a", "boom", "c"]);
      const rejected = observability.errors.find(
        (e) => e.extra.sequenceNumber === invalid.kinesis.sequenceNumber,
      )!;
      assert.match(rejected.message, /record rejected/);
      assert.deepEqual(
        (rejected.extra.issues as { path: string[]; code: string }[]).map((i) => [i.path.join("."), i.code]),
        [["amount", "invalid_type"]],
      );
      const undecodable = observability.errors.find(
        (e) => e.extra.sequenceNumber === garbage.kinesis.sequenceNumber,
      )!;
      assert.ok(undecodable.extra.error instanceof UndecodableRecordError);
      const failed = observability.errors.find(
        (e) => e.extra.sequenceNumber === boom.kinesis.sequenceNumber,
      )!;
      assert.equal(failed.extra.eventId, "boom");
    });

    it("runs an event id once across deliveries, and again after it failed", async () => {
      const store = new InMemoryPersistenceLayer();
      let calls = 0;
      let failNext = true;
      const handler = createRecordHandler({
        contract: orders,
        processInParallel: false,
        idempotency: { persistenceStore: store, expiresAfterSeconds: 3600 },
        observability: quiet(),
        async processEvent(event) {
          calls++;
          if (event.envelope.id === "flaky" && failNext) {
            failNext = false;
            throw new Error("try again");
          }
        },
      });
      const first = await handler(batch(record(envelope("x")), record(envelope("flaky"))), context);
      assert.equal(first.batchItemFailures.length, 1);
      // The checkpoint replay delivers both again, as new records with the same event ids.
      const replay = await handler(batch(record(envelope("x")), record(envelope("flaky"))), context);
      assert.deepEqual(replay.batchItemFailures, []);
      assert.equal(calls, 3, "x once, flaky twice (failed, then succeeded)");
      const third = await handler(batch(record(envelope("x")), record(envelope("flaky"))), context);
      assert.deepEqual(third.batchItemFailures, []);
      assert.equal(calls, 3);
    });

    it("throws when every record of the batch fails (Powertools' full batch failure)", async () => {
      const handler = createRecordHandler({
        contract: orders,
        processInParallel: true,
        idempotency: { persistenceStore: new InMemoryPersistenceLayer(), expiresAfterSeconds: 3600 },
        observability: quiet(),
        processEvent: async () => undefined,
      });
      await assert.rejects(
        handler(batch(record(Buffer.from("x")), record({ id: 1 })), context),
        FullBatchFailureError,
      );
    });
  });

  describe("createBatchHandler", () => {
    function batchHandler(
      processEvents: (events: readonly StreamEvent[]) => Promise<readonly EventFailure[]>,
      store = new InMemoryPersistenceLayer(),
      throwOnFullBatchFailure?: boolean,
    ) {
      const given: string[][] = [];
      const handler = createBatchHandler({
        contract: orders,
        idempotency: { persistenceStore: store, expiresAfterSeconds: 3600 },
        observability: quiet(),
        ...(throwOnFullBatchFailure === undefined ? {} : { throwOnFullBatchFailure }),
        async processEvents(events) {
          given.push(events.map((event) => event.envelope.id));
          return processEvents(events);
        },
      });
      return { handler, given, store };
    }

    it("gives the valid events in stream order and reports exactly the rejected and the failed records", async () => {
      const { handler, given } = batchHandler(async (events) =>
        events
          .filter((e) => e.envelope.id.startsWith("bad"))
          .map((event) => ({ event, error: new Error("refused") })),
      );
      const records = [
        record(envelope("ok-1")),
        record(envelope("bad-1")),
        record(Buffer.from("][")),
        record(envelope("ok-2")),
        record(envelope("ok-3", "order.cancelled", {})),
        record(envelope("bad-2")),
        record(envelope("ok-4")),
      ];
      const response = await handler(batch(...records), context);
      assert.deepEqual(given, [["ok-1", "bad-1", "ok-2", "bad-2", "ok-4"]]);
      assert.deepEqual(
        failedIds(response),
        [1, 2, 4, 5].map((i) => records[i]!.kinesis.sequenceNumber),
      );
      for (const identifier of failedIds(response)) assert.ok(identifier.length > 0);
    });

    it("skips ids completed before, re-offers ids whose processing failed", async () => {
      let failing = new Set(["b"]);
      const { handler, given, store } = batchHandler(async (events) =>
        events.filter((e) => failing.has(e.envelope.id)).map((event) => ({ event, error: new Error("no") })),
      );
      const first = await handler(
        batch(record(envelope("a")), record(envelope("b")), record(envelope("c"))),
        context,
      );
      assert.equal(first.batchItemFailures.length, 1);
      failing = new Set();
      // What Lambda sends after a checkpoint at b: b and everything after it.
      const replay = await handler(
        batch(record(envelope("b")), record(envelope("c")), record(envelope("d"))),
        context,
      );
      assert.deepEqual(replay.batchItemFailures, []);
      assert.deepEqual(given, [
        ["a", "b", "c"],
        ["b", "d"],
      ]);
      assert.equal(store.records.size, 4, "a, b, c, d completed");
    });

    it("processes an id delivered twice in one batch once; both records share its outcome", async () => {
      const { handler, given } = batchHandler(async (events) =>
        events
          .filter((e) => e.envelope.id === "twice-bad")
          .map((event) => ({ event, error: new Error("no") })),
      );
      const records = [
        record(envelope("twice")),
        record(envelope("twice-bad")),
        record(envelope("twice")),
        record(envelope("twice-bad")),
      ];
      const response = await handler(batch(...records), context);
      assert.deepEqual(given, [["twice", "twice-bad"]]);
      assert.deepEqual(failedIds(response), [
        records[1]!.kinesis.sequenceNumber,
        records[3]!.kinesis.sequenceNumber,
      ]);
    });

    it("fails every claimed event when processEvents throws, and releases them for the retry", async () => {
      let attempt = 0;
      const { handler, given } = batchHandler(async () => {
        if (attempt++ === 0) throw new Error("Personalize unreachable");
        return [];
      });
      const records = [record(envelope("p")), record(envelope("q")), record({ nonsense: true })];
      const failing = await handler(batch(...records), context).catch((error: unknown) => error);
      assert.ok(failing instanceof FullBatchFailureError, "all three records failed");
      const retried = await handler(batch(record(envelope("p")), record(envelope("q"))), context);
      assert.deepEqual(retried.batchItemFailures, []);
      assert.deepEqual(given, [
        ["p", "q"],
        ["p", "q"],
      ]);
    });

    it("reports every record instead of throwing when throwOnFullBatchFailure is false", async () => {
      const { handler } = batchHandler(async () => [], undefined, false);
      const records = [record({ nonsense: true }), record(Buffer.from("x"))];
      const response = await handler(batch(...records), context);
      assert.deepEqual(
        failedIds(response),
        records.map((r) => r.kinesis.sequenceNumber),
      );
    });

    it("fails the batch's events when processEvents names an event it was not given", async () => {
      const stranger = decodeRecord(record(envelope("stranger")), orders);
      const { handler } = batchHandler(
        async () => [{ event: stranger, error: new Error("?") }],
        undefined,
        false,
      );
      const records = [record(envelope("m")), record(envelope("n"))];
      const response = await handler(batch(...records), context);
      assert.deepEqual(
        failedIds(response),
        records.map((r) => r.kinesis.sequenceNumber),
      );
    });

    it("reports an event another invocation is processing, without processing it", async () => {
      const store = new InMemoryPersistenceLayer();
      const { handler, given } = batchHandler(async () => [], store);
      // Prime the store's configuration, then let "another invocation" claim id "held".
      await handler(batch(record(envelope("warm-up"))), context);
      await store.saveInProgress("held", 60_000);
      const records = [record(envelope("held")), record(envelope("free"))];
      const response = await handler(batch(...records), context);
      assert.deepEqual(failedIds(response), [records[0]!.kinesis.sequenceNumber]);
      assert.deepEqual(given.at(-1), ["free"]);
    });

    it("refuses an event that is not a Kinesis batch", async () => {
      const { handler } = batchHandler(async () => []);
      const r = record(envelope("s"));
      (r.kinesis as { sequenceNumber?: string }).sequenceNumber = "";
      await assert.rejects(handler(batch(r), context), UnexpectedEventError);
    });
  });

  describe("idempotency in DynamoDB (aws-sdk-client-mock)", () => {
    let dynamodb: AwsClientStub<DynamoDBClient>;
    const table = new Map<string, Record<string, AttributeValue>>();

    before(() => {
      // Mocked here, not at load time: mocha loads every test file first, and a later
      // mockClient() of the same class would replace this stub.
      dynamodb = mockClient(DynamoDBClient);
      process.env.IDEMPOTENCY_TABLE = "recommendations-idempotency";
      process.env.IDEMPOTENCY_TTL_SECONDS = "21600";
    });
    after(() => {
      delete process.env.IDEMPOTENCY_TABLE;
      delete process.env.IDEMPOTENCY_TTL_SECONDS;
      dynamodb.restore();
    });
    beforeEach(() => {
      table.clear();
      dynamodb.reset();
      // The conditions DynamoDBPersistenceLayer writes, evaluated on a Map.
      dynamodb.on(PutItemCommand).callsFake((input) => {
        const key = input.Item.id.S as string;
        const existing = table.get(key);
        const now = Date.now();
        const free =
          !existing ||
          Number(existing.expiration!.N) < now / 1000 ||
          (existing.status!.S === "INPROGRESS" &&
            existing.in_progress_expiration !== undefined &&
            Number(existing.in_progress_expiration.N) < now);
        if (!free) {
          throw new ConditionalCheckFailedException({
            message: "The conditional request failed",
            $metadata: { httpStatusCode: 400 },
            Item: existing,
          });
        }
        table.set(key, input.Item);
        return {};
      });
      dynamodb.on(UpdateItemCommand).callsFake((input) => {
        const key = input.Key.id.S as string;
        const values = input.ExpressionAttributeValues;
        table.set(key, {
          ...table.get(key),
          id: { S: key },
          status: values[":status"],
          expiration: values[":expiry"],
        });
        return {};
      });
      dynamodb.on(DeleteItemCommand).callsFake((input) => {
        table.delete(input.Key.id.S as string);
        return {};
      });
      dynamodb.on(GetItemCommand).callsFake((input) => ({ Item: table.get(input.Key.id.S as string) }));
    });

    it("claims each event id with a conditional put on IDEMPOTENCY_TABLE and skips it when delivered again", async () => {
      const processed: string[] = [];
      const handler = createBatchHandler({
        contract: orders,
        observability: quiet(),
        async processEvents(events) {
          processed.push(...events.map((event) => event.envelope.id));
          return [];
        },
      });
      const before = Math.round(Date.now() / 1000);
      await handler(batch(record(envelope("d-1")), record(envelope("d-2"))), context);
      // A fresh environment (no local cache) sees the same records: a handler with its own store.
      const coldHandler = createBatchHandler({
        contract: orders,
        observability: quiet(),
        async processEvents(events) {
          processed.push(...events.map((event) => event.envelope.id));
          return [];
        },
      });
      const response = await coldHandler(batch(record(envelope("d-2")), record(envelope("d-3"))), context);

      assert.deepEqual(response.batchItemFailures, []);
      assert.deepEqual(processed, ["d-1", "d-2", "d-3"]);
      const puts = dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input);
      assert.equal(puts.length, 4);
      for (const put of puts) {
        assert.equal(put.TableName, "recommendations-idempotency");
        assert.match(put.ConditionExpression!, /attribute_not_exists\(#id\)/);
        assert.equal(put.Item!.status!.S, "INPROGRESS");
        assert.ok(Number(put.Item!.in_progress_expiration!.N) > Date.now());
      }
      const updates = dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);
      assert.equal(updates.length, 3, "one completion per processed event");
      for (const update of updates) {
        assert.equal(update.ExpressionAttributeValues![":status"]!.S, "COMPLETED");
        const expiry = Number(update.ExpressionAttributeValues![":expiry"]!.N);
        assert.ok(
          expiry >= before + 21600 && expiry <= before + 21602,
          "records kept IDEMPOTENCY_TTL_SECONDS",
        );
      }
      assert.equal(table.size, 3);
    });

    it("keys an event the same way in record and batch handlers", async () => {
      const processed: string[] = [];
      const recordHandler = createRecordHandler({
        contract: orders,
        processInParallel: false,
        observability: quiet(),
        processEvent: async (event) => void processed.push(`record:${event.envelope.id}`),
      });
      const batchHandler = createBatchHandler({
        contract: orders,
        observability: quiet(),
        async processEvents(events) {
          processed.push(...events.map((event) => `batch:${event.envelope.id}`));
          return [];
        },
      });
      await recordHandler(batch(record(envelope("k-1"))), context);
      await batchHandler(batch(record(envelope("k-1")), record(envelope("k-2"))), context);
      await recordHandler(batch(record(envelope("k-2"))), context);
      assert.deepEqual(processed, ["record:k-1", "batch:k-2"]);
    });
  });
});

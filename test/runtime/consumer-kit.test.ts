import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import assert from "node:assert/strict";
import { z } from "zod";
import { ContractViolationError, defineContract } from "../../platform/contract";
import { DynamoDBIdempotencyStore, recordOwner } from "../../runtime/consumer-idempotency";
import { startDynamoDB, type LocalDynamoDB } from "../../local/dynamodb";
import { setEnvironment } from "../../local/local-aws";
import {
  InMemoryIdempotencyStore,
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
/** A record as Lambda delivers it (keyed by the envelope's partition key); a Buffer is sent as the bytes it holds. */
const record = (payload: unknown) =>
  kinesisRecord(payload, {
    sequenceNumber: nextSequenceNumber(),
    partitionKey: String((payload as { partitionkey?: unknown }).partitionkey ?? "pk"),
  });
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
        idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 3600 },
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
      const store = new InMemoryIdempotencyStore();
      let calls = 0;
      let failNext = true;
      const handler = createRecordHandler({
        contract: orders,
        processInParallel: false,
        idempotency: { store: store, expiresAfterSeconds: 3600 },
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
        idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 3600 },
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
      store = new InMemoryIdempotencyStore(),
      throwOnFullBatchFailure?: boolean,
    ) {
      const given: string[][] = [];
      const handler = createBatchHandler({
        contract: orders,
        perKeyOrder: true,
        idempotency: { store, expiresAfterSeconds: 3600 },
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
      const store = new InMemoryIdempotencyStore();
      const { handler, given } = batchHandler(async () => [], store);
      // "Another invocation" claims id "held".
      await store.claim(["orders-consumer#held"], Date.now() + 60_000, Date.now() / 1000 + 3600);
      const records = [record(envelope("held")), record(envelope("free"))];
      const response = await handler(batch(...records), context);
      assert.deepEqual(failedIds(response), [records[0]!.kinesis.sequenceNumber]);
      assert.deepEqual(given.at(-1), ["free"]);
    });

    it("takes over the claim a crashed invocation left on the same record, not one held for another record", async () => {
      const store = new InMemoryIdempotencyStore();
      const { handler, given } = batchHandler(async () => [], store);
      const crashed = record(envelope("c-1"));
      const republished = record(envelope("c-2"));
      // The invocation that had both records crashed after claiming: "c-1" under its own record,
      // "c-2" under another record with the same id (a duplicate published earlier).
      const until = Date.now() + 60_000;
      const expires = Date.now() / 1000 + 3600;
      await store.claim(
        ["orders-consumer#c-1"],
        until,
        expires,
        new Map([["orders-consumer#c-1", recordOwner(crashed)]]),
      );
      await store.claim(
        ["orders-consumer#c-2"],
        until,
        expires,
        new Map([["orders-consumer#c-2", "another-record"]]),
      );

      const response = await handler(batch(crashed, republished), context);

      assert.deepEqual(given.at(-1), ["c-1"], "the same record's retry runs it at once");
      assert.deepEqual(failedIds(response), [republished.kinesis.sequenceNumber]);
      assert.equal(store.statusOf("c-1"), "COMPLETED");
      assert.equal(store.statusOf("c-2"), "INPROGRESS");
    });

    it("refuses an event that is not a Kinesis batch", async () => {
      const { handler } = batchHandler(async () => []);
      const r = record(envelope("s"));
      (r.kinesis as { sequenceNumber?: string }).sequenceNumber = "";
      await assert.rejects(handler(batch(r), context), UnexpectedEventError);
    });
  });

  describe("per-key order", () => {
    // Events of one order share a partition key; "x" fails, so later events of its key must wait.
    const keyed = (id: string, orderId: string) =>
      kinesisRecord(envelope(id, "order.placed", { orderId, amount: 1 }), {
        sequenceNumber: nextSequenceNumber(),
        partitionKey: orderId,
      });

    /** A batch handler over `store` that records the ids it is given. */
    const recording = (store: InMemoryIdempotencyStore, perKeyOrder: boolean) => {
      const given: string[] = [];
      const handler = createBatchHandler({
        contract: orders,
        perKeyOrder,
        idempotency: { store, expiresAfterSeconds: 3600 },
        observability: quiet(),
        async processEvents(events) {
          given.push(...events.map((event) => event.envelope.id));
          return [];
        },
      });
      return { handler, given };
    };

    it("record handler: once an event of a key fails, later events of that key are not run and are reported", async () => {
      const seen: string[] = [];
      const handler = createRecordHandler({
        contract: orders,
        processInParallel: false,
        idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 3600 },
        observability: quiet(),
        async processEvent(event) {
          seen.push(event.envelope.id);
          if (event.envelope.id === "a-1" && seen.length === 1) throw new Error("downstream refused");
        },
      });
      const records = [
        keyed("a-1", "A"),
        keyed("b-1", "B"),
        keyed("a-2", "A"),
        keyed("b-2", "B"),
        keyed("a-3", "A"),
      ];
      const response = await handler(batch(...records), context);
      assert.deepEqual(seen, ["a-1", "b-1", "b-2"]);
      assert.deepEqual(
        failedIds(response),
        [0, 2, 4].map((i) => records[i]!.kinesis.sequenceNumber),
      );

      // Redelivered from the failed checkpoint: A's events now take effect in their order.
      const replay = await handler(batch(...records.slice(0).map((r) => ({ ...r }))), context);
      assert.deepEqual(replay.batchItemFailures, []);
      assert.deepEqual(seen, ["a-1", "b-1", "b-2", "a-1", "a-2", "a-3"]);
    });

    it("batch handler: an event whose claim fails (store error) holds back the later events of its key", async () => {
      const store = new InMemoryIdempotencyStore();
      store.failClaimOf.add("a-1");
      const { handler, given } = recording(store, true);
      const records = [keyed("a-1", "A"), keyed("a-2", "A"), keyed("b-1", "B")];
      const response = await handler(batch(...records), context);
      assert.deepEqual(given, ["b-1"]);
      assert.deepEqual(
        failedIds(response),
        [0, 1].map((i) => records[i]!.kinesis.sequenceNumber),
      );
      assert.equal(store.statusOf("a-2"), undefined, "the held-back event's claim is released");
      assert.equal(store.statusOf("b-1"), "COMPLETED");
    });

    it("batch handler: an event held by another invocation holds back the later events of its key", async () => {
      const store = new InMemoryIdempotencyStore();
      await store.claim(["orders-consumer#a-1"], Date.now() + 60_000, Date.now() / 1000 + 3600);
      const { handler, given } = recording(store, true);
      const records = [keyed("a-1", "A"), keyed("b-1", "B"), keyed("a-2", "A")];
      const response = await handler(batch(...records), context);
      assert.deepEqual(given, ["b-1"]);
      assert.deepEqual(
        failedIds(response),
        [0, 2].map((i) => records[i]!.kinesis.sequenceNumber),
      );
    });

    it("without per-key order, a failed claim holds back nothing", async () => {
      const store = new InMemoryIdempotencyStore();
      store.failClaimOf.add("a-1");
      const { handler, given } = recording(store, false);
      const records = [keyed("a-1", "A"), keyed("a-2", "A")];
      const response = await handler(batch(...records), context);
      assert.deepEqual(given, ["a-2"]);
      assert.deepEqual(failedIds(response), [records[0]!.kinesis.sequenceNumber]);
    });
  });

  describe("completion that cannot be recorded", () => {
    it("reports the event processed, logs and counts it, and leaves the id in progress until its expiry", async () => {
      const store = new InMemoryIdempotencyStore();
      store.failWrites = new Error("DynamoDB unavailable");
      const observability = quiet();
      const metrics: [string, number][] = [];
      const addMetric = observability.metrics.addMetric.bind(observability.metrics);
      observability.metrics.addMetric = ((name: string, unit: never, value: number) => {
        metrics.push([name, value]);
        return addMetric(name, unit, value);
      }) as typeof observability.metrics.addMetric;
      let runs = 0;
      const handler = createBatchHandler({
        contract: orders,
        perKeyOrder: false,
        idempotency: { store, expiresAfterSeconds: 3600 },
        observability,
        async processEvents() {
          runs++;
          return [];
        },
      });
      const response = await handler(
        batch(record(envelope("e-1"))),
        lambdaContext("orders-consumer", 30_000),
      );
      assert.deepEqual(response.batchItemFailures, [], "the effect happened: retrying it would repeat it");
      assert.equal(store.statusOf("e-1"), "INPROGRESS");
      // The same environment remembers it: delivered again there, it is skipped.
      const same = await handler(batch(record(envelope("e-1"))), lambdaContext("orders-consumer", 30_000));
      assert.deepEqual(same.batchItemFailures, []);
      assert.equal(runs, 1);
      assert.ok(metrics.some(([name, value]) => name === "CompletionsNotRecorded" && value === 1));
      assert.match(observability.errors.at(-1)!.message, /not marked completed/);

      // Delivered again before the in-progress expiry (another environment): not run again.
      store.failWrites = undefined;
      const other = createBatchHandler({
        contract: orders,
        perKeyOrder: false,
        throwOnFullBatchFailure: false,
        idempotency: { store, expiresAfterSeconds: 3600 },
        observability: quiet(),
        async processEvents() {
          runs++;
          return [];
        },
      });
      const again = await other(batch(record(envelope("e-1"))), context);
      assert.equal(again.batchItemFailures.length, 1, "reported in progress, retried later");
      assert.equal(runs, 1);
    });
  });

  describe("idempotency in DynamoDB (local DynamoDB)", () => {
    let dynamodb: LocalDynamoDB;
    let restoreEnvironment = () => {};
    const environment = {
      IDEMPOTENCY_TABLE: "recommendations-idempotency",
      IDEMPOTENCY_TTL_SECONDS: "21600",
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    };

    before(async () => {
      dynamodb = await startDynamoDB();
      await dynamodb.createTable("recommendations-idempotency");
      restoreEnvironment = setEnvironment({ ...environment, AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint });
    });
    after(async () => {
      restoreEnvironment();
      await dynamodb.stop();
    });
    beforeEach(() => dynamodb.resetCounts());

    const items = async () =>
      (await dynamodb.client.send(new ScanCommand({ TableName: "recommendations-idempotency" }))).Items ?? [];

    it("claims and completes a batch in one transaction each, and a fresh environment skips it", async () => {
      const processed: string[] = [];
      const newHandler = () =>
        createBatchHandler({
          contract: orders,
          perKeyOrder: false,
          observability: quiet(),
          async processEvents(events) {
            processed.push(...events.map((event) => event.envelope.id));
            return [];
          },
        });
      const before = Math.floor(Date.now() / 1000);
      await newHandler()(batch(record(envelope("d-1")), record(envelope("d-2"))), context);
      assert.deepEqual(dynamodb.requests, { TransactWriteItems: 2 });
      const stored = await items();
      assert.deepEqual(stored.map((item) => item.id!.S).sort(), [
        "orders-consumer#d-1",
        "orders-consumer#d-2",
      ]);
      for (const item of stored) {
        assert.equal(item.status!.S, "COMPLETED");
        const expiry = Number(item.expiration!.N);
        assert.ok(
          expiry >= before + 21600 && expiry <= before + 21602,
          "records kept IDEMPOTENCY_TTL_SECONDS",
        );
      }

      // A fresh environment (no local cache) gets d-2 again with d-3: one cancelled claim tells it
      // d-2 is done, a second claims d-3, a third completes it.
      dynamodb.resetCounts();
      const response = await newHandler()(batch(record(envelope("d-2")), record(envelope("d-3"))), context);
      assert.deepEqual(response.batchItemFailures, []);
      assert.deepEqual(processed, ["d-1", "d-2", "d-3"]);
      assert.deepEqual(dynamodb.requests, { TransactWriteItems: 3 });
    });

    it("claims 101 ids in two transactions of at most 100", async () => {
      const store = new DynamoDBIdempotencyStore(dynamodb.client, "recommendations-idempotency");
      const keys = Array.from({ length: 101 }, (_, i) => `bulk#${i}`);
      const claims = await store.claim(keys, Date.now() + 60_000, Math.floor(Date.now() / 1000) + 3600);
      assert.equal([...claims.values()].filter((claim) => claim === "claimed").length, 101);
      assert.deepEqual(dynamodb.requests, { TransactWriteItems: 2 });
    });

    it("tells claimed, completed and in-progress ids apart, and takes over an in-progress id past its expiry", async () => {
      const store = new DynamoDBIdempotencyStore(dynamodb.client, "recommendations-idempotency");
      const expires = Math.floor(Date.now() / 1000) + 3600;
      await store.claim(["s#done", "s#held", "s#stale"], Date.now() + 60_000, expires);
      await store.complete(["s#done"], expires);
      // "stale" was claimed by an invocation that died: its in-progress expiry is in the past.
      await store.claim(["s#stale-2"], Date.now() - 1, expires);
      const claims = await store.claim(
        ["s#done", "s#held", "s#stale-2", "s#new"],
        Date.now() + 60_000,
        expires,
      );
      assert.deepEqual(Object.fromEntries(claims), {
        "s#done": "completed",
        "s#held": "in-progress",
        "s#stale-2": "claimed",
        "s#new": "claimed",
      });
      await store.release(["s#new"]);
      assert.deepEqual(Object.fromEntries(await store.claim(["s#new"], Date.now() + 60_000, expires)), {
        "s#new": "claimed",
      });
    });

    it("lets the record that holds a claim in progress take it over, and no other record", async () => {
      const store = new DynamoDBIdempotencyStore(dynamodb.client, "recommendations-idempotency");
      const expires = Math.floor(Date.now() / 1000) + 3600;
      const owned = (owner: string) => new Map([["o#1", owner]]);
      await store.claim(["o#1"], Date.now() + 60_000, expires, owned("stream#shard-0:100"));
      assert.deepEqual(
        Object.fromEntries(
          await store.claim(["o#1"], Date.now() + 60_000, expires, owned("stream#shard-0:200")),
        ),
        { "o#1": "in-progress" },
      );
      assert.deepEqual(Object.fromEntries(await store.claim(["o#1"], Date.now() + 60_000, expires)), {
        "o#1": "in-progress",
      });
      assert.deepEqual(
        Object.fromEntries(
          await store.claim(["o#1"], Date.now() + 60_000, expires, owned("stream#shard-0:100")),
        ),
        { "o#1": "claimed" },
      );
      await store.complete(["o#1"], expires);
      assert.deepEqual(
        Object.fromEntries(
          await store.claim(["o#1"], Date.now() + 60_000, expires, owned("stream#shard-0:100")),
        ),
        { "o#1": "completed" },
      );
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
        perKeyOrder: false,
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

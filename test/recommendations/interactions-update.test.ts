import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import { DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import {
  InvalidInputException,
  PersonalizeEventsClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from "@aws-sdk/client-personalize-events";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import {
  createInteractionsUpdateHandler,
  handler as deployedHandler,
  type InteractionsUpdateOptions,
} from "../../domains/recommendations/handlers/interactions-update";
import { PersonalizeLimitError, toPutEventsEntry } from "../../domains/recommendations/handlers/personalize";
import { decodeRecord } from "../../runtime/consumer-kit";
import {
  InMemoryIdempotencyStore,
  kinesisEvent,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../../runtime/consumer-testing";
import { interactionEvents } from "../../domains/interactions/contract";

interface Interaction {
  readonly userId?: string;
  readonly sessionId?: string;
  readonly type?: string;
  readonly itemId?: string;
  readonly itemType?: string;
  readonly device?: string;
  readonly occurredAt?: string;
  readonly extra?: Record<string, unknown>;
}

function interaction(id: string, fields: Interaction = {}) {
  const type = fields.type ?? "interaction.play";
  const userId = fields.userId ?? "user-1";
  return {
    specversion: "1.0",
    id,
    source: "interactions/interaction-events",
    type,
    time: "2026-03-01T10:00:00Z",
    dataversion: 1,
    partitionkey: userId,
    data: {
      userId,
      itemId: fields.itemId ?? "song-1",
      itemType: fields.itemType ?? "song",
      sessionId: fields.sessionId ?? "session-1",
      occurredAt: fields.occurredAt ?? "2026-03-01T09:59:58.250Z",
      ...(fields.device ? { device: fields.device } : {}),
      ...(type === "interaction.play" ? { playedMs: 31_000 } : {}),
      ...(type === "interaction.skip" ? { positionMs: 4_000 } : {}),
      ...fields.extra,
    },
  };
}

const context = lambdaContext("interactions-update");

describe("interactions-update", () => {
  let personalize: AwsClientStub<PersonalizeEventsClient>;
  const puts = () =>
    personalize.commandCalls(PutEventsCommand).map((call) => call.args[0].input as PutEventsCommandInput);
  const sentIds = () => puts().map((input) => input.eventList!.map((event) => event.eventId));

  before(() => {
    personalize = mockClient(PersonalizeEventsClient);
  });
  after(() => personalize.restore());
  beforeEach(() => {
    personalize.reset();
    personalize.on(PutEventsCommand).resolves({});
  });

  function build(options: InteractionsUpdateOptions = {}) {
    const sleeps: number[] = [];
    const observability = silentObservability();
    const handler = createInteractionsUpdateHandler({
      trackingId: "tracking-1",
      retry: { sleep: async (ms) => void sleeps.push(ms) },
      idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 21600 },
      observability,
      ...options,
    });
    return { handler, sleeps, errors: observability.errors };
  }

  it("sends 25 events of one user and session in 3 PutEvents calls of 10, 10 and 5, in stream order", async () => {
    const { handler } = build();
    const ids = Array.from({ length: 25 }, (_, i) => `e-${String(i).padStart(2, "0")}`);
    const response = await handler(kinesisEvent(ids.map((id) => interaction(id))), context);

    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [ids.slice(0, 10), ids.slice(10, 20), ids.slice(20)]);
    for (const input of puts()) {
      assert.equal(input.trackingId, "tracking-1");
      assert.equal(input.userId, "user-1");
      assert.equal(input.sessionId, "session-1");
    }
  });

  it("maps an interaction to a Personalize event", async () => {
    const { handler } = build();
    await handler(
      kinesisEvent([
        interaction("play-1", { device: "mobile", itemId: "ep-9", itemType: "episode" }),
        interaction("skip-1", { type: "interaction.skip" }),
        interaction("like-1", { type: "interaction.like" }),
      ]),
      context,
    );
    assert.deepEqual(puts()[0]!.eventList, [
      {
        eventId: "play-1",
        eventType: "interaction.play",
        itemId: "episode:ep-9",
        sentAt: new Date("2026-03-01T09:59:58.250Z"),
        eventValue: 31_000,
        properties: '{"device":"mobile"}',
      },
      {
        eventId: "skip-1",
        eventType: "interaction.skip",
        itemId: "song:song-1",
        sentAt: new Date("2026-03-01T09:59:58.250Z"),
        eventValue: 4_000,
      },
      {
        eventId: "like-1",
        eventType: "interaction.like",
        itemId: "song:song-1",
        sentAt: new Date("2026-03-01T09:59:58.250Z"),
      },
    ]);
  });

  it("sends each user's events in stream order, one call per run of one session, users apart", async () => {
    const { handler } = build();
    const pairs = [
      ["ann", "s1"],
      ["bob", "s1"],
      ["ann", "s2"],
    ] as const;
    const events = Array.from({ length: 12 }, (_, i) => {
      const [userId, sessionId] = pairs[i % 3]!;
      return interaction(`${userId}-${sessionId}-${i}`, { userId, sessionId });
    });
    const response = await handler(kinesisEvent(events), context);

    assert.deepEqual(response.batchItemFailures, []);
    const calls = puts().map((input) => ({
      pair: `${input.userId}/${input.sessionId}`,
      ids: input.eventList!.map((event) => event.eventId),
    }));
    // bob's one session is one call; ann's two interleaved sessions alternate, so that Personalize
    // receives her events in the order they happened.
    assert.deepEqual(
      calls.filter((call) => call.pair.startsWith("bob/")),
      [{ pair: "bob/s1", ids: ["bob-s1-1", "bob-s1-4", "bob-s1-7", "bob-s1-10"] }],
    );
    assert.deepEqual(
      calls.filter((call) => call.pair.startsWith("ann/")).map((call) => call.ids.join(",")),
      ["ann-s1-0", "ann-s2-2", "ann-s1-3", "ann-s2-5", "ann-s1-6", "ann-s2-8", "ann-s1-9", "ann-s2-11"],
    );
  });

  it("holds back a user's later events after a failed call: they are reported, not sent", async () => {
    const { handler } = build();
    personalize.on(PutEventsCommand, { sessionId: "s1" }).rejects(
      Object.assign(new Error("bad request"), {
        name: "InvalidInputException",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const events = [
      interaction("ann-1", { userId: "ann", sessionId: "s1" }),
      interaction("ann-2", { userId: "ann", sessionId: "s2" }),
      interaction("bob-1", { userId: "bob", sessionId: "s9" }),
    ];
    const batch = kinesisEvent(events);
    const response = await handler(batch, context);

    assert.deepEqual(
      response.batchItemFailures.map((failure) => failure.itemIdentifier),
      batch.Records.slice(0, 2).map((record) => record.kinesis.sequenceNumber),
    );
    assert.deepEqual(
      puts()
        .map((input) => input.sessionId)
        .sort(),
      ["s1", "s9"],
    );
  });

  it("fails only the record whose item id would exceed 256 characters once prefixed", async () => {
    const { handler, errors } = build();
    const longId = "x".repeat(256);
    const batch = kinesisEvent([
      interaction("ok-1"),
      interaction("too-long", { itemId: longId, itemType: "episode" }),
      interaction("ok-2"),
    ]);
    const response = await handler(batch, context);

    assert.deepEqual(response.batchItemFailures, [
      { itemIdentifier: batch.Records[1]!.kinesis.sequenceNumber },
    ]);
    assert.deepEqual(sentIds(), [["ok-1", "ok-2"]]);
    const logged = errors.find((e) => e.extra.eventId === "too-long")!;
    assert.equal(
      (logged.extra.error as Error).message,
      "event too-long cannot be sent to Personalize: itemId is 264 characters, more than the 256 allowed",
    );
  });

  it("refuses properties over 1,024 characters of JSON instead of truncating them", () => {
    // The contract bounds every field that goes into properties today (device is an enum), so the
    // limit is exercised on the mapping with a payload a future contract version could carry.
    const event = decodeRecord(kinesisRecord(interaction("big"), { sequenceNumber: "1" }), interactionEvents);
    const oversized = {
      ...event,
      envelope: { ...event.envelope, data: { ...event.envelope.data, device: "d".repeat(1020) } },
    };
    assert.throws(() => toPutEventsEntry(oversized), {
      name: PersonalizeLimitError.name,
      message:
        "event big cannot be sent to Personalize: properties JSON is 1033 characters, more than the 1024 allowed",
    });
    const fits = {
      ...event,
      envelope: { ...event.envelope, data: { ...event.envelope.data, device: "d".repeat(1011) } },
    };
    assert.equal(toPutEventsEntry(fits)!.personalizeEvent.properties!.length, 1024);
  });

  it("resends a throttled call after a backoff: one retry, everything succeeds", async () => {
    const { handler, sleeps } = build();
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    personalize.on(PutEventsCommand).rejectsOnce(throttled).resolves({});
    const response = await handler(kinesisEvent([interaction("t-1"), interaction("t-2")]), context);

    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [
      ["t-1", "t-2"],
      ["t-1", "t-2"],
    ]);
    assert.equal(sleeps.length, 1);
  });

  it("reports the events of a call still throttled after the last attempt, and only those", async () => {
    const { handler, sleeps, errors } = build();
    personalize.on(PutEventsCommand, { userId: "throttled-user" }).rejects(
      Object.assign(new Error("slow down"), {
        name: "TooManyRequestsException",
        $metadata: { httpStatusCode: 429 },
      }),
    );
    const batch = kinesisEvent([
      interaction("a", { userId: "throttled-user" }),
      interaction("b"),
      interaction("c", { userId: "throttled-user" }),
    ]);
    const response = await handler(batch, context);

    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [batch.Records[0]!.kinesis.sequenceNumber, batch.Records[2]!.kinesis.sequenceNumber],
    );
    assert.equal(puts().filter((input) => input.userId === "throttled-user").length, 5);
    assert.equal(sleeps.length, 4);
    assert.equal(
      (errors.find((e) => e.extra.eventId === "a")!.extra.error as Error).message,
      "PutEvents still failing after 5 attempts: TooManyRequestsException: slow down",
    );
  });

  it("finds the event Personalize refuses in a call by splitting it, and fails only that record", async () => {
    const { handler } = build();
    personalize.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      if (input.eventList!.some((event) => event.eventId === "refused")) {
        throw new InvalidInputException({ message: "Invalid eventType", $metadata: { httpStatusCode: 400 } });
      }
      return {};
    });
    const batch = kinesisEvent(["a", "refused", "c", "d"].map((id) => interaction(id)));
    const response = await handler(batch, context);

    assert.deepEqual(response.batchItemFailures, [
      { itemIdentifier: batch.Records[1]!.kinesis.sequenceNumber },
    ]);
    assert.deepEqual(sentIds(), [
      ["a", "refused", "c", "d"],
      ["a", "refused"],
      ["a"],
      ["refused"],
      ["c", "d"],
    ]);
  });

  it("fails a poison record alone and sends the rest", async () => {
    const { handler, errors } = build();
    const next = sequenceNumbers();
    const records = [
      kinesisRecord(interaction("p-1"), { sequenceNumber: next() }),
      kinesisRecord(Buffer.from("definitely not JSON"), { sequenceNumber: next() }),
      kinesisRecord(interaction("p-2", { extra: { occurredAt: "yesterday" } }), { sequenceNumber: next() }),
      kinesisRecord(interaction("p-3"), { sequenceNumber: next() }),
    ];
    const response = await handler({ Records: records }, context);

    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [records[1]!.kinesis.sequenceNumber, records[2]!.kinesis.sequenceNumber],
    );
    assert.deepEqual(sentIds(), [["p-1", "p-3"]]);
    const rejected = errors.find((e) => e.extra.sequenceNumber === records[2]!.kinesis.sequenceNumber)!;
    assert.deepEqual(
      (rejected.extra.issues as { path: string[] }[]).map((issue) => issue.path.join(".")),
      ["occurredAt"],
    );
  });

  it("sends an event once however often it is delivered", async () => {
    const { handler } = build();
    const events = [interaction("d-1"), interaction("d-2"), interaction("d-1")];
    const first = await handler(kinesisEvent(events), context);
    // A checkpoint replay or retry delivers the same events again, with new sequence numbers.
    const again = await handler(
      kinesisEvent([interaction("d-2"), interaction("d-1"), interaction("d-3")]),
      context,
    );

    assert.deepEqual(first.batchItemFailures, []);
    assert.deepEqual(again.batchItemFailures, []);
    assert.deepEqual(sentIds(), [["d-1", "d-2"], ["d-3"]]);
  });

  it("does not send follows of artists and podcasts, which are not catalogue items, and does not fail them", async () => {
    const { handler } = build();
    const response = await handler(
      kinesisEvent([
        interaction("f-1", { type: "interaction.follow", itemType: "artist", itemId: "artist-1" }),
        interaction("l-1", { type: "interaction.like" }),
      ]),
      context,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [["l-1"]]);
  });

  it("fails the batch with a clear error when PERSONALIZE_TRACKING_ID is not set", async () => {
    delete process.env.PERSONALIZE_TRACKING_ID;
    const { handler, errors } = build({ trackingId: undefined as unknown as string });
    await assert.rejects(handler(kinesisEvent([interaction("n-1")]), context), FullBatchFailureError);
    assert.equal(
      (errors[0]!.extra.error as Error).message,
      "environment variable PERSONALIZE_TRACKING_ID is not set",
    );
    assert.equal(puts().length, 0);
  });

  describe("the deployed handler (configuration from the environment, idempotency in DynamoDB)", () => {
    let dynamodb: AwsClientStub<DynamoDBClient>;
    before(() => {
      dynamodb = mockClient(DynamoDBClient);
      Object.assign(process.env, {
        PERSONALIZE_TRACKING_ID: "tracking-from-env",
        IDEMPOTENCY_TABLE: "recommendations-idempotency",
        IDEMPOTENCY_TTL_SECONDS: "21600",
      });
    });
    after(() => {
      dynamodb.restore();
      for (const name of ["PERSONALIZE_TRACKING_ID", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS"]) {
        delete process.env[name];
      }
    });

    it("sends with the tracking id from the environment and records each event id", async () => {
      dynamodb.on(TransactWriteItemsCommand).resolves({});
      const response = await deployedHandler(
        kinesisEvent([interaction("env-1"), interaction("env-2")]),
        context,
      );

      assert.deepEqual(response.batchItemFailures, []);
      assert.deepEqual(
        puts().map((input) => input.trackingId),
        ["tracking-from-env"],
      );
      // One transaction claims the batch's ids, one completes them, both on IDEMPOTENCY_TABLE.
      const transactions = dynamodb.commandCalls(TransactWriteItemsCommand).map((call) => call.args[0].input);
      assert.deepEqual(
        transactions.map((input) => input.TransactItems!.map((item) => item.Put!.TableName)),
        [
          ["recommendations-idempotency", "recommendations-idempotency"],
          ["recommendations-idempotency", "recommendations-idempotency"],
        ],
      );
    });
  });
});

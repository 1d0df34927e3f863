import { DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import {
  PersonalizeEventsClient,
  PutUsersCommand,
  type PutUsersCommandInput,
} from "@aws-sdk/client-personalize-events";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import assert from "node:assert/strict";
import {
  createUsersUpdateHandler,
  handler as deployedHandler,
  type UsersUpdateOptions,
} from "../../domains/recommendations/handlers/users-update";
import {
  InMemoryIdempotencyStore,
  kinesisEvent,
  kinesisRecord,
  lambdaContext,
  sequenceNumbers,
  silentObservability,
} from "../../runtime/consumer-testing";

const DATASET = "arn:aws:personalize:eu-west-1:333333333333:dataset/recommendations/USERS";

function envelope(id: string, type: string, data: Record<string, unknown>, dataversion = 2) {
  return {
    specversion: "1.0",
    id,
    source: "users/user-events",
    type,
    time: "2026-03-01T10:00:00Z",
    dataversion,
    partitionkey: String(data.userId),
    data,
  };
}

const created = (id: string, userId: string, extra: Record<string, unknown> = {}) =>
  envelope(id, "user.created", {
    userId,
    country: "IT",
    tier: "premium",
    birthYear: 1990,
    createdAt: "2026-01-01T00:00:00Z",
    ...extra,
  });
const updated = (id: string, userId: string, changes: Record<string, unknown>) =>
  envelope(id, "user.updated", { userId, updatedAt: "2026-03-01T00:00:00Z", ...changes });

const context = lambdaContext("users-update");

describe("users-update", () => {
  let personalize: AwsClientStub<PersonalizeEventsClient>;
  const calls = () =>
    personalize.commandCalls(PutUsersCommand).map((call) => call.args[0].input as PutUsersCommandInput);
  const sentIds = () => calls().map((input) => input.users!.map((user) => user.userId));

  before(() => {
    personalize = mockClient(PersonalizeEventsClient);
  });
  after(() => personalize.restore());
  beforeEach(() => {
    personalize.reset();
    personalize.on(PutUsersCommand).resolves({});
  });

  function build(options: UsersUpdateOptions = {}) {
    const sleeps: number[] = [];
    const observability = silentObservability();
    const handler = createUsersUpdateHandler({
      datasetArn: DATASET,
      retry: { sleep: async (ms) => void sleeps.push(ms) },
      idempotency: { store: new InMemoryIdempotencyStore(), expiresAfterSeconds: 21600 },
      observability,
      ...options,
    });
    return { handler, sleeps, errors: observability.errors };
  }

  it("maps users to COUNTRY, TIER and LANGUAGE under camelCase keys, v1 and v2 events alike", async () => {
    const { handler } = build();
    const response = await handler(
      kinesisEvent([
        envelope(
          "v1",
          "user.created",
          { userId: "u-1", country: "DE", tier: "free", createdAt: "2026-01-01T00:00:00Z" },
          1,
        ),
        created("v2", "u-2", { language: "it-IT" }),
        updated("up", "u-3", { country: "FR", tier: "family", language: "fr" }),
      ]),
      context,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal(calls()[0]!.datasetArn, DATASET);
    assert.deepEqual(calls()[0]!.users, [
      { userId: "u-1", properties: '{"country":"DE","tier":"free"}' },
      { userId: "u-2", properties: '{"country":"IT","tier":"premium","language":"it-IT"}' },
      { userId: "u-3", properties: '{"country":"FR","tier":"family","language":"fr"}' },
    ]);
  });

  it("sends 25 users in 3 calls of 10, 10 and 5", async () => {
    const { handler } = build();
    const ids = Array.from({ length: 25 }, (_, i) => `u-${i}`);
    const response = await handler(kinesisEvent(ids.map((id) => created(`c-${id}`, id))), context);
    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [ids.slice(0, 10), ids.slice(10, 20), ids.slice(20)]);
  });

  it("keeps two writes of one user in separate calls, in order", async () => {
    const { handler } = build();
    const whole = { country: "IT", tier: "free", language: "it" };
    await handler(
      kinesisEvent([created("a", "u-1"), updated("b", "u-1", whole), created("c", "u-2")]),
      context,
    );
    assert.deepEqual(sentIds(), [["u-1", "u-2"], ["u-1"]]);
  });

  it("skips a partial update, which PutUsers would turn into a user without the columns it leaves out", async () => {
    const { handler } = build();
    const response = await handler(
      kinesisEvent([
        updated("n", "u-1", {}),
        updated("t", "u-1", { tier: "free" }),
        updated("c", "u-1", { country: "FR", tier: "free" }),
      ]),
      context,
    );
    assert.deepEqual(response.batchItemFailures, []);
    assert.equal(calls().length, 0);
  });

  it("resends a throttled call after a backoff: one retry, everything succeeds", async () => {
    const { handler, sleeps } = build();
    personalize
      .on(PutUsersCommand)
      .rejectsOnce(
        Object.assign(new Error("Rate exceeded"), {
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({});
    const response = await handler(kinesisEvent([created("a", "u-1"), created("b", "u-2")]), context);
    assert.deepEqual(response.batchItemFailures, []);
    assert.deepEqual(sentIds(), [
      ["u-1", "u-2"],
      ["u-1", "u-2"],
    ]);
    assert.equal(sleeps.length, 1);
  });

  it("fails the users of a call still throttled after the last attempt, and the later writes of those users", async () => {
    const { handler } = build();
    personalize.on(PutUsersCommand).callsFake((input: PutUsersCommandInput) => {
      if (input.users!.some((user) => user.userId === "u-5")) {
        throw Object.assign(new Error("Rate exceeded"), {
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return {};
    });
    const batch = kinesisEvent([
      ...Array.from({ length: 10 }, (_, i) => created(`c-${i + 1}`, `u-${i + 1}`)),
      updated("later", "u-1", { country: "IT", tier: "free", language: "it" }),
      created("c-11", "u-11"),
    ]);
    const response = await handler(batch, context);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      batch.Records.slice(0, 11).map((r) => r.kinesis.sequenceNumber),
    );
    assert.equal(
      calls().length,
      6,
      "five attempts of the first call, none for the held-back write, one for u-11",
    );
    assert.deepEqual(sentIds().at(-1), ["u-11"]);
  });

  it("fails a record that breaks the contract alone, and an undecodable one alone", async () => {
    const { handler, errors } = build();
    const next = sequenceNumbers();
    const records = [
      kinesisRecord(created("a", "u-1"), { sequenceNumber: next() }),
      kinesisRecord(created("b", "u-2", { country: "Italy" }), { sequenceNumber: next() }),
      kinesisRecord(Buffer.from("not json"), { sequenceNumber: next() }),
      kinesisRecord(created("c", "u-3"), { sequenceNumber: next() }),
    ];
    const response = await handler({ Records: records }, context);
    assert.deepEqual(
      response.batchItemFailures.map((f) => f.itemIdentifier),
      [records[1]!.kinesis.sequenceNumber, records[2]!.kinesis.sequenceNumber],
    );
    assert.deepEqual(sentIds(), [["u-1", "u-3"]]);
    const issues = errors.find((e) => e.extra.sequenceNumber === records[1]!.kinesis.sequenceNumber)!.extra
      .issues as { path: string[]; message: string }[];
    assert.deepEqual(
      issues.map((issue) => [issue.path.join("."), issue.message]),
      [["country", "ISO 3166-1 alpha-2 country code"]],
    );
  });

  it("writes a user once however often the event is delivered", async () => {
    const { handler } = build();
    await handler(kinesisEvent([created("a", "u-1")]), context);
    await handler(kinesisEvent([created("a", "u-1"), created("b", "u-2")]), context);
    await handler(kinesisEvent([created("b", "u-2"), created("a", "u-1")]), context);
    assert.deepEqual(sentIds(), [["u-1"], ["u-2"]]);
  });

  describe("the deployed handler (configuration from the environment, idempotency in DynamoDB)", () => {
    let dynamodb: AwsClientStub<DynamoDBClient>;
    before(() => {
      dynamodb = mockClient(DynamoDBClient);
      Object.assign(process.env, {
        PERSONALIZE_USERS_DATASET_ARN: DATASET,
        IDEMPOTENCY_TABLE: "recommendations-idempotency",
        IDEMPOTENCY_TTL_SECONDS: "21600",
      });
    });
    after(() => {
      dynamodb.restore();
      for (const name of ["PERSONALIZE_USERS_DATASET_ARN", "IDEMPOTENCY_TABLE", "IDEMPOTENCY_TTL_SECONDS"]) {
        delete process.env[name];
      }
    });

    it("writes to the dataset named by the environment", async () => {
      dynamodb.on(TransactWriteItemsCommand).resolves({});
      const response = await deployedHandler(kinesisEvent([created("env-1", "u-1")]), context);
      assert.deepEqual(response.batchItemFailures, []);
      assert.deepEqual(
        calls().map((input) => input.datasetArn),
        [DATASET],
      );
    });
  });
});

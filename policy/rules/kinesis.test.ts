import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, edit, mesh, resource, STREAM_ARN, streamPolicyDocument, without } from "../tests/fixtures";
import { messages, outcome } from "../tests/harness";
import {
  kinesisEfoConsumerLimit,
  kinesisOneResourcePolicyPerStream,
  kinesisPolicyLeastPrivilege,
  kinesisPolicyNoWildcardPrincipal,
  kinesisPolicyOwnResource,
  kinesisRetentionCoversConsumers,
  kinesisRetentionFloor,
  kinesisSharedStreamCmk,
} from "./kinesis";

const read = ["kinesis:GetRecords"];
const statement = (overrides: Record<string, unknown>) => ({
  Effect: "Allow",
  Principal: { AWS: `arn:aws:iam::${ACCOUNTS.analytics}:root` },
  Action: read,
  Resource: STREAM_ARN,
  ...overrides,
});
const withPolicy = (document: unknown) => edit(mesh(), "songs-stream-policy", { policy: document });

describe("kinesis-shared-stream-cmk", () => {
  const policy = kinesisSharedStreamCmk;
  const unencrypted = "Shared Kinesis stream songs.plays must be encrypted with a customer-managed KMS key.";

  it("passes a shared stream encrypted with a customer-managed key", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects a shared stream without encryption", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-stream", { encryptionType: "NONE" })), [
      unencrypted,
    ]);
  });
  it("rejects a shared stream with the AWS-managed key", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "songs-stream", { kmsKeyId: "alias/aws/kinesis" })),
      [unencrypted],
    );
  });
  it("rejects a stream named by a resource policy even without the mesh:product tag", async () => {
    const resources = edit(mesh(), "songs-stream", (inputs) => {
      inputs.encryptionType = "NONE";
      delete (inputs.tags as Record<string, string>)["mesh:product"];
    });
    assert.deepEqual(await messages(policy, resources), [unencrypted]);
  });
  it("leaves an unencrypted stream alone when nothing shares it", async () => {
    const resources = edit(without(mesh(), "songs-stream-policy"), "songs-stream", (inputs) => {
      inputs.encryptionType = "NONE";
      delete (inputs.tags as Record<string, string>)["mesh:product"];
    });
    assert.deepEqual(await messages(policy, resources), []);
  });
  it("treats a key id unknown during preview as customer-managed (a deployment cannot create an AWS-managed key)", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-stream", { kmsKeyId: UNKNOWN_STRING })), []);
  });
  it("could not check an encryption type unknown during preview", async () => {
    const result = await outcome(policy, edit(mesh(), "songs-stream", { encryptionType: UNKNOWN_STRING }));
    assert.deepEqual(result.couldNotCheck, [
      "Kinesis stream songs.plays encryption could not be checked during preview.",
    ]);
    assert.deepEqual(result.violations, []);
  });
});

describe("kinesis-retention-floor", () => {
  const policy = kinesisRetentionFloor;
  it("passes 168 hours in prod", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects less than 168 hours in prod (mesh:environment tag)", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-stream", { retentionPeriod: 48 })), [
      "Kinesis stream retention must be at least 168 hours (it is 48).",
    ]);
  });
  it("takes an unset retention as Kinesis' default of 24 hours", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "songs-stream", { retentionPeriod: undefined })), [
      "Kinesis stream retention must be at least 168 hours (it is 24).",
    ]);
  });
  it("applies 24 hours outside prod", async () => {
    const resources = edit(mesh(), "songs-stream", (inputs) => {
      inputs.retentionPeriod = 24;
      (inputs.tags as Record<string, string>)["mesh:environment"] = "dev";
    });
    assert.deepEqual(await messages(policy, resources), []);
  });
  it("prefers the configured environment to the tag", async () => {
    const resources = edit(mesh(), "songs-stream", { retentionPeriod: 24 });
    assert.deepEqual(
      await messages(policy, resources, { "kinesis-retention-floor": { environment: "dev" } }),
      [],
    );
  });
  it("applies a configured floor", async () => {
    const config = { "kinesis-retention-floor": { minRetentionHours: 336 } };
    assert.deepEqual(await messages(policy, mesh(), config), [
      "Kinesis stream retention must be at least 336 hours (it is 168).",
    ]);
  });
  it("could not check a retention unknown during preview", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "songs-stream", { retentionPeriod: UNKNOWN_STRING })),
      ["Kinesis stream retentionPeriod could not be checked during preview."],
    );
  });
});

describe("kinesis-retention-covers-consumers", () => {
  const policy = kinesisRetentionCoversConsumers;
  it("passes when the retention covers the longest record age", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("passes a retention exactly as long as the longest record age", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "analytics-esm", { maximumRecordAgeInSeconds: 604800 })),
      [],
    );
  });
  it("rejects a retention shorter than an event source mapping's maximumRecordAgeInSeconds", async () => {
    const resources = edit(mesh(), "analytics-esm", { maximumRecordAgeInSeconds: 604800 });
    assert.deepEqual(await messages(policy, edit(resources, "songs-stream", { retentionPeriod: 72 })), [
      "Kinesis stream songs.plays retention must be at least 168 hours to cover the maximumRecordAgeInSeconds 604800 of its event source mappings (it is 72).",
    ]);
  });
  it("finds the stream through an enhanced fan-out consumer ARN", async () => {
    const resources = edit(edit(mesh(), "songs-stream", { retentionPeriod: 24 }), "analytics-esm", {
      eventSourceArn: `${STREAM_ARN}/consumer/analytics.plays:1700000000`,
      maximumRecordAgeInSeconds: 90000,
    });
    assert.deepEqual(await messages(policy, resources), [
      "Kinesis stream songs.plays retention must be at least 25 hours to cover the maximumRecordAgeInSeconds 90000 of its event source mappings (it is 24).",
    ]);
  });
  it("could not check a mapping whose source is unknown during preview", async () => {
    const resources = edit(mesh(), "analytics-esm", { eventSourceArn: UNKNOWN_STRING });
    assert.deepEqual(await messages(policy, resources), [
      "Event source mapping analytics-esm eventSourceArn could not be checked during preview.",
    ]);
  });
});

describe("kinesis-policy-no-wildcard-principal", () => {
  const policy = kinesisPolicyNoWildcardPrincipal;
  it("passes account principals", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it('rejects Principal "*"', async () => {
    assert.deepEqual(
      await messages(policy, withPolicy(streamPolicyDocument(statement({ Principal: "*" })))),
      ["Kinesis resource policy statement 2 must not allow a wildcard principal."],
    );
  });
  it('rejects Principal { AWS: "*" }', async () => {
    assert.deepEqual(
      await messages(policy, withPolicy(streamPolicyDocument(statement({ Principal: { AWS: ["*"] } })))),
      ["Kinesis resource policy statement 2 must not allow a wildcard principal."],
    );
  });
  it("ignores Deny statements", async () => {
    const deny = statement({ Effect: "Deny", Principal: "*", Action: "kinesis:PutRecord" });
    assert.deepEqual(await messages(policy, withPolicy(streamPolicyDocument(deny))), []);
  });
  it("rejects a malformed document instead of crashing", async () => {
    assert.deepEqual(await messages(policy, withPolicy("{not json")), [
      "Kinesis resource policy must be a valid policy document (it is not valid JSON).",
    ]);
  });
  it("rejects a document without Statement", async () => {
    assert.deepEqual(await messages(policy, withPolicy(JSON.stringify({ Version: "2012-10-17" }))), [
      "Kinesis resource policy must be a valid policy document (it has no Statement).",
    ]);
  });
  it("reads a document given as an object", async () => {
    const document = JSON.parse(streamPolicyDocument(statement({ Principal: "*" })));
    assert.deepEqual(await messages(policy, withPolicy(document)), [
      "Kinesis resource policy statement 2 must not allow a wildcard principal.",
    ]);
  });
  it("could not check a document unknown during preview", async () => {
    assert.deepEqual(await messages(policy, withPolicy(UNKNOWN_STRING)), [
      "Kinesis resource policy could not be checked during preview.",
    ]);
  });
});

describe("kinesis-policy-least-privilege", () => {
  const policy = kinesisPolicyLeastPrivilege;
  it("passes the read, enhanced fan-out and producer actions", async () => {
    const all = statement({
      Action: [
        "kinesis:PutRecord",
        "kinesis:PutRecords",
        "kinesis:SubscribeToShard",
        "kinesis:DescribeStreamConsumer",
      ],
    });
    assert.deepEqual(await messages(policy, withPolicy(streamPolicyDocument(all))), []);
  });
  it("rejects kinesis:*", async () => {
    assert.deepEqual(
      await messages(policy, withPolicy(streamPolicyDocument(statement({ Action: "kinesis:*" })))),
      [
        "Kinesis resource policy statement 2 must only allow read, enhanced fan-out and producer actions (not kinesis:*).",
      ],
    );
  });
  it("rejects control-plane actions", async () => {
    const control = statement({
      Action: ["kinesis:GetRecords", "kinesis:DeleteStream", "kinesis:UpdateShardCount"],
    });
    assert.deepEqual(await messages(policy, withPolicy(streamPolicyDocument(control))), [
      "Kinesis resource policy statement 2 must only allow read, enhanced fan-out and producer actions (not kinesis:DeleteStream and kinesis:UpdateShardCount).",
    ]);
  });
  it("rejects NotAction", async () => {
    const notAction = statement({ Action: undefined, NotAction: "kinesis:DeleteStream" });
    assert.deepEqual(await messages(policy, withPolicy(streamPolicyDocument(notAction))), [
      "Kinesis resource policy statement 2 must list its actions rather than use NotAction.",
    ]);
  });
});

describe("kinesis-policy-own-resource", () => {
  const policy = kinesisPolicyOwnResource;
  it("passes statements naming the policy's stream", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects another stream", async () => {
    const other = `arn:aws:kinesis:eu-west-1:${ACCOUNTS.songs}:stream/songs.other`;
    assert.deepEqual(
      await messages(policy, withPolicy(streamPolicyDocument(statement({ Resource: [STREAM_ARN, other] })))),
      [
        `Kinesis resource policy statement 2 Resource must be the policy's own resourceArn ${STREAM_ARN} (not ${other}).`,
      ],
    );
  });
  it('rejects Resource "*"', async () => {
    assert.deepEqual(await messages(policy, withPolicy(streamPolicyDocument(statement({ Resource: "*" })))), [
      `Kinesis resource policy statement 2 Resource must be the policy's own resourceArn ${STREAM_ARN} (not *).`,
    ]);
  });
  it("rejects a statement without Resource", async () => {
    assert.deepEqual(
      await messages(policy, withPolicy(streamPolicyDocument(statement({ Resource: undefined })))),
      ["Kinesis resource policy statement 2 Resource must be the policy's own resourceArn."],
    );
  });
  it("could not check when the resourceArn is unknown during preview", async () => {
    const resources = edit(mesh(), "songs-stream-policy", { resourceArn: UNKNOWN_STRING });
    assert.deepEqual(await messages(policy, resources), [
      "Kinesis resource policy statement 1 Resource could not be checked during preview.",
    ]);
  });
});

describe("kinesis-one-resource-policy-per-stream", () => {
  const policy = kinesisOneResourcePolicyPerStream;
  const second = resource("aws:kinesis/resourcePolicy:ResourcePolicy", "songs-stream-policy-2", {
    resourceArn: STREAM_ARN,
    policy: streamPolicyDocument(),
  });
  it("passes one policy per stream", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects a second policy for the same stream", async () => {
    const expected =
      "Kinesis stream songs.plays must have one resource policy (this stack declares 2: songs-stream-policy and songs-stream-policy-2).";
    assert.deepEqual(await messages(policy, [...mesh(), second]), [expected, expected]);
  });
  it("keeps a consumer's policy apart from its stream's", async () => {
    const consumerPolicy = {
      ...second,
      inputs: { ...second.inputs, resourceArn: `${STREAM_ARN}/consumer/analytics.plays:1` },
    };
    assert.deepEqual(await messages(policy, [...mesh(), consumerPolicy]), []);
  });
  it("links policies through property dependencies when their ARNs are unknown during preview", async () => {
    const stream = mesh().find((r) => r.name === "songs-stream")!;
    const unknownArn = (r: typeof second) => ({
      ...r,
      inputs: { ...r.inputs, resourceArn: UNKNOWN_STRING },
      propertyDependencies: { resourceArn: [stream.urn] },
    });
    const resources = edit(mesh(), "songs-stream-policy", {});
    const first = unknownArn(resources.find((r) => r.name === "songs-stream-policy")!);
    const expected =
      "Kinesis stream songs.plays must have one resource policy (this stack declares 2: songs-stream-policy and songs-stream-policy-2).";
    assert.deepEqual(
      await messages(policy, [...without(resources, "songs-stream-policy"), first, unknownArn(second)]),
      [expected, expected],
    );
  });
});

describe("kinesis-efo-consumer-limit", () => {
  const policy = kinesisEfoConsumerLimit;
  const consumers = (count: number) =>
    Array.from({ length: count }, (_, index) =>
      resource("aws:kinesis/streamConsumer:StreamConsumer", `extra-${index}`, {
        name: `c${index}`,
        streamArn: STREAM_ARN,
      }),
    );
  it("passes 20 consumers", async () => {
    assert.deepEqual(await messages(policy, [...mesh(), ...consumers(19)]), []);
  });
  it("rejects a 21st consumer", async () => {
    assert.deepEqual(await messages(policy, [...mesh(), ...consumers(20)]), [
      "Kinesis stream songs.plays must have at most 20 enhanced fan-out consumers (this stack registers 21).",
    ]);
  });
  it("applies a configured limit", async () => {
    assert.deepEqual(
      await messages(policy, [...mesh(), ...consumers(1)], {
        "kinesis-efo-consumer-limit": { maxEfoConsumers: 1 },
      }),
      ["Kinesis stream songs.plays must have at most 1 enhanced fan-out consumers (this stack registers 2)."],
    );
  });
});

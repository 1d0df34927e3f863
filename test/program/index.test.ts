import { strict as assert } from "node:assert";
import { KEY_ADMIN_ACTIONS } from "../../components/kms";
import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { MeshConfigError } from "../../platform/mesh";
import { deployMesh } from "../../program";
import { runPlan } from "../../scripts/plan";
import { evaluateProgram, UNSERIALISED_PROVIDER } from "../../tooling/evaluate";
import { ACCOUNTS, fixtureDomains, fixtureStack, ORG } from "../fixtures/mesh";
import { evaluateFixture, policyOf, stackFile, type StackUnderTest } from "../helpers/stacks";
import { typescriptNodeArgs } from "../../tooling/node-args";

const INTERACTIONS_ARN = `arn:aws:kinesis:eu-west-1:${ACCOUNTS.interactions}:stream/interactions.interaction-events`;
const READ = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetRecords",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
];
const role = (domain: keyof typeof ACCOUNTS, subscription: string) =>
  `arn:aws:iam::${ACCOUNTS[domain]}:role/mesh-${domain}-${subscription}`;
const boundTo = (account: string, roleArn: string) => ({
  Principal: { AWS: `arn:aws:iam::${account}:root` },
  Condition: { ArnEquals: { "aws:PrincipalArn": roleArn }, StringEquals: { "aws:PrincipalOrgID": ORG } },
});

describe("the program under the mock runtime (fixture mesh)", () => {
  let dev: StackUnderTest;
  before(async () => {
    dev = await evaluateFixture("dev");
  });

  it("deploys every resource through the provider of its domain's account", () => {
    for (const resource of dev.resources) {
      if (resource.type.startsWith("pulumi:providers:")) continue;
      const unit = resource.name.split("-")[0] as keyof typeof ACCOUNTS;
      assert.equal(resource.account, ACCOUNTS[unit], `${resource.type} ${resource.name}`);
    }
    const providers = dev.ofType("pulumi:providers:aws");
    assert.equal(providers.length, 7);
    const songs = dev.named("account-songs");
    assert.deepEqual(songs.inputs.allowedAccountIds, [ACCOUNTS.songs]);
    assert.deepEqual(songs.inputs.assumeRoles, [
      { roleArn: `arn:aws:iam::${ACCOUNTS.songs}:role/mesh-deployer`, sessionName: "mesh-dev" },
    ]);
  });

  it("creates one encrypted stream per product in the producer's account, sized from the declaration", () => {
    const streams = dev.ofType("aws:kinesis/stream:Stream");
    assert.deepEqual(
      streams.map((s) => [s.inputs.name, s.account]),
      [
        ["users.user-events", ACCOUNTS.users],
        ["songs.song-events", ACCOUNTS.songs],
        ["podcasts.episode-events", ACCOUNTS.podcasts],
        ["interactions.interaction-events", ACCOUNTS.interactions],
      ],
    );
    const interactions = dev.named("interactions-interaction-events-stream");
    // 4 MiB/s -> 4 shards; 6,000 records/s -> 6; two standard consumers read 8 MiB/s, at most
    // half of each shard's 2 MiB/s (the rest kept for replays) -> 8.
    assert.deepEqual(interactions.inputs, {
      name: "interactions.interaction-events",
      retentionPeriod: 168,
      shardCount: 8,
      streamModeDetails: { streamMode: "PROVISIONED" },
      encryptionType: "KMS",
      kmsKeyId: `arn:aws:kms:eu-west-1:${ACCOUNTS.interactions}:key/interactions-interaction-events-key`,
      enforceConsumerDeletion: false,
      tags: {
        "mesh:domain": "interactions",
        "mesh:environment": "dev",
        "mesh:managed-by": "pulumi",
        "mesh:product": "interactions/interaction-events",
        "mesh:classification": "confidential",
      },
    });
    assert.ok(interactions.urn.includes("mesh:streaming:StreamingDomain$aws:kinesis/stream:Stream::"));
    assert.deepEqual(dev.named("podcasts-episode-events-stream").inputs.streamModeDetails, {
      streamMode: "ON_DEMAND",
    });
    assert.equal(dev.named("podcasts-episode-events-stream").inputs.shardCount, undefined);
  });

  it("writes one resource policy per stream granting exactly its subscribers least-privilege reads", () => {
    const policies = dev.ofType("aws:kinesis/resourcePolicy:ResourcePolicy");
    const onStreams = policies.filter((p) => !String(p.inputs.resourceArn).includes("/consumer/"));
    assert.equal(onStreams.length, 4);
    assert.equal(new Set(onStreams.map((p) => p.inputs.resourceArn)).size, 4);

    const policy = dev.named("interactions-interaction-events-stream-policy");
    assert.equal(policy.inputs.resourceArn, INTERACTIONS_ARN);
    assert.deepEqual(policyOf(policy).Statement, [
      {
        Sid: "ReadRecommendationsInteractionsUpdate",
        Effect: "Allow",
        ...boundTo(ACCOUNTS.recommendations, role("recommendations", "interactions-update")),
        Action: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards"],
        Resource: INTERACTIONS_ARN,
      },
      {
        Sid: "ReadAnalyticsInteractionsIngestor",
        Effect: "Allow",
        ...boundTo(ACCOUNTS.analytics, role("analytics", "interactions-ingestor")),
        Action: READ,
        Resource: INTERACTIONS_ARN,
      },
      {
        Sid: "ReadAnalyticsLiveFeed",
        Effect: "Allow",
        ...boundTo(ACCOUNTS.analytics, role("analytics", "live-feed")),
        Action: READ,
        Resource: INTERACTIONS_ARN,
      },
      {
        Sid: "PlatformAudit",
        Effect: "Allow",
        ...boundTo(ACCOUNTS.platform, `arn:aws:iam::${ACCOUNTS.platform}:role/mesh-auditor`),
        Action: ["kinesis:DescribeStreamSummary"],
        Resource: INTERACTIONS_ARN,
      },
      // Inside the producer's account too: whatever an IAM policy allows, these Denies win.
      {
        Sid: "OnlyDeclaredConsumersRead",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        Resource: INTERACTIONS_ARN,
        Condition: {
          ArnNotEquals: {
            "aws:PrincipalArn": [role("analytics", "interactions-ingestor"), role("analytics", "live-feed")],
          },
        },
      },
      {
        Sid: "OnlyTheProducerWrites",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: ["kinesis:PutRecord", "kinesis:PutRecords"],
        Resource: INTERACTIONS_ARN,
        Condition: {
          ArnNotEquals: {
            "aws:PrincipalArn": [`arn:aws:iam::${ACCOUNTS.interactions}:role/mesh-interactions-producer`],
          },
        },
      },
    ]);
  });

  it("registers the enhanced fan-out consumer in the stream's account with its own policy, after it exists", () => {
    const [consumer] = dev.ofType("aws:kinesis/streamConsumer:StreamConsumer");
    assert.equal(consumer!.account, ACCOUNTS.interactions);
    assert.equal(consumer!.inputs.name, "recommendations.interactions-update");
    assert.equal(consumer!.inputs.streamArn, INTERACTIONS_ARN);
    const policy = dev.named(
      "interactions-interaction-events-recommendations-interactions-update-consumer-policy",
    );
    const consumerArn = `${INTERACTIONS_ARN}/consumer/recommendations.interactions-update:1700000000`;
    assert.equal(policy.inputs.resourceArn, consumerArn);
    assert.deepEqual(policyOf(policy).Statement, [
      {
        Sid: "SubscribeRecommendationsInteractionsUpdate",
        Effect: "Allow",
        ...boundTo(ACCOUNTS.recommendations, role("recommendations", "interactions-update")),
        Action: ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
        Resource: consumerArn,
      },
      {
        Sid: "OnlyItsSubscriberReads",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: ["kinesis:SubscribeToShard"],
        Resource: consumerArn,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": [role("recommendations", "interactions-update")] } },
      },
    ]);
  });

  it("encrypts with a rotating customer-managed key whose policy lets only the producer and subscribers use it through Kinesis", () => {
    const key = dev.named("interactions-interaction-events-key");
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(key.inputs.deletionWindowInDays, 30);
    const viaKinesis = {
      "kms:ViaService": "kinesis.eu-west-1.amazonaws.com",
      "kms:EncryptionContext:aws:kinesis:arn": INTERACTIONS_ARN,
    };
    const decrypt = (subscription: string, domain: "recommendations" | "analytics") => ({
      Sid: `Decrypt${domain[0]!.toUpperCase()}${domain.slice(1)}${subscription
        .split("-")
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join("")}`,
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNTS[domain]}:root` },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        ArnEquals: { "aws:PrincipalArn": role(domain, subscription) },
        StringEquals: { "aws:PrincipalOrgID": ORG, ...viaKinesis },
      },
    });
    assert.deepEqual(policyOf(key).Statement, [
      {
        // Administered by the deploy role and the break-glass role, which cannot use the key.
        Sid: "KeyAdministrationWithoutUse",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNTS.interactions}:root` },
        Action: [...KEY_ADMIN_ACTIONS],
        Resource: "*",
        Condition: {
          ArnEquals: {
            "aws:PrincipalArn": [
              `arn:aws:iam::${ACCOUNTS.interactions}:role/mesh-deployer`,
              `arn:aws:iam::${ACCOUNTS.interactions}:role/mesh-break-glass`,
            ],
          },
        },
      },
      {
        Sid: "DeployerEncryptsStream",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNTS.interactions}:root` },
        Action: "kms:GenerateDataKey",
        Resource: "*",
        Condition: {
          ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNTS.interactions}:role/mesh-deployer` },
          StringEquals: viaKinesis,
        },
      },
      {
        Sid: "ProducerEncrypts",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNTS.interactions}:role/mesh-interactions-producer` },
        Action: "kms:GenerateDataKey",
        Resource: "*",
        Condition: { StringEquals: viaKinesis },
      },
      decrypt("interactions-update", "recommendations"),
      decrypt("interactions-ingestor", "analytics"),
      decrypt("live-feed", "analytics"),
    ]);
  });

  it("gives each producer domain one role that may only publish to its own streams", () => {
    const policy = dev.named("songs-producer-policy");
    assert.deepEqual(policyOf(policy).Statement, [
      {
        Sid: "PublishToOwnProducts",
        Effect: "Allow",
        Action: [
          "kinesis:PutRecord",
          "kinesis:PutRecords",
          "kinesis:DescribeStreamSummary",
          "kinesis:ListShards",
        ],
        Resource: [`arn:aws:kinesis:eu-west-1:${ACCOUNTS.songs}:stream/songs.song-events`],
        Condition: { StringEquals: { "aws:ResourceTag/mesh:domain": "songs" } },
      },
      {
        Sid: "EncryptThroughKinesis",
        Effect: "Allow",
        Action: "kms:GenerateDataKey",
        Resource: [`arn:aws:kms:eu-west-1:${ACCOUNTS.songs}:key/songs-song-events-key`],
        Condition: { StringEquals: { "kms:ViaService": "kinesis.eu-west-1.amazonaws.com" } },
      },
    ]);
  });

  it("publishes each contract to the domain's schema registry with BACKWARD compatibility", () => {
    const schema = dev.named("users-user-events-schema");
    assert.equal(schema.inputs.compatibility, "BACKWARD");
    assert.equal(schema.inputs.dataFormat, "JSON");
    const definition = JSON.parse(schema.inputs.schemaDefinition as string);
    assert.equal(definition.title, "users.user-events v2");
    assert.deepEqual(
      definition.oneOf.map(
        (variant: { properties: { type: { const: string } } }) => variant.properties.type.const,
      ),
      ["user.created", "user.updated"],
    );
  });

  it("alarms on write throttling and on iterator age at half the retention", () => {
    const age = dev.named("interactions-interaction-events-iterator-age");
    assert.equal(age.inputs.metricName, "GetRecords.IteratorAgeMilliseconds");
    assert.equal(age.inputs.threshold, (168 * 3600 * 1000) / 2);
    assert.deepEqual(age.inputs.dimensions, { StreamName: "interactions.interaction-events" });
    const throttled = dev.named("songs-song-events-write-throttled");
    assert.equal(throttled.inputs.metricName, "WriteProvisionedThroughputExceeded");
    assert.equal(throttled.inputs.threshold, 0);
    assert.deepEqual(throttled.inputs.alarmActions, [
      `arn:aws:sns:eu-west-1:${ACCOUNTS.songs}:songs-alarms-topic`,
    ]);
  });

  it("sets API Gateway's CloudWatch role once in each account with a push channel, and nowhere else", () => {
    const settings = dev.ofType("aws:apigateway/account:Account");
    assert.deepEqual(
      settings.map((s) => s.account),
      [ACCOUNTS.analytics],
    );
    assert.equal(
      settings[0]!.inputs.cloudwatchRoleArn,
      `arn:aws:iam::${ACCOUNTS.analytics}:role/mesh-apigateway-cloudwatch`,
    );
    const role = dev.ofType("aws:iam/role:Role").find((r) => r.inputs.name === "mesh-apigateway-cloudwatch")!;
    assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy as string).Statement, [
      {
        Effect: "Allow",
        Principal: { Service: "apigateway.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNTS.analytics } },
      },
    ]);
  });

  it("subscribes each domain's owner to its alarm topic, and exports the topics", () => {
    const subscriptions = dev.ofType("aws:sns/topicSubscription:TopicSubscription");
    for (const domain of fixtureDomains) {
      const owner = subscriptions.find((s) => s.name === `${domain.name}-alarms-owner`);
      assert.ok(owner, domain.name);
      assert.equal(owner.account, ACCOUNTS[domain.account as keyof typeof ACCOUNTS]);
      assert.deepEqual([owner.inputs.protocol, owner.inputs.endpoint], ["email", domain.owner.contact]);
      const exported = (dev.outputs.alarmTopics as Record<string, string>)[domain.name];
      assert.equal(owner.inputs.topic, exported);
    }
  });

  it("lets only CloudWatch and EventBridge use each alarm topic's key; the account administers it without using it", () => {
    for (const domain of fixtureDomains) {
      const key = dev.named(`${domain.name}-alarms-key`);
      const statements = policyOf(key).Statement;
      assert.deepEqual(
        statements.map((s) => s.Sid),
        ["KeyAdministrationWithoutUse", "CloudWatchPublishes", "EventBridgePublishes"],
      );
      const admin = statements[0]!;
      assert.deepEqual(admin.Action, [...KEY_ADMIN_ACTIONS]);
      assert.deepEqual(admin.Condition.ArnEquals["aws:PrincipalArn"], [
        `arn:aws:iam::${key.account}:role/mesh-deployer`,
        `arn:aws:iam::${key.account}:role/mesh-break-glass`,
      ]);
      assert.ok(!JSON.stringify(statements).includes('"kms:*"'), domain.name);
    }
  });

  it("leaves dev resources unprotected", () => {
    assert.deepEqual(
      dev.resources.filter((r) => r.protect || r.retainOnDelete),
      [],
    );
  });

  it("protects and retains every stateful resource in prod, and nothing else", async () => {
    const prod = await evaluateFixture("prod");
    const statefulTypes = new Set([
      "aws:kinesis/stream:Stream",
      "aws:kms/key:Key",
      "aws:dynamodb/table:Table",
      "aws:s3/bucket:Bucket",
      "aws:opensearch/domain:Domain",
    ]);
    for (const resource of prod.resources) {
      if (statefulTypes.has(resource.type)) {
        assert.ok(
          resource.protect && resource.retainOnDelete,
          `${resource.type} ${resource.name} is not protected`,
        );
      }
    }
    const protectedOthers = prod.resources.filter((r) => r.protect && !statefulTypes.has(r.type));
    assert.deepEqual(protectedOthers, []);
    assert.equal(prod.ofType("aws:kinesis/stream:Stream").length, 4);
    assert.ok(
      prod.ofType("aws:dynamodb/table:Table").every((t) => t.inputs.deletionProtectionEnabled === true),
    );
    assert.equal(prod.named("interactions-interaction-events-stream").inputs.retentionPeriod, 168);
    assert.equal(prod.named("songs-song-events-stream").inputs.retentionPeriod, 168);
  });

  it("deploys a producer team's stack with platform values read from the platform stack", async () => {
    const auditor = `arn:aws:iam::${ACCOUNTS.platform}:role/mesh-auditor-from-stack`;
    const songs = await evaluateFixture(
      "dev",
      { "mesh:units": ["songs"] },
      { peerStacks: { "acme/mesh/platform-dev": { platform: { auditorRoleArn: auditor } } } },
    );
    const accounts = new Set(songs.resources.filter((r) => r.account).map((r) => r.account));
    assert.deepEqual([...accounts], [ACCOUNTS.songs]);
    assert.deepEqual(
      songs.ofType("pulumi:pulumi:StackReference").map((r) => r.inputs.name),
      ["acme/mesh/platform-dev"],
    );
    const audit = policyOf(songs.named("songs-song-events-stream-policy")).Statement.find(
      (s) => s.Sid === "PlatformAudit",
    );
    assert.equal(audit.Condition.ArnEquals["aws:PrincipalArn"], auditor);
    assert.deepEqual(Object.keys(songs.outputs).sort(), ["alarmTopics", "products"]);
  });

  it("fails a producer team's stack with a clear error when the platform stack has not exported its outputs", async () => {
    await assert.rejects(
      evaluateFixture("dev", { "mesh:units": ["songs"] }, { peerStacks: { "acme/mesh/platform-dev": {} } }),
      /Required output 'platform' does not exist on stack 'acme\/mesh\/platform-dev'/,
    );
  });

  it("refuses a broken mesh before registering anything", async () => {
    const broken = fixtureDomains.map((d) => (d.name === "songs" ? { ...d, account: "nowhere" } : d));
    await assert.rejects(evaluateFixture("dev", {}, { domains: broken }), (error: unknown) => {
      assert.ok(error instanceof MeshConfigError);
      assert.deepEqual(error.problems, [
        "domains.songs.account: unknown account alias nowhere (known: platform, users, songs, podcasts, interactions, recommendations, analytics)",
      ]);
      return true;
    });
  });
});

describe("the SDK's debugging and provider serialisation during an evaluation", () => {
  // tooling/evaluate.ts turns them off while a program runs; other code in the process keeps them.
  it("are back as they were once an evaluation ends, whether it succeeded or failed", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: unknown };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const closure = require("@pulumi/pulumi/runtime/closure/serializeClosure") as {
      serializeFunction: typeof pulumi.runtime.serializeFunction;
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings") as { cacheDynamicProviders: unknown };
    const serialize = closure.serializeFunction;
    const cache = settings.cacheDynamicProviders;
    const wrap = debuggable.debuggablePromise;
    const limit = Error.stackTraceLimit;
    const callsites = (pulumi.Resource as unknown as { callsites: unknown }).callsites;
    let during: unknown;
    let provider: string | undefined;
    await evaluateFixture("dev", {}, {});
    await assert.rejects(
      evaluateProgram({
        stack: "dev",
        config: fixtureStack("dev"),
        program: async () => {
          during = debuggable.debuggablePromise;
          provider = (await closure.serializeFunction(() => undefined)).text;
          throw new Error("broken program");
        },
      }),
      /broken program/,
    );
    assert.notEqual(during, wrap, "off while the program runs");
    assert.equal(provider, UNSERIALISED_PROVIDER);
    assert.equal(closure.serializeFunction, serialize);
    assert.equal(settings.cacheDynamicProviders, cache);
    assert.equal(debuggable.debuggablePromise, wrap);
    assert.equal(Error.stackTraceLimit, limit);
    assert.equal((pulumi.Resource as unknown as { callsites: unknown }).callsites, callsites);
    assert.equal(String(new Error("x").stack).includes("index.test.ts"), true);
  });
});

describe("handler declarations (fixture mesh)", () => {
  it("refuses a missing handler file or one without a handler export before registering anything", async () => {
    const dir = mkdtempSync(join(tmpdir(), "handlers-"));
    mkdirSync(join(dir, "analytics"));
    writeFileSync(join(dir, "analytics", "handler.ts"), "export const process = () => undefined;\n");
    const registered: string[] = [];
    const broken = fixtureDomains.filter((d) => d.name !== "recommendations");
    await assert.rejects(
      evaluateProgram({
        stack: "dev",
        config: fixtureStack("dev"),
        program: () => {
          pulumi.runtime.registerStackTransformation((args) => {
            registered.push(args.name);
            return undefined;
          });
          return deployMesh(
            broken.map((d) =>
              d.name === "analytics"
                ? {
                    ...d,
                    subscriptions: d.subscriptions.map((s, i) => (i ? { ...s, handler: "gone.ts" } : s)),
                  }
                : d,
            ),
            {},
            dir,
          );
        },
      }),
      (error: unknown) => {
        assert.ok(error instanceof MeshConfigError);
        assert.deepEqual(error.problems, [
          `domains.analytics.subscriptions[0].handler: ${relative(process.cwd(), join(dir, "analytics", "handler.ts"))} does not export a function named handler`,
          `domains.analytics.subscriptions[1].handler: no file ${relative(process.cwd(), join(dir, "analytics", "gone.ts"))} (handler paths are relative to the domain's folder)`,
        ]);
        return true;
      },
    );
    assert.deepEqual(registered, []);
  });
});

describe("npm run plan", function () {
  // Each test plans the shipped mesh in a child process: minutes on a loaded machine.
  this.timeout(600_000);
  const root = join(__dirname, "..", "..");
  const plan = (cwd: string, stack: string) =>
    spawnSync(process.execPath, [...typescriptNodeArgs(), join(root, "scripts", "plan.ts"), stack], {
      cwd,
      encoding: "utf8",
    });

  // In this process: the command's exit code and output streams are tested below, on a broken stack.
  it("writes the plan of a stack with every resource's account, parent and options", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "plan-"));
    writeFileSync(join(cwd, "Pulumi.dev.yaml"), stringify({ config: stackFile("dev") }));
    const lines: string[] = [];
    const code = await runPlan({ stack: "dev", cwd, log: (line) => lines.push(line) });
    assert.equal(code, 0, lines.join("\n").slice(-3000));
    assert.match(lines.join("\n"), /platform \(\d{12}\): \d+ resources/);
    const written = JSON.parse(readFileSync(join(cwd, "plan", "dev.json"), "utf8"));
    assert.equal(written.stack, "dev");
    const accounts = stackFile("dev")["mesh:accounts"] as Record<string, { id: string }>;
    assert.deepEqual(
      written.accounts,
      Object.fromEntries(Object.entries(accounts).map(([alias, account]) => [alias, account.id])),
    );
    const stream = written.resources.find((r: { type: string }) => r.type === "aws:kinesis/stream:Stream");
    assert.deepEqual(Object.keys(stream), [
      "urn",
      "type",
      "name",
      "id",
      "account",
      "parent",
      "protect",
      "retainOnDelete",
      "inputs",
    ]);
    assert.match(
      stream.parent,
      /^urn:pulumi:dev::mesh::pulumi:pulumi:Stack\$mesh:streaming:StreamingDomain::[a-z-]+$/,
    );
  });

  it("prints every problem of a broken stack config, exits non-zero and writes nothing", () => {
    const cwd = mkdtempSync(join(tmpdir(), "plan-"));
    const config = { ...stackFile("dev"), "mesh:organizationId": "acme", "mesh:defaultRetentionHours": 12 };
    writeFileSync(join(cwd, "Pulumi.broken.yaml"), stringify({ config }));
    const result = plan(cwd, "broken");
    assert.equal(result.status, 1);
    assert.match(result.stderr, /config\.organizationId: must be an AWS Organizations id \(o-\.\.\.\)/);
    assert.match(result.stderr, /config\.defaultRetentionHours: Too small: expected number to be >=24/);
    assert.equal(existsSync(join(cwd, "plan")), false);
  });
});

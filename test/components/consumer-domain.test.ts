import { strict as assert } from "node:assert";
import type { DomainDeclaration } from "../../platform/declarations";
import type { PlannedResource } from "../../tooling/evaluate";
import { fixtureDomains } from "../fixtures/mesh";
import { evaluateFixture, policyOf, type StackUnderTest } from "../helpers/stacks";

const RECOMMENDATIONS = "210987654326";
const ANALYTICS = "210987654327";
const INTERACTIONS_ARN = "arn:aws:kinesis:eu-west-1:210987654325:stream/interactions.interaction-events";
const SONGS_ARN = "arn:aws:kinesis:eu-west-1:210987654323:stream/songs.song-events";
const EFO_ARN = `${INTERACTIONS_ARN}/consumer/recommendations.interactions-update:1700000000`;

const statementsOf = (stack: StackUnderTest, name: string) => policyOf(stack.named(name)).Statement;

describe("ConsumerDomain", () => {
  let dev: StackUnderTest;
  before(async () => {
    dev = await evaluateFixture("dev");
  });

  it("runs one function per subscription in the consumer's account, with its declared name and role", () => {
    const functions = dev.ofType("aws:lambda/function:Function").filter((f) => !f.name.includes("-push-"));
    const consumers = functions.filter((f) =>
      /^mesh-(recommendations|analytics)-[a-z-]+$/.test(String(f.inputs.name)),
    );
    assert.deepEqual(consumers.map((f) => [f.inputs.name, f.account]).sort(), [
      ["mesh-analytics-interactions-ingestor", ANALYTICS],
      ["mesh-analytics-live-feed", ANALYTICS],
      ["mesh-recommendations-interactions-update", RECOMMENDATIONS],
      ["mesh-recommendations-podcasts-update", RECOMMENDATIONS],
      ["mesh-recommendations-songs-update", RECOMMENDATIONS],
      ["mesh-recommendations-users-update", RECOMMENDATIONS],
    ]);
    const fn = dev.named("recommendations-songs-update-function");
    assert.equal(fn.inputs.runtime, "nodejs22.x");
    assert.equal(fn.inputs.role, `arn:aws:iam::${RECOMMENDATIONS}:role/mesh-recommendations-songs-update`);
    assert.deepEqual(fn.inputs.tracingConfig, { mode: "Active" });
    assert.match(String(fn.inputs.sourceCodeHash), /^[A-Za-z0-9+/]{43}=$/);
    const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    assert.equal(env.IDEMPOTENCY_TABLE, "mesh-recommendations-idempotency");
    assert.equal(env.IDEMPOTENCY_TTL_SECONDS, "21600");
  });

  it("maps the shared-replay subscription from the stream with the safe defaults", () => {
    const mapping = dev.named("recommendations-songs-update-mapping");
    assert.deepEqual(mapping.inputs, {
      functionName: `arn:aws:lambda:eu-west-1:${RECOMMENDATIONS}:function:mesh-recommendations-songs-update`,
      eventSourceArn: SONGS_ARN,
      startingPosition: "TRIM_HORIZON",
      batchSize: 100,
      maximumBatchingWindowInSeconds: 1,
      parallelizationFactor: 1,
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: 21600,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ["ReportBatchItemFailures"],
      destinationConfig: { onFailure: { destinationArn: "arn:aws:s3:::recommendations-failures-mock" } },
      metricsConfig: { metrics: ["EventCount"] },
      tags: { "mesh:domain": "recommendations", "mesh:environment": "dev", "mesh:managed-by": "pulumi" },
    });
  });

  it("maps the enhanced fan-out subscription from its registered consumer, with the declared overrides", () => {
    const mapping = dev.named("recommendations-interactions-update-mapping");
    assert.equal(mapping.inputs.eventSourceArn, EFO_ARN);
    assert.equal(mapping.inputs.batchSize, 500);
    assert.equal(mapping.inputs.parallelizationFactor, 2);
    const statements = statementsOf(dev, "recommendations-interactions-update-policy");
    assert.deepEqual(
      statements.find((s) => s.Sid === "SubscribeInteractionsInteractionEvents"),
      {
        Sid: "SubscribeInteractionsInteractionEvents",
        Effect: "Allow",
        Action: ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
        Resource: EFO_ARN,
        // ABAC on the enhanced fan-out path too: the registered consumer carries the product tag.
        Condition: { StringEquals: { "aws:ResourceTag/mesh:product": "interactions/interaction-events" } },
      },
    );
  });

  it("filters the filtered subscription with patterns generated from its typed rules", () => {
    const mapping = dev.named("analytics-interactions-ingestor-mapping");
    assert.equal(mapping.inputs.eventSourceArn, INTERACTIONS_ARN);
    const filters = (mapping.inputs.filterCriteria as { filters: { pattern: string }[] }).filters;
    assert.deepEqual(
      filters.map((f) => JSON.parse(f.pattern)),
      [
        { data: { type: ["interaction.play"], data: { playedMs: [{ numeric: [">=", 30000] }] } } },
        { data: { type: ["interaction.like", "interaction.follow"] } },
      ],
    );
  });

  it("gives each consumer role exactly its stream, the producer's key through Kinesis, and its own state", () => {
    const statements = statementsOf(dev, "recommendations-songs-update-policy");
    assert.deepEqual(
      statements.map((s) => s.Sid),
      [
        "WriteOwnLogs",
        "WriteTraces",
        "ReadSongsSongEvents",
        "DecryptSongsSongEvents",
        "DeduplicateOnEventId",
        "KeepFailedBatches",
        "ListFailureBucket",
        "UseDomainDataKey",
        ...statements.slice(8).map((s) => s.Sid),
      ],
    );
    assert.deepEqual(statements[2], {
      Sid: "ReadSongsSongEvents",
      Effect: "Allow",
      Action: [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ],
      Resource: SONGS_ARN,
      Condition: { StringEquals: { "aws:ResourceTag/mesh:product": "songs/song-events" } },
    });
    assert.deepEqual(statements[3], {
      Sid: "DecryptSongsSongEvents",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: "arn:aws:kms:eu-west-1:210987654323:key/songs-song-events-key",
      Condition: {
        StringEquals: {
          "kms:ViaService": "kinesis.eu-west-1.amazonaws.com",
          "kms:EncryptionContext:aws:kinesis:arn": SONGS_ARN,
        },
      },
    });
    const kinesisResources = statements
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith("kinesis:")))
      .map((s) => s.Resource);
    assert.deepEqual(kinesisResources, [SONGS_ARN]);
  });

  it("keeps failed batches in a private, encrypted, versioned bucket for replay, and deduplicates in an encrypted table", () => {
    const buckets = dev.ofType("aws:s3/bucket:Bucket", "recommendations-failures");
    assert.equal(buckets.length, 1);
    assert.equal(buckets[0]!.inputs.forceDestroy, false);
    assert.deepEqual(dev.named("recommendations-failures-public-access").inputs, {
      bucket: "recommendations-failures-mock",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const encryption = dev.named("recommendations-failures-encryption").inputs.rules as any[];
    assert.equal(encryption[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
    assert.equal(
      encryption[0].applyServerSideEncryptionByDefault.kmsMasterKeyId,
      `arn:aws:kms:eu-west-1:${RECOMMENDATIONS}:key/recommendations-data-key`,
    );
    const tls = statementsOf(dev, "recommendations-failures-policy")[0];
    assert.deepEqual(tls.Condition, { Bool: { "aws:SecureTransport": false } });
    assert.equal(tls.Effect, "Deny");
    const table = dev.named("recommendations-idempotency");
    assert.equal(table.inputs.hashKey, "id");
    assert.deepEqual(table.inputs.ttl, { attributeName: "expiration", enabled: true });
    assert.deepEqual(table.inputs.serverSideEncryption, {
      enabled: true,
      kmsKeyArn: `arn:aws:kms:eu-west-1:${RECOMMENDATIONS}:key/recommendations-data-key`,
    });
  });

  it("alarms on iterator age, function errors and records sent to the failure destination", () => {
    const alarms = dev.ofType("aws:cloudwatch/metricAlarm:MetricAlarm", "analytics-interactions-ingestor-");
    assert.deepEqual(
      alarms.map((a) => [a.inputs.metricName, a.inputs.threshold]),
      [
        ["IteratorAge", (168 * 3600 * 1000) / 2],
        ["Errors", 0],
        ["OnFailureDestinationDeliveredEventCount", 0],
      ],
    );
    assert.deepEqual(alarms[2]!.inputs.dimensions, {
      EventSourceMappingUUID: "analytics-interactions-ingestor-mapping-uuid",
    });
  });

  it("pushes the push-without-replay subscription over an authorised WebSocket API", () => {
    const api = dev.named("analytics-live-feed-push-api");
    assert.equal(api.inputs.protocolType, "WEBSOCKET");
    const routes = dev.ofType("aws:apigatewayv2/route:Route", "analytics-live-feed-push");
    assert.deepEqual(
      routes.map((r) => [r.inputs.routeKey, r.inputs.authorizationType]),
      [
        ["$connect", "CUSTOM"],
        ["$disconnect", "NONE"],
      ],
    );
    const stage = dev.named("analytics-live-feed-push-stage");
    assert.deepEqual(stage.inputs.defaultRouteSettings, {
      throttlingRateLimit: 100,
      throttlingBurstLimit: 200,
      loggingLevel: "ERROR",
    });
    assert.ok(
      (stage.inputs.accessLogSettings as { destinationArn: string }).destinationArn.includes(
        "/aws/apigateway/",
      ),
    );
    const permissions = dev.ofType("aws:lambda/permission:Permission", "analytics-live-feed-push");
    assert.ok(
      permissions.every((p) => String(p.inputs.sourceArn).startsWith("arn:aws:execute-api:eu-west-1:")),
    );
    const env = (
      dev.named("analytics-live-feed-function").inputs.environment as { variables: Record<string, string> }
    ).variables;
    assert.equal(env.CONNECTIONS_TABLE, "mesh-analytics-live-feed-connections");
    assert.equal(
      env.WEBSOCKET_ENDPOINT,
      "https://analytics-live-feed-push-api-id.execute-api.eu-west-1.amazonaws.com/live",
    );
    const authorizerEnv = (
      dev.named("analytics-live-feed-push-authorizer-function").inputs.environment as {
        variables: Record<string, string>;
      }
    ).variables;
    assert.equal(
      authorizerEnv.PUSH_TOKEN_SHA256,
      "d07f963c2bb7a3cc74a910e51ca0075b194da412a93737881f105a55156a988f",
    );
    assert.equal(dev.named("analytics-live-feed-mapping").inputs.startingPosition, "LATEST");
  });

  it("lets producers grant exactly the consumers the mesh declares, and nobody else", () => {
    const consumerRoles = dev
      .ofType("aws:lambda/function:Function")
      .filter((f) =>
        dev
          .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
          .some((m) => String(m.inputs.functionName).endsWith(`:${f.inputs.name}`)),
      )
      .map((f) => String(f.inputs.role))
      .sort();
    const granted = dev
      .ofType("aws:kinesis/resourcePolicy:ResourcePolicy")
      .flatMap((p: PlannedResource) => policyOf(p).Statement)
      .filter((s) => s.Effect === "Allow" && s.Sid !== "PlatformAudit")
      .map((s) => s.Condition.ArnEquals["aws:PrincipalArn"] as string);
    assert.deepEqual([...new Set(granted)].sort(), consumerRoles);
    const decryptors = dev
      .ofType("aws:kms/key:Key")
      .flatMap((k) => policyOf(k).Statement)
      .filter((s) => s.Action === "kms:Decrypt")
      .map((s) => s.Condition.ArnEquals["aws:PrincipalArn"] as string);
    assert.deepEqual([...decryptors].sort(), consumerRoles);
  });

  it("replays from a point in time when a subscription declares AT_TIMESTAMP", async () => {
    const replaying = fixtureDomains.map((d): DomainDeclaration =>
      d.name === "recommendations"
        ? {
            ...d,
            subscriptions: d.subscriptions.map((s) =>
              s.name === "users-update"
                ? {
                    ...s,
                    delivery: { startingPosition: "AT_TIMESTAMP", startingTimestamp: "2026-11-01T00:00:00Z" },
                  }
                : s,
            ),
          }
        : d,
    );
    const stack = await evaluateFixture("dev", {}, { domains: replaying });
    const mapping = stack.named("recommendations-users-update-mapping");
    assert.equal(mapping.inputs.startingPosition, "AT_TIMESTAMP");
    assert.equal(mapping.inputs.startingPositionTimestamp, "2026-11-01T00:00:00Z");
  });

  it("deploys a consumer team's stack with the producers' streams, keys and consumers read from their stacks", async () => {
    const product = (domain: string, name: string, account: string, efo: Record<string, string> = {}) => ({
      [`${domain}/${name}`]: {
        streamArn: `arn:aws:kinesis:eu-west-1:${account}:stream/${domain}.${name}`,
        streamName: `${domain}.${name}`,
        keyArn: `arn:aws:kms:eu-west-1:${account}:key/from-stack-${domain}`,
        efoConsumerArns: efo,
      },
    });
    const efoArn = `${INTERACTIONS_ARN}/consumer/recommendations.interactions-update:1800000000`;
    const stack = await evaluateFixture(
      "dev",
      { "mesh:units": ["recommendations"] },
      {
        peerStacks: {
          "acme/mesh/users-dev": { products: product("users", "user-events", "210987654322") },
          "acme/mesh/songs-dev": { products: product("songs", "song-events", "210987654323") },
          "acme/mesh/podcasts-dev": { products: product("podcasts", "episode-events", "210987654324") },
          "acme/mesh/interactions-dev": {
            products: product("interactions", "interaction-events", "210987654325", {
              "recommendations/interactions-update": efoArn,
            }),
          },
        },
      },
    );
    assert.deepEqual(
      stack
        .ofType("pulumi:pulumi:StackReference")
        .map((r) => r.inputs.name)
        .sort(),
      ["acme/mesh/interactions-dev", "acme/mesh/podcasts-dev", "acme/mesh/songs-dev", "acme/mesh/users-dev"],
    );
    assert.deepEqual(
      [...new Set(stack.resources.filter((r) => r.account).map((r) => r.account))],
      [RECOMMENDATIONS],
    );
    assert.equal(stack.ofType("aws:kinesis/stream:Stream").length, 0);
    assert.equal(stack.named("recommendations-interactions-update-mapping").inputs.eventSourceArn, efoArn);
    const decrypt = statementsOf(stack, "recommendations-users-update-policy").find(
      (s) => s.Sid === "DecryptUsersUserEvents",
    );
    assert.equal(decrypt.Resource, "arn:aws:kms:eu-west-1:210987654322:key/from-stack-users");
  });
});

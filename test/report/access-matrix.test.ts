import { strict as assert } from "node:assert";
import { loadMesh, type Mesh } from "../../platform/mesh";
import type { PlannedResource } from "../../tooling/evaluate";
import {
  accessMatrix,
  formatAccessMatrix,
  ViolationKind,
  type AccessRow,
  type Plan,
} from "../../tooling/report/access-matrix";
import { ACCOUNTS, fixtureConfig, fixtureDomains, ORG } from "../fixtures/mesh";
import { evaluateFixture } from "../helpers/stacks";

const PRODUCT = "interactions/interaction-events";
const STREAM = `arn:aws:kinesis:eu-west-1:${ACCOUNTS.interactions}:stream/interactions.interaction-events`;
const READ = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetRecords",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
];
const role = (account: keyof typeof ACCOUNTS, name: string) =>
  `arn:aws:iam::${ACCOUNTS[account]}:role/${name}`;
const fn = (account: keyof typeof ACCOUNTS, name: string) =>
  `arn:aws:lambda:eu-west-1:${ACCOUNTS[account]}:function:${name}`;
const common = { product: PRODUCT, streamName: "interactions.interaction-events", streamArn: STREAM };

type Statement = Record<string, unknown>;

/** A copy of the plan with one resource's policy document rewritten. */
function withPolicy(plan: Plan, name: string, edit: (statements: Statement[]) => Statement[]): Plan {
  return {
    ...plan,
    resources: plan.resources.map((r) => {
      if (r.name !== name) return r;
      const document = JSON.parse(r.inputs.policy as string) as { Statement: Statement[] };
      return {
        ...r,
        inputs: { ...r.inputs, policy: JSON.stringify({ ...document, Statement: edit(document.Statement) }) },
      };
    }),
  };
}

const boundTo = (account: string, roleArn: string) => ({
  Principal: { AWS: `arn:aws:iam::${account}:root` },
  Condition: { ArnEquals: { "aws:PrincipalArn": roleArn }, StringEquals: { "aws:PrincipalOrgID": ORG } },
});

describe("report: access matrix of the dev plan", () => {
  let plan: Plan;
  let mesh: Mesh;
  before(async () => {
    const dev = await evaluateFixture("dev");
    plan = { stack: "dev", resources: dev.resources };
    mesh = loadMesh(fixtureConfig("dev"), fixtureDomains);
  });

  it("derives who may use interactions/interaction-events, and how, from the generated policies", () => {
    const rows = accessMatrix(plan, mesh).rows.filter((r) => r.product === PRODUCT);
    const expected: AccessRow[] = [
      {
        ...common,
        accountId: ACCOUNTS.interactions,
        accountAlias: "interactions",
        roleArn: role("interactions", "mesh-interactions-producer"),
        access: "write",
        actions: [
          "kinesis:DescribeStreamSummary",
          "kinesis:ListShards",
          "kinesis:PutRecord",
          "kinesis:PutRecords",
        ],
        grantedBy: ["role policy mesh-interactions-producer: PublishToOwnProducts"],
        party: "producer",
        subscription: null,
        pattern: null,
        filters: [],
        functions: [],
        keyGrant: true,
      },
      {
        ...common,
        accountId: ACCOUNTS.analytics,
        accountAlias: "analytics",
        roleArn: role("analytics", "mesh-analytics-interactions-ingestor"),
        access: "read",
        actions: READ,
        grantedBy: ["stream policy: ReadAnalyticsInteractionsIngestor"],
        party: "subscriber",
        subscription: "analytics/interactions-ingestor",
        pattern: "filtered",
        filters: [
          '{"data":{"type":["interaction.play"],"data":{"playedMs":[{"numeric":[">=",30000]}]}}}',
          '{"data":{"type":["interaction.like","interaction.follow"]}}',
        ],
        functions: [fn("analytics", "mesh-analytics-interactions-ingestor")],
        keyGrant: true,
      },
      {
        ...common,
        accountId: ACCOUNTS.analytics,
        accountAlias: "analytics",
        roleArn: role("analytics", "mesh-analytics-live-feed"),
        access: "read",
        actions: READ,
        grantedBy: ["stream policy: ReadAnalyticsLiveFeed"],
        party: "subscriber",
        subscription: "analytics/live-feed",
        pattern: "push-without-replay",
        filters: [],
        functions: [fn("analytics", "mesh-analytics-live-feed")],
        keyGrant: true,
      },
      {
        ...common,
        accountId: ACCOUNTS.recommendations,
        accountAlias: "recommendations",
        roleArn: role("recommendations", "mesh-recommendations-interactions-update"),
        access: "enhanced-fan-out",
        actions: [
          "kinesis:DescribeStream",
          "kinesis:DescribeStreamConsumer",
          "kinesis:DescribeStreamSummary",
          "kinesis:ListShards",
          "kinesis:SubscribeToShard",
        ],
        grantedBy: [
          "stream policy: ReadRecommendationsInteractionsUpdate",
          "consumer policy recommendations.interactions-update: SubscribeRecommendationsInteractionsUpdate",
        ],
        party: "subscriber",
        subscription: "recommendations/interactions-update",
        pattern: "enhanced-fan-out",
        filters: [],
        functions: [fn("recommendations", "mesh-recommendations-interactions-update")],
        keyGrant: true,
      },
      {
        ...common,
        accountId: ACCOUNTS.platform,
        accountAlias: "platform",
        roleArn: role("platform", "mesh-auditor"),
        access: "describe-only",
        actions: ["kinesis:DescribeStreamSummary"],
        grantedBy: ["stream policy: PlatformAudit"],
        party: "auditor",
        subscription: null,
        pattern: null,
        filters: [],
        functions: [],
        keyGrant: null,
      },
    ];
    assert.deepStrictEqual(rows, expected);
  });

  it("covers every stream of the plan and finds no violation in the dev mesh", () => {
    const matrix = accessMatrix(plan, mesh);
    assert.deepStrictEqual(
      matrix.products.map((p) => p.product),
      ["users/user-events", "songs/song-events", "podcasts/episode-events", PRODUCT],
    );
    assert.deepStrictEqual(matrix.violations, []);
    // One write row (the producer) and one describe-only row (the auditor) per product.
    for (const product of matrix.products) {
      const rows = matrix.rows.filter((r) => r.product === product.product);
      assert.deepStrictEqual(
        rows.filter((r) => r.access === "write").map((r) => r.party),
        ["producer"],
      );
      assert.deepStrictEqual(
        rows.filter((r) => r.access === "describe-only").map((r) => r.roleArn),
        [role("platform", "mesh-auditor")],
      );
    }
  });

  it("names a role that a stream policy lets read records without a subscription", () => {
    const rogue = role("analytics", "mesh-analytics-rogue");
    const mutated = withPolicy(plan, "interactions-interaction-events-stream-policy", (statements) => [
      ...statements,
      {
        Sid: "ReadAnalyticsRogue",
        Effect: "Allow",
        ...boundTo(ACCOUNTS.analytics, rogue),
        Action: ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        Resource: STREAM,
      },
    ]);
    const matrix = accessMatrix(mutated, mesh);
    assert.deepStrictEqual(matrix.violations, [
      {
        kind: ViolationKind.ReadWithoutSubscription,
        product: PRODUCT,
        roleArn: rogue,
        accountId: ACCOUNTS.analytics,
        message:
          "mesh-analytics-rogue in analytics (210987654327) can read interactions/interaction-events without a subscription.",
      },
    ]);
    const row = matrix.rows.find((r) => r.roleArn === rogue)!;
    assert.equal(row.access, "read");
    assert.equal(row.party, "unknown");
    // The stream's key policy does not name the rogue role: it could not decrypt what it reads.
    assert.equal(row.keyGrant, false);
    assert.match(formatAccessMatrix(matrix), /1 violation\(s\):\n {2}- mesh-analytics-rogue in analytics/);
  });

  it("expands wildcards and reports a grant to a whole account", () => {
    const mutated = withPolicy(plan, "interactions-interaction-events-stream-policy", (statements) => [
      ...statements,
      {
        Sid: "Everyone",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNTS.analytics}:root` },
        Action: "kinesis:Get*",
        Resource: STREAM,
      },
    ]);
    const { violations, rows } = accessMatrix(mutated, mesh);
    assert.deepStrictEqual(
      violations.map((v) => v.message),
      [
        "every principal (arn:aws:iam::210987654327:root) in analytics (210987654327) can read interactions/interaction-events without a subscription.",
      ],
    );
    assert.deepStrictEqual(
      rows.find((r) => r.roleArn === `arn:aws:iam::${ACCOUNTS.analytics}:root`)!.actions,
      ["kinesis:GetRecords", "kinesis:GetResourcePolicy", "kinesis:GetShardIterator"],
    );
  });

  it("reads identity policies of roles in the stream's own account", () => {
    const debug = role("interactions", "mesh-interactions-debug");
    const extra: PlannedResource = {
      urn: "urn:pulumi:dev::mesh::aws:iam/rolePolicy:RolePolicy::interactions-debug-policy",
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "interactions-debug-policy",
      id: "interactions-debug-policy-id",
      account: ACCOUNTS.interactions,
      parent: null,
      protect: false,
      retainOnDelete: false,
      inputs: {
        role: "mesh-interactions-debug",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "Debug", Effect: "Allow", Action: "kinesis:GetRecords", Resource: `${STREAM}*` },
          ],
        }),
      },
    };
    const { violations } = accessMatrix({ ...plan, resources: [...plan.resources, extra] }, mesh);
    assert.deepStrictEqual(
      violations.map((v) => [v.kind, v.roleArn, v.message]),
      [
        [
          ViolationKind.ReadWithoutSubscription,
          debug,
          "mesh-interactions-debug in interactions (210987654325) can read interactions/interaction-events without a subscription.",
        ],
      ],
    );
  });

  it("reports a subscription whose grant was removed: it would fail at runtime", () => {
    const mutated = withPolicy(plan, "interactions-interaction-events-stream-policy", (statements) =>
      statements.filter((s) => s.Sid !== "ReadAnalyticsLiveFeed"),
    );
    const matrix = accessMatrix(mutated, mesh);
    assert.equal(
      matrix.rows.some((r) => r.roleArn === role("analytics", "mesh-analytics-live-feed")),
      false,
    );
    assert.deepStrictEqual(matrix.violations, [
      {
        kind: ViolationKind.SubscriptionWithoutGrant,
        product: PRODUCT,
        roleArn: role("analytics", "mesh-analytics-live-feed"),
        accountId: ACCOUNTS.analytics,
        message:
          "analytics/live-feed: mesh-analytics-live-feed in analytics (210987654327) subscribes to interactions/interaction-events (push-without-replay) but no policy in the plan grants it kinesis:GetRecords; it would fail at runtime.",
      },
    ]);
  });

  it("reports an enhanced fan-out subscription whose consumer policy was removed", () => {
    const mutated = {
      ...plan,
      resources: plan.resources.filter(
        (r) =>
          r.name !== "interactions-interaction-events-recommendations-interactions-update-consumer-policy",
      ),
    };
    const matrix = accessMatrix(mutated, mesh);
    const row = matrix.rows.find(
      (r) => r.roleArn === role("recommendations", "mesh-recommendations-interactions-update"),
    )!;
    // The stream statement alone lets it describe the stream, not read it.
    assert.equal(row.access, "describe-only");
    assert.deepStrictEqual(
      matrix.violations.map((v) => v.message),
      [
        "recommendations/interactions-update: mesh-recommendations-interactions-update in recommendations (210987654326) subscribes to interactions/interaction-events (enhanced-fan-out) but no policy in the plan grants it kinesis:SubscribeToShard; it would fail at runtime.",
      ],
    );
  });

  it("subtracts an unconditional Deny", () => {
    const liveFeed = role("analytics", "mesh-analytics-live-feed");
    const mutated = withPolicy(plan, "interactions-interaction-events-stream-policy", (statements) => [
      ...statements,
      {
        Sid: "DenyLiveFeed",
        Effect: "Deny",
        Principal: { AWS: liveFeed },
        Action: "kinesis:GetRecords",
        Resource: STREAM,
      },
    ]);
    const { violations } = accessMatrix(mutated, mesh);
    assert.deepStrictEqual(
      violations.map((v) => [v.kind, v.roleArn]),
      [[ViolationKind.SubscriptionWithoutGrant, liveFeed]],
    );
  });

  it("reports a subscriber the stream's key policy does not let decrypt", () => {
    const mutated = withPolicy(plan, "interactions-interaction-events-key", (statements) =>
      statements.filter((s) => s.Sid !== "DecryptAnalyticsInteractionsIngestor"),
    );
    const { violations, rows } = accessMatrix(mutated, mesh);
    assert.equal(
      rows.find((r) => r.roleArn === role("analytics", "mesh-analytics-interactions-ingestor"))!.keyGrant,
      false,
    );
    assert.deepStrictEqual(
      violations.map((v) => v.message),
      [
        "analytics/interactions-ingestor: mesh-analytics-interactions-ingestor in analytics (210987654327) subscribes to interactions/interaction-events (filtered) but the stream's key policy does not let it kms:Decrypt; it would fail at runtime.",
      ],
    );
  });

  it("reports a writer the stream's key does not let generate data keys (an outbox relay left out of it)", () => {
    const relay = role("interactions", "mesh-interactions-outbox-relay");
    const relayPolicy: PlannedResource = {
      urn: "urn:pulumi:dev::mesh::aws:iam/rolePolicy:RolePolicy::interactions-relay-policy",
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "interactions-relay-policy",
      id: "interactions-relay-policy-id",
      account: ACCOUNTS.interactions,
      parent: null,
      protect: false,
      retainOnDelete: false,
      inputs: {
        role: "mesh-interactions-outbox-relay",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "Publish", Effect: "Allow", Action: "kinesis:PutRecords", Resource: STREAM }],
        }),
      },
    };
    const { violations } = accessMatrix({ ...plan, resources: [...plan.resources, relayPolicy] }, mesh);
    assert.deepStrictEqual(
      violations.map((v) => [v.kind, v.roleArn, v.message]),
      [
        [
          ViolationKind.WriteWithoutKeyGrant,
          relay,
          "mesh-interactions-outbox-relay in interactions (210987654325) is granted PutRecords on interactions/interaction-events but the stream's key policy does not let it kms:GenerateDataKey; its writes would fail at runtime.",
        ],
      ],
    );
  });

  it("reports an event source mapping whose role no policy lets read", () => {
    const stray: PlannedResource = {
      urn: "urn:pulumi:dev::mesh::aws:lambda/eventSourceMapping:EventSourceMapping::analytics-stray-mapping",
      type: "aws:lambda/eventSourceMapping:EventSourceMapping",
      name: "analytics-stray-mapping",
      id: "analytics-stray-mapping-id",
      account: ACCOUNTS.analytics,
      parent: null,
      protect: false,
      retainOnDelete: false,
      inputs: {
        eventSourceArn: STREAM,
        functionName: fn("analytics", "mesh-analytics-live-feed-connect"),
      },
    };
    const { violations } = accessMatrix({ ...plan, resources: [...plan.resources, stray] }, mesh);
    assert.deepStrictEqual(
      violations.map((v) => v.message),
      [
        "event source mapping analytics-stray-mapping reads interactions/interaction-events as mesh-analytics-live-feed-connect in analytics (210987654327), which no policy in the plan lets read it; it would fail at runtime.",
      ],
    );
  });

  it("prints a table per product with the filters of filtered subscriptions", () => {
    const text = formatAccessMatrix(accessMatrix(plan, mesh));
    assert.match(
      text,
      /^interactions\/interaction-events {2}\(stream interactions\.interaction-events in interactions \(210987654325\)\)$/m,
    );
    assert.match(
      text,
      /^ {2}recommendations \(210987654326\) +mesh-recommendations-interactions-update +enhanced-fan-out +enhanced-fan-out /m,
    );
    assert.match(
      text,
      /^ {2}analytics \(210987654327\) +mesh-analytics-live-feed +read +push-without-replay /m,
    );
    assert.match(text, /^ {2}platform \(210987654321\) +mesh-auditor +describe-only +- /m);
    assert.match(text, /^ {6}filter \{"data":\{"type":\["interaction\.like","interaction\.follow"\]\}\}$/m);
    assert.match(text, /no violations/);
  });
});

import { strict as assert } from "node:assert";
import { AccessPattern } from "../../platform/declarations";
import { loadMesh, type Mesh } from "../../platform/mesh";
import { requiredShards } from "../../platform/sizing";
import type { Plan } from "../../tooling/report/access-matrix";
import {
  atRestCosts,
  formatAtRestCost,
  formatCostTable,
  streamCosts,
  type CostLine,
  type StreamCost,
} from "../../tooling/report/cost";
import { atRestPrices, kinesisPrices, type PriceTable } from "../../tooling/report/prices";
import type { PlannedResource } from "../../tooling/evaluate";
import { ACCOUNTS, fixtureConfig, fixtureDomains } from "../fixtures/mesh";
import { fixtureDomainsAtRest } from "../fixtures/mesh/at-rest";
import { evaluateFixture, evaluateFixtureAtRest } from "../helpers/stacks";

/** Fixed figures, so that the hand-computed numbers below do not move when prices.ts is re-checked. */
const PRICES: PriceTable = {
  region: "eu-west-1",
  pricedRegion: "us-east-1",
  currency: "USD",
  asOf: "2026-11-21",
  source: "test fixture",
  caveat: "test figures",
  provisioned: {
    shardHour: 0.015,
    putPayloadUnitsPerMillion: 0.014,
    extendedRetentionShardHour: 0.02,
    longTermRetentionGbMonth: 0.023,
    efoConsumerShardHour: 0.015,
    efoGbRetrieved: 0.013,
  },
  onDemand: {
    streamHour: 0.04,
    gbWritten: 0.08,
    gbRead: 0.04,
    efoGbRetrieved: 0.05,
    extendedRetentionGbMonth: 0.1,
    longTermRetentionGbMonth: 0.023,
  },
  kms: { keyMonth: 1, rotationMonth: 1, billedRotations: 2, per10kRequests: 0.03 },
};

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} is not ${expected}`);

function assertLines(actual: readonly CostLine[], expected: readonly [string, number, number][]): void {
  assert.deepStrictEqual(
    actual.map((l) => l.item),
    expected.map(([item]) => item),
  );
  expected.forEach(([item, quantity, monthly], index) => {
    close(actual[index]!.quantity, quantity, `${item} quantity`);
    close(actual[index]!.monthly, monthly, `${item} monthly`);
    close(
      actual[index]!.monthly,
      actual[index]!.quantity * actual[index]!.unitPrice,
      `${item} = quantity x price`,
    );
  });
}

describe("report: sizing and cost of the dev plan", () => {
  let plan: Plan;
  let mesh: Mesh;
  let stream: (product: string) => StreamCost;
  before(async () => {
    const dev = await evaluateFixture("dev");
    plan = { stack: "dev", resources: dev.resources };
    mesh = loadMesh(fixtureConfig("dev"), fixtureDomains);
    const cost = streamCosts(plan, mesh, { prices: PRICES });
    stream = (product) => cost.streams.find((s) => s.product === product)!;
  });

  it("sizes every provisioned stream with requiredShards, as the plan deploys it", () => {
    const cost = streamCosts(plan, mesh, { prices: PRICES });
    assert.deepStrictEqual(
      cost.streams.map((s) => [s.product, s.requiredShards, s.plannedShards, s.plannedMode]),
      [
        ["users/user-events", 1, 1, "provisioned"],
        ["songs/song-events", 1, 1, "provisioned"],
        ["podcasts/episode-events", null, null, "on-demand"],
        // 4 MiB/s read by 2 standard consumers at most at half of 2 MiB/s a shard: 8 shards
        ["interactions/interaction-events", 8, 8, "provisioned"],
      ],
    );
    for (const product of mesh.products) {
      if (product.capacity.mode !== "provisioned") continue;
      const standard = mesh.subscriptions.filter(
        (s) => s.product === product && s.access.pattern !== AccessPattern.EnhancedFanOut,
      ).length;
      assert.equal(
        stream(product.ref).requiredShards,
        requiredShards(product.capacity, standard),
        product.ref,
      );
    }
  });

  it("prices interactions/interaction-events provisioned by hand: 8 shards, 168 h, one EFO consumer", () => {
    const s = stream("interactions/interaction-events");
    assert.deepStrictEqual(
      [s.standardConsumers, s.efoConsumers],
      [2, ["recommendations.interactions-update"]],
    );
    // 4 MiB/s and 6,000 records/s at 50 % for 730 h (2,628,000 s); 699-byte records: 1 PUT unit each.
    assertLines(s.provisioned.lines, [
      ["shard-hours", 8 * 730, 8 * 730 * 0.015], // 87.60
      ["PUT payload units (25 KB)", 7884, 7884 * 0.014], // 3,000 rec/s x 2,628,000 s = 7,884 M units: 110.376
      ["extended retention (24 h to 7 d)", 8 * 730, 8 * 730 * 0.02], // 116.80
      ["enhanced fan-out recommendations.interactions-update: consumer-shard-hours", 5840, 5840 * 0.015], // 87.60
      // 2 MiB/s x 2,628,000 s / 1024 = 5,132.8125 GB
      ["enhanced fan-out recommendations.interactions-update: data retrieved", 5132.8125, 5132.8125 * 0.013],
      ["KMS customer-managed key", 1, 1],
      ["KMS key rotations (automatic, yearly; steady state)", 2, 2],
      // producer + 2 standard + 1 EFO consumer, 12 requests an hour each
      ["KMS requests", (4 * 12 * 730) / 10_000, 3.504 * 0.03],
    ]);
    close(s.provisioned.monthly, 472.2076825, "provisioned total");
    assert.equal(s.planned, s.provisioned);
  });

  it("prices interactions/interaction-events on demand by hand: writes billed as 1 KB a record, reads as retrieved", () => {
    const s = stream("interactions/interaction-events");
    const gb = (3000 * 2_628_000) / 1024 / 1024; // 7,518.77 GB billed in: each 699-byte record counts 1 KB
    const payload = 5132.8125; // 2 MiB/s x 2,628,000 s / 1024: what readers retrieve
    assertLines(s.onDemand.lines, [
      ["stream-hours", 730, 29.2],
      ["data in (records rounded up to 1 KB)", gb, gb * 0.08],
      ["data out, 2 standard consumer(s)", 2 * payload, 2 * payload * 0.04],
      ["enhanced fan-out recommendations.interactions-update: data retrieved", payload, payload * 0.05],
      // 5,132.8125 GB a month written = 7.03 GB/h, kept 144 h beyond the first 24
      ["extended retention (24 h to 7 d)", 1012.5, 101.25],
      ["KMS customer-managed key", 1, 1],
      ["KMS key rotations (automatic, yearly; steady state)", 2, 2],
      ["KMS requests", 3.504, 0.10512],
    ]);
    close(
      s.onDemand.monthly,
      29.2 + gb * 0.08 + 2 * payload * 0.04 + payload * 0.05 + 101.25 + 1 + 2 + 0.10512,
      "on-demand total",
    );
    // users: 0.2 MiB/s over 150 records/s = 1,398-byte records, billed as 2 KB.
    close(
      stream("users/user-events").onDemand.lines[1]!.quantity,
      (75 * 2_628_000 * 2) / 1024 / 1024,
      "users GB in",
    );
  });

  it("estimates an on-demand product without declared throughput at minimum billing, and says so", () => {
    const s = stream("podcasts/episode-events");
    assert.equal(s.requiredShards, null);
    assert.match(
      s.notes[0]!,
      /^no declared throughput \(on-demand\): estimated at on-demand minimum billing/,
    );
    assertLines(s.onDemand.lines, [
      ["stream-hours", 730, 29.2],
      ["KMS customer-managed key", 1, 1],
      ["KMS key rotations (automatic, yearly; steady state)", 2, 2],
      ["KMS requests", 1.752, 0.05256],
    ]);
    assertLines(s.provisioned.lines, [
      ["shard-hours", 730, 10.95],
      ["KMS customer-managed key", 1, 1],
      ["KMS key rotations (automatic, yearly; steady state)", 2, 2],
      ["KMS requests", 1.752, 0.05256],
    ]);
    assert.equal(s.planned, s.onDemand);
  });

  it("adds up per account and in total", () => {
    const cost = streamCosts(plan, mesh, { prices: PRICES });
    assert.deepStrictEqual(
      cost.accounts.map((a) => [a.accountAlias, a.products]),
      [
        ["users", ["users/user-events"]],
        ["songs", ["songs/song-events"]],
        ["podcasts", ["podcasts/episode-events"]],
        ["interactions", ["interactions/interaction-events"]],
      ],
    );
    for (const account of cost.accounts) {
      const own = cost.streams.filter((s) => s.accountId === account.accountId);
      close(
        account.planned,
        own.reduce((t, s) => t + s.planned.monthly, 0),
        `${account.accountAlias} planned`,
      );
      close(
        account.onDemand,
        own.reduce((t, s) => t + s.onDemand.monthly, 0),
        `${account.accountAlias} on-demand`,
      );
      close(
        account.provisioned,
        own.reduce((t, s) => t + s.provisioned.monthly, 0),
        `${account.accountAlias} prov.`,
      );
    }
    close(
      cost.total.planned,
      cost.accounts.reduce((t, a) => t + a.planned, 0),
      "total planned",
    );
    // users 16.76 + songs 17.68 + podcasts (on demand) 32.25 + interactions 472.21
    assert.equal(cost.total.planned.toFixed(2), "538.90");
  });

  it("takes the utilisation as a parameter: the load scales, the shards do not", () => {
    const full = streamCosts(plan, mesh, { prices: PRICES, utilisation: 1 }).streams.find(
      (s) => s.product === "interactions/interaction-events",
    )!;
    assert.equal(full.requiredShards, 8);
    close(full.provisioned.lines[1]!.quantity, 2 * 7884, "PUT units at 100 %");
    close(full.provisioned.lines[0]!.monthly, 87.6, "shard-hours at 100 %");
    assert.throws(
      () => streamCosts(plan, mesh, { utilisation: 0 }),
      /utilisation must be in \(0, 1\], got 0/,
    );
  });

  it("uses the dated price table of the repo by default", () => {
    const cost = streamCosts(plan, mesh);
    assert.equal(cost.prices, kinesisPrices);
    assert.deepStrictEqual(
      [kinesisPrices.region, kinesisPrices.pricedRegion, kinesisPrices.currency],
      ["eu-west-1", "us-east-1", "USD"],
    );
    assert.match(kinesisPrices.asOf, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(kinesisPrices.source, /aws\.amazon\.com\/kinesis\/data-streams\/pricing/);
    const shardHours = cost.streams.find((s) => s.product === "songs/song-events")!.provisioned.lines[0]!;
    close(shardHours.monthly, 730 * kinesisPrices.provisioned.shardHour, "songs shard-hours");
  });

  it("keeps the declared peak when the environment forces every stream on demand", async () => {
    const onDemandPlan = await evaluateFixture("dev", { "mesh:capacityMode": "on-demand" });
    const onDemandMesh = loadMesh({ ...fixtureConfig("dev"), capacityMode: "on-demand" }, fixtureDomains);
    const s = streamCosts({ resources: onDemandPlan.resources }, onDemandMesh, {
      prices: PRICES,
    }).streams.find((c) => c.product === "interactions/interaction-events")!;
    assert.deepStrictEqual(
      [s.plannedMode, s.plannedShards, s.requiredShards, s.declared],
      ["on-demand", null, 8, { mode: "provisioned", writeMiBps: 4, writeRecordsPerSecond: 6000 }],
    );
    assert.equal(s.planned, s.onDemand);
    close(s.onDemand.monthly, 1402.32220984375, "same on-demand estimate");
  });

  it("prints one row per stream, the per-account totals and the assumptions", () => {
    const text = formatCostTable(streamCosts(plan, mesh, { prices: PRICES }), { details: true });
    assert.match(
      text,
      /^ {2}interactions\/interaction-events +interactions \(210987654325\) +4 MiB\/s, 6000 rec\/s +8 \/ 8 +168 h +1 +472\.21 +1402\.32 +472\.21 \(provisioned\) +provisioned$/m,
    );
    assert.match(text, /^ {2}podcasts\/episode-events .* 32\.25 \(on-demand\) +n\/a \(no declared peak\)$/m);
    assert.match(text, /^ {2}total +520\.65 +1625\.23 +538\.90$/m);
    assert.match(text, /^ {6}shard-hours +5,840 shard-hour +x 0\.015 += +87\.60$/m);
    assert.match(
      text,
      /standard consumers use at most 50% of each shard's 2 MiB\/s read capacity at the declared peak/,
    );
    assert.match(text, /Load: 50% of each product's declared peak/);
    assert.match(text, /us-east-1 list prices as of 2026-11-21, applied to eu-west-1/);
  });
});

describe("report: cost of data at rest at idle", () => {
  let plan: Plan;
  let mesh: Mesh;
  before(async () => {
    const dev = await evaluateFixtureAtRest("dev");
    plan = { stack: "dev", resources: dev.resources };
    mesh = loadMesh(fixtureConfig("dev"), fixtureDomainsAtRest);
  });
  const linesOf = (accountId: string, cost = atRestCosts(plan, mesh)) =>
    cost.lines.filter((l) => l.accountId === accountId);

  it("prices the Firehose landing at the stream's declared load: records in 5 KB steps, conversion and partitioning on the payload", () => {
    // interactions/interaction-events: 4 MiB/s and 6,000 records/s at peak, half of it around the clock.
    const seconds = 730 * 3600;
    const payloadGb = (4 * 0.5 * seconds) / 1024;
    const billedGb = (6000 * 0.5 * seconds * 5 * 1024) / 1024 ** 3;
    const landing = linesOf(ACCOUNTS.interactions).filter((l) => l.item.startsWith("Firehose"));
    const name = "mesh-interactions-interaction-events-landing";
    assertLines(landing, [
      [
        `Firehose ${name}: ingestion (records in 5 KB steps)`,
        billedGb,
        billedGb * atRestPrices.firehose.ingestionGb,
      ],
      [
        `Firehose ${name}: Parquet conversion`,
        payloadGb,
        payloadGb * atRestPrices.firehose.formatConversionGb,
      ],
      [
        `Firehose ${name}: dynamic partitioning`,
        payloadGb,
        payloadGb * atRestPrices.firehose.dynamicPartitioningGb,
      ],
    ]);
    const quarter = atRestCosts(plan, mesh, { utilisation: 0.25 });
    close(
      linesOf(ACCOUNTS.interactions, quarter).find((l) => l.item.includes("conversion"))!.quantity,
      payloadGb / 2,
      "conversion at 25%",
    );
  });

  it("prices each product bucket at the stated storage assumption, and the data keys but not the stream keys", () => {
    const users = linesOf(ACCOUNTS.users, atRestCosts(plan, mesh, { bucketGb: 100 }));
    const bucket = users.find((l) => l.item.startsWith("S3 Standard"))!;
    close(bucket.monthly, 100 * atRestPrices.s3.standardGbMonth, "bucket");
    const keys = users.find((l) => l.item.startsWith("KMS keys"))!;
    assert.equal(keys.item, "KMS keys other than the streams' (users-alarms-key, users-data-key)");
    close(keys.monthly, 2 * atRestPrices.kms.keyMonth, "two keys");
    const rotations = users.find((l) => l.item.startsWith("KMS key rotations"))!;
    close(rotations.monthly, 2 * 2 * atRestPrices.kms.rotationMonth, "two billed rotations of each key");
    // The consumers' accounts read through the catalog: they pay for no bucket or Firehose.
    assert.ok(!linesOf(ACCOUNTS.analytics).some((l) => /S3|Firehose/.test(l.item)));
  });

  it("bills Aurora Serverless v2 instances at the minimum ACU, nothing when the cluster pauses at 0", () => {
    const resource = (type: string, name: string, inputs: Record<string, unknown>) =>
      ({
        urn: name,
        type,
        name,
        id: "",
        account: ACCOUNTS.users,
        parent: null,
        inputs,
      }) as unknown as PlannedResource;
    const cluster = (minCapacity: number): Plan => ({
      resources: [
        resource("aws:rds/cluster:Cluster", "db", {
          clusterIdentifier: "mesh-users",
          serverlessv2ScalingConfiguration: { minCapacity, maxCapacity: 8 },
          manageMasterUserPassword: true,
        }),
        ...["a", "b"].map((zone) =>
          resource("aws:rds/clusterInstance:ClusterInstance", `db-${zone}`, {
            clusterIdentifier: "mesh-users",
            instanceClass: "db.serverless",
          }),
        ),
      ],
    });
    assertLines(atRestCosts(cluster(0.5), mesh).lines, [
      [
        "Aurora Serverless v2 mesh-users: 2 instance(s) at the minimum 0.5 ACU",
        730,
        730 * atRestPrices.aurora.acuHour,
      ],
      ["Aurora storage mesh-users", 10, 10 * atRestPrices.aurora.storageGbMonth],
      ["managed master secret mesh-users", 1, atRestPrices.secretsManager.secretMonth],
    ]);
    assertLines(atRestCosts(cluster(0), mesh, { auroraStorageGb: 50 }).lines, [
      ["Aurora storage mesh-users", 50, 50 * atRestPrices.aurora.storageGbMonth],
      ["managed master secret mesh-users", 1, atRestPrices.secretsManager.secretMonth],
    ]);
  });

  it("adds up per account and in total, and refuses a utilisation outside (0, 1]", () => {
    const cost = atRestCosts(plan, mesh);
    for (const account of cost.accounts) {
      const own = cost.lines.filter((l) => l.accountId === account.accountId);
      close(
        account.monthly,
        own.reduce((a, l) => a + l.monthly, 0),
        account.accountId,
      );
    }
    close(
      cost.total,
      cost.accounts.reduce((a, x) => a + x.monthly, 0),
      "total",
    );
    assert.throws(
      () => atRestCosts(plan, mesh, { utilisation: 0 }),
      /utilisation must be in \(0, 1\], got 0/,
    );
  });

  it("prints the lines per account, the totals beside the streams' and the assumptions, saying prices are recalled", () => {
    const text = formatAtRestCost(atRestCosts(plan, mesh), streamCosts(plan, mesh));
    assert.match(text, /^Monthly cost of data at rest at idle \(USD; us-east-1 list prices/);
    assert.match(text, /^ {2}interactions \(210987654325\) +\d+\.\d\d +472\.21 +\d+\.\d\d$/m);
    assert.match(text, /recalled rather than fetched/);
    assert.match(text, /10 GB per product bucket/);
  });
});

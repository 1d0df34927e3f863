import type { Capacity } from "../../platform/declarations";
import { AccessPattern } from "../../platform/declarations";
import type { Mesh } from "../../platform/mesh";
import { MAX_STANDARD_CONSUMERS, READ_HEADROOM, requiredShards } from "../../platform/sizing";
import { T } from "../../policy/lib/types";
import type { PlannedResource } from "../evaluate";
import { get } from "../../policy/lib/values";
import { resourcesByType } from "./at-rest-matrix";
import { accountAliases, accountLabel, type Plan } from "./access-matrix";
import { atRestPrices, kinesisPrices, type AtRestPriceTable, type PriceTable } from "./prices";

export interface CostOptions {
  /** @default kinesisPrices */
  readonly prices?: PriceTable;
  /** Average load as a fraction of the declared peak, around the clock. @default 0.5 */
  readonly utilisation?: number;
  /** @default 730 */
  readonly hoursPerMonth?: number;
  /**
   * KMS requests an hour per producer or consumer application of a stream: Kinesis reuses a data
   * key for about 5 minutes. An assumption, not a documented figure. @default 12
   */
  readonly kmsRequestsPerClientHour?: number;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
}

export interface ModeEstimate {
  readonly mode: "provisioned" | "on-demand";
  /** Shards the provisioned estimate pays for; null on demand. */
  readonly shards: number | null;
  readonly lines: readonly CostLine[];
  readonly monthly: number;
}

export interface StreamCost {
  readonly product: string;
  readonly streamName: string;
  readonly accountId: string;
  readonly accountAlias: string | null;
  /** Capacity as the domain declared it (before `mesh:capacityMode` may force on-demand). */
  readonly declared: Capacity;
  /** What the plan deploys. */
  readonly plannedMode: "provisioned" | "on-demand";
  readonly plannedShards: number | null;
  /** `requiredShards` at the declared peak; null without declared throughput. */
  readonly requiredShards: number | null;
  readonly standardConsumers: number;
  /** Registered enhanced fan-out consumers in the plan, by name. */
  readonly efoConsumers: readonly string[];
  readonly retentionHours: number;
  /** Declared peak MiB/s ÷ records/s, in bytes; null without declared throughput. */
  readonly averageRecordBytes: number | null;
  readonly provisioned: ModeEstimate;
  readonly onDemand: ModeEstimate;
  /** The estimate of what the plan deploys (its mode and shard count). */
  readonly planned: ModeEstimate;
  readonly notes: readonly string[];
}

export interface AccountCost {
  readonly accountId: string;
  readonly accountAlias: string | null;
  readonly products: readonly string[];
  readonly provisioned: number;
  readonly onDemand: number;
  readonly planned: number;
}

export interface CostReport {
  readonly prices: PriceTable;
  readonly utilisation: number;
  readonly hoursPerMonth: number;
  readonly assumptions: readonly string[];
  readonly streams: readonly StreamCost[];
  /** Kinesis and key costs land in the account that owns the stream. */
  readonly accounts: readonly AccountCost[];
  readonly total: { readonly provisioned: number; readonly onDemand: number; readonly planned: number };
}

const MiB = 1024 * 1024;
/** Billing GB taken as 1024 MiB. */
const GB_PER_MiB = 1 / 1024;
const PUT_PAYLOAD_UNIT_BYTES = 25 * 1024;
const ON_DEMAND_RECORD_ROUNDING_BYTES = 1024;
const DEFAULT_RETENTION_HOURS = 24;
const EXTENDED_RETENTION_LIMIT_HOURS = 168;

const line = (item: string, quantity: number, unit: string, unitPrice: number): CostLine => ({
  item,
  quantity,
  unit,
  unitPrice,
  monthly: quantity * unitPrice,
});

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/**
 * Monthly cost of every stream of the plan at its declared peak (times the utilisation), on demand
 * and provisioned, with enhanced fan-out and retention surcharges and the stream's KMS key, and the
 * totals per account. Shard counts come from `requiredShards`, as the program sizes streams.
 */
export function streamCosts(plan: Plan, mesh: Mesh, options: CostOptions = {}): CostReport {
  const prices = options.prices ?? kinesisPrices;
  const utilisation = options.utilisation ?? 0.5;
  const hours = options.hoursPerMonth ?? 730;
  const kmsPerClientHour = options.kmsRequestsPerClientHour ?? 12;
  if (!(utilisation > 0 && utilisation <= 1))
    throw new Error(`utilisation must be in (0, 1], got ${utilisation}`);
  const seconds = hours * 3600;
  const aliases = new Map<string, string>([
    ...Object.entries(plan.accounts ?? {}).map(([alias, id]) => [id, alias] as [string, string]),
    ...Object.entries(mesh.config.accounts).map(([alias, a]) => [a.id, alias] as [string, string]),
  ]);
  const consumersInPlan = plan.resources.filter((r) => r.type === T.StreamConsumer);

  const streams = plan.resources
    .filter((r) => r.type === T.Stream)
    .map((resource): StreamCost => {
      const name = String(resource.inputs.name ?? resource.name);
      const accountId = resource.account ?? "000000000000";
      const product = mesh.products.find((p) => p.streamName === name && p.accountId === accountId);
      const ref =
        ((resource.inputs.tags ?? {}) as Record<string, string>)["mesh:product"] ?? product?.ref ?? name;
      const declared = declaredCapacity(mesh, ref) ?? product?.capacity ?? { mode: "on-demand" };
      const subscriptions = mesh.subscriptions.filter((s) => s.product.ref === ref);
      const standardConsumers = subscriptions.filter(
        (s) => s.access.pattern !== AccessPattern.EnhancedFanOut,
      ).length;
      const streamArn = product?.streamArn;
      const efoConsumers = consumersInPlan
        .filter((c) => streamArn && c.inputs.streamArn === streamArn)
        .map((c) => String(c.inputs.name ?? c.name));
      const retentionHours = Number(resource.inputs.retentionPeriod ?? product?.retentionHours ?? 24);
      const plannedMode = plannedModeOf(resource);
      const plannedShards =
        typeof resource.inputs.shardCount === "number" ? resource.inputs.shardCount : null;
      const notes: string[] = [];

      const peak = declared.mode === "provisioned" ? declared : null;
      const shards = peak ? requiredShards(peak, standardConsumers) : null;
      const recordsPerSecond = peak ? peak.writeRecordsPerSecond * utilisation : 0;
      const recordBytes = peak ? (peak.writeMiBps * MiB) / peak.writeRecordsPerSecond : null;
      /** GB written a month at the payload size, and as on-demand bills it (records rounded up to 1 KB). */
      const gbWritten = peak ? peak.writeMiBps * utilisation * seconds * GB_PER_MiB : 0;
      const gbBilled = recordBytes
        ? (recordsPerSecond *
            seconds *
            Math.ceil(recordBytes / ON_DEMAND_RECORD_ROUNDING_BYTES) *
            ON_DEMAND_RECORD_ROUNDING_BYTES) /
          MiB /
          1024
        : 0;
      const gbPerHourStored = gbWritten / hours;
      if (!peak) {
        notes.push(
          "no declared throughput (on-demand): estimated at on-demand minimum billing (stream-hours and key only; " +
            "per-GB data, retrieval and retention charges come on top) and against a 1-shard provisioned stream",
        );
      }
      if (plannedShards !== null && shards !== null && plannedShards !== shards) {
        notes.push(`the plan provisions ${plannedShards} shard(s); the declared peak needs ${shards}`);
      }
      const declaredEfo = subscriptions.filter(
        (s) => s.access.pattern === AccessPattern.EnhancedFanOut,
      ).length;
      if (declaredEfo !== efoConsumers.length) {
        notes.push(
          `${declaredEfo} enhanced fan-out subscription(s) declared, ${efoConsumers.length} registered in the plan`,
        );
      }

      const kmsRequests = (1 + standardConsumers + efoConsumers.length) * kmsPerClientHour * hours;
      const kmsLines = [
        line("KMS customer-managed key", 1, "key-month", prices.kms.keyMonth),
        line(
          "KMS key rotations (automatic, yearly; steady state)",
          prices.kms.billedRotations,
          "rotation-month",
          prices.kms.rotationMonth,
        ),
        line("KMS requests", kmsRequests / 10_000, "10k requests", prices.kms.per10kRequests),
      ];

      const provisionedAt = (count: number): ModeEstimate => {
        const p = prices.provisioned;
        const shardHours = count * hours;
        const unitsPerRecord = recordBytes ? Math.ceil(recordBytes / PUT_PAYLOAD_UNIT_BYTES) : 0;
        const lines = [
          line("shard-hours", shardHours, "shard-hour", p.shardHour),
          line(
            "PUT payload units (25 KB)",
            (recordsPerSecond * seconds * unitsPerRecord) / 1e6,
            "million units",
            p.putPayloadUnitsPerMillion,
          ),
          ...(retentionHours > DEFAULT_RETENTION_HOURS
            ? [
                line(
                  "extended retention (24 h to 7 d)",
                  shardHours,
                  "shard-hour",
                  p.extendedRetentionShardHour,
                ),
              ]
            : []),
          ...(retentionHours > EXTENDED_RETENTION_LIMIT_HOURS
            ? [
                line(
                  "long-term retention (beyond 7 d)",
                  gbPerHourStored * (retentionHours - EXTENDED_RETENTION_LIMIT_HOURS),
                  "GB-month",
                  p.longTermRetentionGbMonth,
                ),
              ]
            : []),
          ...efoConsumers.flatMap((consumer) => [
            line(
              `enhanced fan-out ${consumer}: consumer-shard-hours`,
              shardHours,
              "consumer-shard-hour",
              p.efoConsumerShardHour,
            ),
            line(`enhanced fan-out ${consumer}: data retrieved`, gbWritten, "GB", p.efoGbRetrieved),
          ]),
          ...kmsLines,
        ].filter((l) => l.quantity > 0);
        return { mode: "provisioned", shards: count, lines, monthly: sum(lines.map((l) => l.monthly)) };
      };

      const o = prices.onDemand;
      const onDemandLines = [
        line("stream-hours", hours, "stream-hour", o.streamHour),
        line("data in (records rounded up to 1 KB)", gbBilled, "GB", o.gbWritten),
        // Only writes are rounded up to 1 KB a record; reads bill the bytes retrieved.
        line(
          `data out, ${standardConsumers} standard consumer(s)`,
          gbWritten * standardConsumers,
          "GB",
          o.gbRead,
        ),
        ...efoConsumers.map((consumer) =>
          line(`enhanced fan-out ${consumer}: data retrieved`, gbWritten, "GB", o.efoGbRetrieved),
        ),
        line(
          "extended retention (24 h to 7 d)",
          gbPerHourStored *
            Math.max(0, Math.min(retentionHours, EXTENDED_RETENTION_LIMIT_HOURS) - DEFAULT_RETENTION_HOURS),
          "GB-month",
          o.extendedRetentionGbMonth,
        ),
        line(
          "long-term retention (beyond 7 d)",
          gbPerHourStored * Math.max(0, retentionHours - EXTENDED_RETENTION_LIMIT_HOURS),
          "GB-month",
          o.longTermRetentionGbMonth,
        ),
        ...kmsLines,
      ].filter((l) => l.quantity > 0);
      const onDemand: ModeEstimate = {
        mode: "on-demand",
        shards: null,
        lines: onDemandLines,
        monthly: sum(onDemandLines.map((l) => l.monthly)),
      };
      const provisioned = provisionedAt(shards ?? 1);
      const planned =
        plannedMode === "on-demand"
          ? onDemand
          : plannedShards !== null && plannedShards !== provisioned.shards
            ? provisionedAt(plannedShards)
            : provisioned;

      return {
        product: ref,
        streamName: name,
        accountId,
        accountAlias: aliases.get(accountId) ?? null,
        declared,
        plannedMode,
        plannedShards,
        requiredShards: shards,
        standardConsumers,
        efoConsumers,
        retentionHours,
        averageRecordBytes: recordBytes,
        provisioned,
        onDemand,
        planned,
        notes,
      };
    });

  const accountIds = [...new Set(streams.map((s) => s.accountId))];
  const accounts = accountIds.map((accountId): AccountCost => {
    const own = streams.filter((s) => s.accountId === accountId);
    return {
      accountId,
      accountAlias: aliases.get(accountId) ?? null,
      products: own.map((s) => s.product),
      provisioned: sum(own.map((s) => s.provisioned.monthly)),
      onDemand: sum(own.map((s) => s.onDemand.monthly)),
      planned: sum(own.map((s) => s.planned.monthly)),
    };
  });

  const percent = Math.round(utilisation * 100);
  return {
    prices,
    utilisation,
    hoursPerMonth: hours,
    assumptions: [
      `Load: ${percent}% of each product's declared peak (MiB/s and records/s) on average, around the clock; ${hours} hours a month; 1 GB = 1024 MiB.`,
      "Provisioned: the shards requiredShards gives for the declared peak; GetRecords by standard consumers is included in the shard-hour.",
      "On demand (Standard): average record size = declared peak MiB/s / records/s; writes billed with each record rounded up to 1 KB, reads (standard and enhanced fan-out) at the bytes retrieved.",
      `Provisioned: standard consumers use at most ${Math.round(READ_HEADROOM * 100)}% of each shard's 2 MiB/s read capacity at the declared peak; the rest is headroom for a replay or a catch-up after an outage. At most ${MAX_STANDARD_CONSUMERS} standard consumers per stream (a shard serves 5 GetRecords calls a second).`,
      "KMS: each key bills its month and, in steady state, its first two yearly rotations ($1 a month each; later rotations are free).",
      "Every standard consumer (shared-replay, filtered, push-without-replay) reads every record: filters apply after the read.",
      "Enhanced fan-out: each consumer registered in the plan reads every record.",
      "Retention beyond 24 h: stored volume at the written payload size, steady state.",
      `KMS: one customer-managed key per stream; ${kmsPerClientHour} requests an hour per producer or consumer application (an assumption: data keys are reused for about 5 minutes).`,
      `Prices: ${prices.pricedRegion} list prices as of ${prices.asOf}, applied to ${prices.region} (${prices.source}); ${prices.caveat}`,
      "Not included: consumers' own accounts (Lambda, DynamoDB, S3, ...), data transfer, CloudWatch.",
    ],
    streams,
    accounts,
    total: {
      provisioned: sum(accounts.map((a) => a.provisioned)),
      onDemand: sum(accounts.map((a) => a.onDemand)),
      planned: sum(accounts.map((a) => a.planned)),
    },
  };
}

/** The capacity as written in the domain's declaration, not overridden by `mesh:capacityMode`. */
function declaredCapacity(mesh: Mesh, ref: string): Capacity | undefined {
  const [domainName, productName] = ref.split("/");
  const domain = mesh.domains.find((d) => d.name === domainName);
  const product = domain?.declaration.products.find((p) => p.name === productName);
  return product?.kind === "stream" ? product.capacity : undefined;
}

function plannedModeOf(resource: PlannedResource): "provisioned" | "on-demand" {
  const details = resource.inputs.streamModeDetails as { streamMode?: string } | undefined;
  return details?.streamMode === "ON_DEMAND" ? "on-demand" : "provisioned";
}

const money = (value: number) => value.toFixed(2);
const number = (value: number) =>
  value >= 100
    ? Math.round(value).toLocaleString("en-US")
    : value.toLocaleString("en-US", { maximumFractionDigits: 3 });

function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const render = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ")}`.trimEnd();
  return [render(headers), ...rows.map(render)];
}

/** The estimate as text: one row per stream, the totals per account, the assumptions. */
export function formatCostTable(cost: CostReport, options: { details?: boolean } = {}): string {
  const c = cost.prices.currency;
  const lines = [
    `Monthly Kinesis cost estimate (${c}; ${cost.prices.pricedRegion} list prices of ${cost.prices.asOf} applied to ${cost.prices.region}: re-check), at ${Math.round(cost.utilisation * 100)}% of declared peak`,
    ...table(
      [
        "product",
        "account",
        "declared peak",
        "shards req/plan",
        "retention",
        "EFO",
        "provisioned",
        "on-demand",
        "planned",
        "cheaper",
      ],
      cost.streams.map((s) => [
        s.product,
        accountLabel(s.accountId, s.accountAlias),
        s.declared.mode === "provisioned"
          ? `${s.declared.writeMiBps} MiB/s, ${s.declared.writeRecordsPerSecond} rec/s`
          : "on-demand, none declared",
        `${s.requiredShards ?? "-"} / ${s.plannedShards ?? "on-demand"}`,
        `${s.retentionHours} h`,
        String(s.efoConsumers.length),
        money(s.provisioned.monthly),
        money(s.onDemand.monthly),
        `${money(s.planned.monthly)} (${s.plannedMode})`,
        s.requiredShards === null
          ? "n/a (no declared peak)"
          : s.provisioned.monthly <= s.onDemand.monthly
            ? "provisioned"
            : "on-demand",
      ]),
      new Set([4, 5, 6, 7, 8]),
    ),
  ];
  for (const stream of cost.streams) {
    for (const note of stream.notes) lines.push(`  note ${stream.product}: ${note}`);
    if (!options.details) continue;
    for (const estimate of [stream.provisioned, stream.onDemand]) {
      lines.push(
        `  ${stream.product}, ${estimate.mode}${estimate.shards ? ` (${estimate.shards} shard(s))` : ""}: ${money(estimate.monthly)}`,
      );
      const itemWidth = Math.max(...estimate.lines.map((l) => l.item.length));
      const unitWidth = Math.max(...estimate.lines.map((l) => l.unit.length));
      for (const l of estimate.lines) {
        lines.push(
          `      ${l.item.padEnd(itemWidth)}  ${number(l.quantity).padStart(10)} ${l.unit.padEnd(unitWidth)} x ${String(l.unitPrice).padEnd(6)} = ${money(l.monthly).padStart(9)}`,
        );
      }
    }
  }
  lines.push(
    "",
    "Per account (Kinesis and key costs are billed to the stream's account):",
    ...table(
      ["account", "products", "provisioned", "on-demand", "planned"],
      [
        ...cost.accounts.map((a) => [
          accountLabel(a.accountId, a.accountAlias),
          a.products.join(", "),
          money(a.provisioned),
          money(a.onDemand),
          money(a.planned),
        ]),
        ["total", "", money(cost.total.provisioned), money(cost.total.onDemand), money(cost.total.planned)],
      ],
      new Set([2, 3, 4]),
    ),
    "",
    "Assumptions:",
    ...cost.assumptions.map((a) => `  - ${a}`),
  );
  return lines.join("\n");
}

export interface AtRestCostOptions {
  /** @default atRestPrices */
  readonly prices?: AtRestPriceTable;
  /** Average load of a landed stream as a fraction of its declared peak. @default 0.5 */
  readonly utilisation?: number;
  /** @default 730 */
  readonly hoursPerMonth?: number;
  /** Data kept in each product bucket (an assumption: the plan cannot know it). @default 10 */
  readonly bucketGb?: number;
  /** Storage of each Aurora cluster. @default 10 */
  readonly auroraStorageGb?: number;
  /** Size of each DynamoDB store with point-in-time recovery. @default 1 */
  readonly tableGb?: number;
}

export interface AtRestCostLine extends CostLine {
  readonly accountId: string;
  /** The plan resource(s) the line prices. */
  readonly resource: string;
}

export interface AtRestAccountCost {
  readonly accountId: string;
  readonly accountAlias: string | null;
  readonly monthly: number;
}

export interface AtRestCostReport {
  readonly prices: AtRestPriceTable;
  readonly lines: readonly AtRestCostLine[];
  /** Accounts in plan order, with their at-rest total. */
  readonly accounts: readonly AtRestAccountCost[];
  readonly total: number;
  readonly assumptions: readonly string[];
}

/**
 * What each account pays a month for its data at rest while idle, read from the plan: Aurora
 * Serverless v2 at its minimum capacity (every `db.serverless` instance, nothing when the minimum is
 * 0 and the cluster pauses) and its storage; its managed master secret; Firehose landing each
 * stream product at the stream's declared load (ingestion in 5 KB steps, Parquet conversion,
 * dynamic partitioning); the product buckets; DynamoDB stores with point-in-time recovery; the Glue
 * Data Catalog beyond its free tier; and the KMS keys other than the streams' (which the Kinesis
 * estimate prices). Sizes the plan cannot know are options, stated in the assumptions.
 */
export function atRestCosts(plan: Plan, mesh: Mesh, options: AtRestCostOptions = {}): AtRestCostReport {
  const prices = options.prices ?? atRestPrices;
  const utilisation = options.utilisation ?? 0.5;
  const hours = options.hoursPerMonth ?? 730;
  const bucketGb = options.bucketGb ?? 10;
  const auroraGb = options.auroraStorageGb ?? 10;
  const tableGb = options.tableGb ?? 1;
  if (!(utilisation > 0 && utilisation <= 1))
    throw new Error(`utilisation must be in (0, 1], got ${utilisation}`);
  const lines: AtRestCostLine[] = [];
  const add = (accountId: string, resource: string, cost: CostLine) => {
    if (cost.quantity > 0) lines.push({ ...cost, accountId, resource });
  };

  const of = resourcesByType(plan);
  const accountOf = (r: PlannedResource) => r.account ?? "000000000000";

  const instances = new Map<string, number>();
  for (const instance of of(T.RdsClusterInstance)) {
    if (instance.inputs.instanceClass !== "db.serverless") continue;
    const key = `${accountOf(instance)}/${String(instance.inputs.clusterIdentifier)}`;
    instances.set(key, (instances.get(key) ?? 0) + 1);
  }
  for (const cluster of of(T.RdsCluster)) {
    const account = accountOf(cluster);
    const id = String(cluster.inputs.clusterIdentifier ?? cluster.name);
    const scaling = cluster.inputs.serverlessv2ScalingConfiguration as { minCapacity?: number } | undefined;
    const count = instances.get(`${account}/${id}`) ?? 0;
    const minAcu = Number(scaling?.minCapacity ?? 0);
    add(
      account,
      id,
      line(
        `Aurora Serverless v2 ${id}: ${count} instance(s) at the minimum ${minAcu} ACU`,
        count * minAcu * hours,
        "ACU-hour",
        prices.aurora.acuHour,
      ),
    );
    add(account, id, line(`Aurora storage ${id}`, auroraGb, "GB-month", prices.aurora.storageGbMonth));
    if (cluster.inputs.manageMasterUserPassword === true) {
      add(
        account,
        id,
        line(`managed master secret ${id}`, 1, "secret-month", prices.secretsManager.secretMonth),
      );
    }
  }

  const f = prices.firehose;
  const seconds = hours * 3600;
  for (const delivery of of(T.FirehoseDeliveryStream)) {
    const source = String(get(delivery.inputs.kinesisSourceConfiguration, "kinesisStreamArn") ?? "");
    if (!delivery.inputs.extendedS3Configuration || !source) continue;
    const name = String(delivery.inputs.name ?? delivery.name);
    const product = mesh.products.find((p) => p.streamArn === source);
    const capacity = product ? (declaredCapacity(mesh, product.ref) ?? product.capacity) : undefined;
    const peak = capacity?.mode === "provisioned" ? capacity : null;
    const gb = peak ? peak.writeMiBps * utilisation * seconds * GB_PER_MiB : 0;
    const recordBytes = peak ? (peak.writeMiBps * MiB) / peak.writeRecordsPerSecond : 0;
    const billedGb = peak
      ? (peak.writeRecordsPerSecond *
          utilisation *
          seconds *
          Math.ceil(recordBytes / f.ingestionRecordRoundingBytes) *
          f.ingestionRecordRoundingBytes) /
        MiB /
        1024
      : 0;
    const account = accountOf(delivery);
    const s3 = delivery.inputs.extendedS3Configuration;
    add(
      account,
      name,
      line(`Firehose ${name}: ingestion (records in 5 KB steps)`, billedGb, "GB", f.ingestionGb),
    );
    if (get(s3, "dataFormatConversionConfiguration", "enabled") === true)
      add(account, name, line(`Firehose ${name}: Parquet conversion`, gb, "GB", f.formatConversionGb));
    if (get(s3, "dynamicPartitioningConfiguration", "enabled") === true)
      add(account, name, line(`Firehose ${name}: dynamic partitioning`, gb, "GB", f.dynamicPartitioningGb));
  }

  const catalogObjects = new Map<string, number>();
  for (const type of [T.GlueDatabase, T.GlueTable, T.GlueConnection]) {
    for (const resource of of(type))
      catalogObjects.set(accountOf(resource), (catalogObjects.get(accountOf(resource)) ?? 0) + 1);
  }
  for (const table of of(T.GlueTable)) {
    const location = String(get(table.inputs.storageDescriptor, "location") ?? "");
    const bucket = /^s3:\/\/([^/]+)/.exec(location)?.[1];
    if (bucket) {
      add(
        accountOf(table),
        bucket,
        line(`S3 Standard, product bucket ${bucket}`, bucketGb, "GB-month", prices.s3.standardGbMonth),
      );
    }
  }
  for (const [account, objects] of catalogObjects) {
    const billed = Math.max(0, objects - prices.glue.freeObjects) / 100_000;
    lines.push({
      ...line(
        `Glue Data Catalog: ${objects} object(s) in the plan, ${prices.glue.freeObjects.toLocaleString("en-US")} free`,
        billed,
        "100k objects",
        prices.glue.per100kObjectsMonth,
      ),
      accountId: account,
      resource: "catalog",
    });
  }
  for (const table of of(T.DynamoTable)) {
    if (get(table.inputs.pointInTimeRecovery, "enabled") !== true) continue;
    const name = String(table.inputs.name ?? table.name);
    add(
      accountOf(table),
      name,
      line(`DynamoDB ${name}: storage`, tableGb, "GB-month", prices.dynamodb.storageGbMonth),
    );
    add(
      accountOf(table),
      name,
      line(`DynamoDB ${name}: point-in-time recovery`, tableGb, "GB-month", prices.dynamodb.pitrGbMonth),
    );
  }

  const streamArns = new Map<string, string[]>();
  for (const product of mesh.products) {
    streamArns.set(product.accountId, [...(streamArns.get(product.accountId) ?? []), product.streamArn]);
  }
  const keys = new Map<string, string[]>();
  for (const key of of(T.KmsKey)) {
    const policy = String(key.inputs.policy ?? "");
    if ((streamArns.get(accountOf(key)) ?? []).some((arn) => policy.includes(arn))) continue;
    keys.set(accountOf(key), [...(keys.get(accountOf(key)) ?? []), key.name]);
  }
  for (const [account, names] of keys) {
    add(
      account,
      names.join(", "),
      line(
        `KMS keys other than the streams' (${names.join(", ")})`,
        names.length,
        "key-month",
        prices.kms.keyMonth,
      ),
    );
    add(
      account,
      names.join(", "),
      line(
        "KMS key rotations of those keys (automatic, yearly; steady state)",
        names.length * prices.kms.billedRotations,
        "rotation-month",
        prices.kms.rotationMonth,
      ),
    );
  }

  const aliases = accountAliases(plan, mesh);
  const order = [...new Set(plan.resources.map(accountOf))].filter((id) =>
    lines.some((l) => l.accountId === id),
  );
  lines.sort((a, b) => order.indexOf(a.accountId) - order.indexOf(b.accountId));
  const accounts = order.map((accountId) => ({
    accountId,
    accountAlias: aliases.get(accountId) ?? null,
    monthly: sum(lines.filter((l) => l.accountId === accountId).map((l) => l.monthly)),
  }));
  return {
    prices,
    lines,
    accounts,
    total: sum(accounts.map((a) => a.monthly)),
    assumptions: [
      `Idle: ${hours} hours a month; Aurora Serverless v2 bills every db.serverless instance at the cluster's minimum ACU (0 ACU: the cluster pauses and bills storage only).`,
      `Storage the plan cannot know: ${auroraGb} GB per Aurora cluster, ${bucketGb} GB per product bucket (S3 Standard), ${tableGb} GB per DynamoDB store with point-in-time recovery; free tiers (DynamoDB's 25 GB) not applied.`,
      `Firehose lands each stream at ${Math.round(utilisation * 100)}% of its declared peak, around the clock; a stream without declared throughput is priced at 0 GB. Ingestion bills each record rounded up to 5 KB; conversion and dynamic partitioning bill the payload volume. The landing transform's Lambda is not included.`,
      "Glue Data Catalog: databases, tables and connections of the plan (partitions come on top as data lands); the first million objects are free.",
      "KMS: customer-managed keys that protect no stream (data, alarm and pipeline keys), $1 a key-month; their requests at idle are negligible. Stream keys are in the Kinesis estimate.",
      "Not included at idle: Athena (billed per TB scanned), Lake Formation (no charge for permissions), the S3 gateway endpoint (free), S3 requests, backups within Aurora's retention (free up to the cluster's size), data transfer.",
      `Prices: ${prices.pricedRegion} list prices as of ${prices.asOf}, applied to ${prices.region} (${prices.source}); ${prices.caveat}`,
    ],
  };
}

/** The at-rest estimate as text: one line per priced item by account, per-account totals, assumptions. */
export function formatAtRestCost(cost: AtRestCostReport, streams?: CostReport): string {
  const c = cost.prices.currency;
  const lines = [
    `Monthly cost of data at rest at idle (${c}; ${cost.prices.pricedRegion} list prices of ${cost.prices.asOf} applied to ${cost.prices.region}: re-check)`,
  ];
  for (const account of cost.accounts) {
    lines.push(`  ${accountLabel(account.accountId, account.accountAlias)}`);
    lines.push(
      ...table(
        ["item", "quantity", "unit", "price", "monthly"],
        cost.lines
          .filter((l) => l.accountId === account.accountId)
          .map((l) => [l.item, number(l.quantity), l.unit, String(l.unitPrice), money(l.monthly)]),
        new Set([1, 3, 4]),
      ).map((row) => `  ${row}`),
    );
  }
  const planned = new Map(streams?.accounts.map((a) => [a.accountId, a.planned]));
  lines.push(
    "",
    "Per account (at rest at idle; with the streams' planned cost where the account owns streams):",
    ...table(
      ["account", "at rest", "streams (planned)", "total"],
      [
        ...cost.accounts.map((a) => [
          accountLabel(a.accountId, a.accountAlias),
          money(a.monthly),
          money(planned.get(a.accountId) ?? 0),
          money(a.monthly + (planned.get(a.accountId) ?? 0)),
        ]),
        [
          "total",
          money(cost.total),
          money(streams?.total.planned ?? 0),
          money(cost.total + (streams?.total.planned ?? 0)),
        ],
      ],
      new Set([1, 2, 3]),
    ),
    "",
    "Assumptions at rest:",
    ...cost.assumptions.map((a) => `  - ${a}`),
  );
  return lines.join("\n");
}

import type { Capacity } from "../../platform/declarations";
import { AccessPattern } from "../../platform/declarations";
import type { Mesh } from "../../platform/mesh";
import { requiredShards } from "../../platform/sizing";
import type { PlannedResource } from "../evaluate";
import { accountLabel, type Plan } from "./access-matrix";
import { kinesisPrices, type PriceTable } from "./prices";

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
  const consumersInPlan = plan.resources.filter(
    (r) => r.type === "aws:kinesis/streamConsumer:StreamConsumer",
  );

  const streams = plan.resources
    .filter((r) => r.type === "aws:kinesis/stream:Stream")
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
        line(
          `data out, ${standardConsumers} standard consumer(s)`,
          gbBilled * standardConsumers,
          "GB",
          o.gbRead,
        ),
        ...efoConsumers.map((consumer) =>
          line(`enhanced fan-out ${consumer}: data retrieved`, gbBilled, "GB", o.efoGbRetrieved),
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
      "On demand (Standard): average record size = declared peak MiB/s / records/s, each record billed rounded up to 1 KB, written and read.",
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

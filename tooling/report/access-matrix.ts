import { PLATFORM_UNIT } from "../../platform/config";
import { AccessPattern } from "../../platform/declarations";
import type { Mesh, Subscription } from "../../platform/mesh";
import { T } from "../../policy/lib/types";
import type { PlannedResource } from "../evaluate";
import { groupBy } from "../../runtime/batching";
import {
  accountOfArn,
  coversResource,
  kinesisActionsOf,
  namesAction,
  principalCovers,
  principalsOf,
  statementsOf,
  type PolicyStatement,
  type ResolvedPrincipal,
} from "./policies";

/** The offline plan as scripts/plan.ts writes it (plan/<stack>.json); `accounts` is alias → id. */
export interface Plan {
  readonly stack?: string;
  readonly accounts?: Readonly<Record<string, string>>;
  readonly resources: readonly PlannedResource[];
}

/** What a principal can do with a stream, from the actions its grants name. */
export const AccessClass = {
  /** PutRecord / PutRecords. */
  Write: "write",
  /** GetRecords: a standard (polling) consumer. */
  Read: "read",
  /** SubscribeToShard on a registered consumer. */
  EnhancedFanOut: "enhanced-fan-out",
  /** Describe and list actions only: sees the stream's configuration, never its records. */
  DescribeOnly: "describe-only",
  /** Management actions (retention, shards, tags, policies, ...) without reading or writing. */
  ControlPlane: "control-plane",
} as const;
export type AccessClass = (typeof AccessClass)[keyof typeof AccessClass];

/** Who a principal is in the mesh. */
export const Party = {
  Producer: "producer",
  Subscriber: "subscriber",
  Auditor: "auditor",
  /** The producer's own Firehose landing a stream product at rest, as its declaration asks. */
  Landing: "landing",
  Unknown: "unknown",
} as const;
export type Party = (typeof Party)[keyof typeof Party];

/** One principal's access of one class to one data product. */
export interface AccessRow {
  /** `<domain>/<product>` (the stream's `mesh:product` tag). */
  readonly product: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly accountId: string;
  /** Alias of the principal's account in `mesh:accounts`, null when it is not a mesh account. */
  readonly accountAlias: string | null;
  /** The role ARN (or account root, `*`, a service principal) the grants resolve to. */
  readonly roleArn: string;
  readonly access: AccessClass;
  /** Every Kinesis action granted to the principal on the stream or its consumers, sorted. */
  readonly actions: readonly string[];
  /** `<document>: <Sid>` of every statement that grants them. */
  readonly grantedBy: readonly string[];
  readonly party: Party;
  /** `<domain>/<subscription>` of the mesh subscription whose role this is, or null. */
  readonly subscription: string | null;
  /** From the subscription; without one, inferred from the event source mapping; null for neither. */
  readonly pattern: AccessPattern | null;
  /** Filter patterns (JSON) of the principal's event source mappings on this product. */
  readonly filters: readonly string[];
  /** ARNs of the functions whose event source mappings read this product with this role. */
  readonly functions: readonly string[];
  /**
   * Whether the stream's key policy lets the principal use the key as this access needs it
   * (kms:Decrypt to read, kms:GenerateDataKey to write), directly or by delegating to the
   * principal's account; null where no key use is needed or the key is not in the plan.
   */
  readonly keyGrant: boolean | null;
}

export const ViolationKind = {
  ReadWithoutSubscription: "read-without-subscription",
  SubscriptionWithoutGrant: "subscription-without-grant",
  SubscriptionWithoutKeyGrant: "subscription-without-key-grant",
  MappingWithoutGrant: "mapping-without-grant",
  /** A role that may put records on a stream whose key does not let it generate data keys. */
  WriteWithoutKeyGrant: "write-without-key-grant",
  /** At rest: a pii column readable without a subscription that declares includePii. */
  PiiWithoutSubscription: "pii-without-subscription",
  /** At rest: a subscriber's role reads columns its subscription does not name. */
  ColumnsWithoutSubscription: "columns-without-subscription",
} as const;
export type ViolationKind = (typeof ViolationKind)[keyof typeof ViolationKind];

export interface Violation {
  readonly kind: ViolationKind;
  readonly product: string;
  readonly roleArn: string;
  readonly accountId: string;
  readonly message: string;
}

export interface ProductStream {
  readonly product: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly accountId: string;
  readonly accountAlias: string | null;
}

export interface AccessMatrix {
  /** Every stream of the plan, in plan order. */
  readonly products: readonly ProductStream[];
  readonly rows: readonly AccessRow[];
  readonly violations: readonly Violation[];
}

const CLASS_ORDER: readonly AccessClass[] = [
  AccessClass.Write,
  AccessClass.Read,
  AccessClass.EnhancedFanOut,
  AccessClass.DescribeOnly,
  AccessClass.ControlPlane,
];

/** Actions that show configuration or are useless alone (a shard iterator without GetRecords). */
const METADATA_ACTIONS = new Set([
  "kinesis:DescribeLimits",
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamConsumer",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetResourcePolicy",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
  "kinesis:ListStreamConsumers",
  "kinesis:ListStreams",
  "kinesis:ListTagsForResource",
  "kinesis:ListTagsForStream",
]);

/** The access classes a set of granted actions amounts to. */
export function classify(actions: Iterable<string>): AccessClass[] {
  const granted = new Set(actions);
  const classes: AccessClass[] = [];
  if (granted.has("kinesis:PutRecord") || granted.has("kinesis:PutRecords")) classes.push(AccessClass.Write);
  if (granted.has("kinesis:GetRecords")) classes.push(AccessClass.Read);
  if (granted.has("kinesis:SubscribeToShard")) classes.push(AccessClass.EnhancedFanOut);
  if (classes.length) return classes;
  return [...granted].every((action) => METADATA_ACTIONS.has(action))
    ? [AccessClass.DescribeOnly]
    : [AccessClass.ControlPlane];
}

/** Whether a set of granted actions lets the principal read records (polling or enhanced fan-out). */
export const canReadRecords = (actions: readonly string[]): boolean =>
  actions.includes("kinesis:GetRecords") || actions.includes("kinesis:SubscribeToShard");

interface StreamInPlan extends ProductStream {
  readonly resource: PlannedResource;
  /** ARNs of the stream's registered consumers, as policies and mappings name them. */
  readonly consumerArns: Set<string>;
}

interface Collected {
  readonly principal: ResolvedPrincipal;
  readonly actions: Set<string>;
  readonly grantedBy: Set<string>;
}

interface Deny {
  readonly principals: readonly ResolvedPrincipal[];
  readonly actions: readonly string[];
}

/**
 * Who may read or write each data product of a plan, and how, derived from the policy documents
 * the program generates: stream resource policies, enhanced fan-out consumer resource policies,
 * and the inline role policies of roles in the stream's own account (the producer's, and any
 * other: within one account an identity policy alone grants access). Cross-account identity
 * policies are not grants on their own (the stream's resource policy must allow them too), so
 * they are not read. Unconditional Deny statements are subtracted; conditional ones are ignored,
 * which can only over-report access.
 *
 * Each principal is then joined with the plan's event source mappings (through the function's
 * execution role) and with the mesh subscription of the same role and product, and checked
 * against the declaration: reading without a subscription, and a subscription (or mapping)
 * without a grant, are violations.
 */
export function accessMatrix(plan: Plan, mesh: Mesh): AccessMatrix {
  const aliases = accountAliases(plan, mesh);
  const aliasOf = (accountId: string): string | null => aliases.get(accountId) ?? null;
  const of = (type: string) => plan.resources.filter((r) => r.type === type);
  const resourcePolicies = of(T.StreamResourcePolicy);
  const rolePolicies = of(T.IamRolePolicy);
  const mappings = of(T.EventSourceMapping);
  const functions = groupBy(of(T.LambdaFunction), (f) => String(f.inputs.name ?? f.name));
  const keys = of(T.KmsKey);
  // Everything a stream's rows read, grouped once by stream, account or product: the matrix is
  // linear in the plan's resources (docs/consumer-performance.md, "The plan at scale").
  const streamOfArn = (arn: unknown) => String(arn ?? "").split("/consumer/")[0]!;
  const policiesByStream = groupBy(resourcePolicies, (r) => streamOfArn(r.inputs.resourceArn));
  const mappingsByStream = groupBy(mappings, (m) => streamOfArn(m.inputs.eventSourceArn));
  const rolePoliciesByAccount = groupBy(rolePolicies, (r) => r.account ?? "");
  const keysByAccount = groupBy(keys, (k) => k.account ?? "");
  const subscriptionsByProduct = groupBy(mesh.subscriptions, (s) => s.product.ref);
  const declaredStreams = new Map(mesh.products.map((p) => [`${p.accountId}/${p.streamName}`, p]));

  const streams: StreamInPlan[] = of(T.Stream).map((resource) => {
    const name = String(resource.inputs.name ?? resource.name);
    const accountId = resource.account ?? "000000000000";
    const declared = declaredStreams.get(`${accountId}/${name}`);
    const streamArn =
      declared?.streamArn ?? `arn:aws:kinesis:${mesh.config.region}:${accountId}:stream/${name}`;
    const tags = (resource.inputs.tags ?? {}) as Record<string, string>;
    const consumerArns = new Set(
      [
        ...(policiesByStream.get(streamArn) ?? []).map((r) => String(r.inputs.resourceArn ?? "")),
        ...(mappingsByStream.get(streamArn) ?? []).map((r) => String(r.inputs.eventSourceArn ?? "")),
      ].filter((arn) => arn.startsWith(`${streamArn}/consumer/`)),
    );
    return {
      product: tags["mesh:product"] ?? declared?.ref ?? name,
      streamName: name,
      streamArn,
      accountId,
      accountAlias: aliasOf(accountId),
      resource,
      consumerArns,
    };
  });

  const rows: AccessRow[] = [];
  const violations: Violation[] = [];
  for (const stream of streams) {
    const collected = new Map<string, Collected>();
    const denies: Deny[] = [];
    const add = (principal: ResolvedPrincipal, actions: readonly string[], source: string) => {
      const entry = collected.get(principal.arn) ?? {
        principal,
        actions: new Set<string>(),
        grantedBy: new Set<string>(),
      };
      actions.forEach((action) => entry.actions.add(action));
      entry.grantedBy.add(source);
      collected.set(principal.arn, entry);
    };
    const read = (
      statements: readonly PolicyStatement[],
      targets: readonly string[],
      document: string,
      principals: (s: PolicyStatement) => ResolvedPrincipal[],
    ) =>
      statements.forEach((statement, index) => {
        if (!targets.some((arn) => coversResource(statement, arn))) return;
        const actions = kinesisActionsOf(statement);
        if (!actions.length) return;
        if (statement.Effect === "Deny") {
          if (!statement.Condition) denies.push({ principals: principals(statement), actions });
          return;
        }
        if (statement.Effect !== "Allow") return;
        for (const principal of principals(statement))
          add(principal, actions, `${document}: ${statement.Sid ?? `#${index}`}`);
      });

    for (const policy of policiesByStream.get(stream.streamArn) ?? []) {
      const target = String(policy.inputs.resourceArn ?? "");
      const consumer = target.startsWith(`${stream.streamArn}/consumer/`);
      if (target !== stream.streamArn && !consumer) continue;
      const document = consumer ? `consumer policy ${consumerName(target)}` : "stream policy";
      read(statementsOf(policy.inputs.policy), [target], document, principalsOf);
    }
    for (const policy of rolePoliciesByAccount.get(stream.accountId) ?? []) {
      const roleArn = roleArnOf(String(policy.inputs.role ?? ""), stream.accountId);
      const self = (): ResolvedPrincipal[] => [{ accountId: stream.accountId, arn: roleArn }];
      read(
        statementsOf(policy.inputs.policy),
        [stream.streamArn, ...stream.consumerArns],
        `role policy ${roleNameOf(roleArn)}`,
        self,
      );
    }
    for (const deny of denies) {
      for (const entry of collected.values()) {
        if (deny.principals.some((p) => principalCovers(p, entry.principal.arn)))
          deny.actions.forEach((action) => entry.actions.delete(action));
      }
    }

    const streamMappings = (mappingsByStream.get(stream.streamArn) ?? [])
      .filter((m) => {
        const source = String(m.inputs.eventSourceArn ?? "");
        return source === stream.streamArn || stream.consumerArns.has(source);
      })
      .map((m) => ({ mapping: m, roleArn: executionRoleOf(m, functions) }));
    const key = (keysByAccount.get(stream.accountId) ?? []).find((k) =>
      String(k.inputs.policy ?? "").includes(stream.streamArn),
    );
    const subscriptions = subscriptionsByProduct.get(stream.product) ?? [];

    const streamRows: AccessRow[] = [];
    for (const entry of collected.values()) {
      if (!entry.actions.size) continue;
      const actions = [...entry.actions].sort();
      const subscription = subscriptions.find((s) => s.roleArn === entry.principal.arn);
      const landing = mesh.atRestProducts.some(
        (p) => p.ref === stream.product && p.landingRoleArn === entry.principal.arn,
      );
      const own = streamMappings.filter((m) => m.roleArn === entry.principal.arn).map((m) => m.mapping);
      for (const access of classify(actions)) {
        const reads = access === AccessClass.Read || access === AccessClass.EnhancedFanOut;
        streamRows.push({
          product: stream.product,
          streamName: stream.streamName,
          streamArn: stream.streamArn,
          accountId: entry.principal.accountId,
          accountAlias: aliasOf(entry.principal.accountId),
          roleArn: entry.principal.arn,
          access,
          actions,
          grantedBy: [...entry.grantedBy],
          party: landing ? Party.Landing : partyOf(access, entry.principal, stream, subscription, mesh),
          subscription: subscription?.ref ?? (landing ? `${stream.product} (at rest)` : null),
          pattern: reads ? (subscription?.access.pattern ?? inferPattern(own, stream.streamArn)) : null,
          filters: reads ? own.flatMap(filtersOf) : [],
          functions: reads ? own.map((m) => String(m.inputs.functionName)) : [],
          keyGrant:
            access === AccessClass.Write || reads
              ? key
                ? keyAllows(
                    key,
                    entry.principal.arn,
                    access === AccessClass.Write ? "kms:GenerateDataKey" : "kms:Decrypt",
                  )
                : null
              : null,
        });
      }
    }
    streamRows.sort(
      (a, b) =>
        CLASS_ORDER.indexOf(a.access) - CLASS_ORDER.indexOf(b.access) || a.roleArn.localeCompare(b.roleArn),
    );
    rows.push(...streamRows);

    const label = (accountId: string) => accountLabel(accountId, aliasOf(accountId));
    for (const row of streamRows) {
      if (
        (row.access === AccessClass.Read || row.access === AccessClass.EnhancedFanOut) &&
        !row.subscription &&
        !violations.some((v) => v.product === row.product && v.roleArn === row.roleArn)
      ) {
        violations.push({
          kind: ViolationKind.ReadWithoutSubscription,
          product: row.product,
          roleArn: row.roleArn,
          accountId: row.accountId,
          message: `${principalLabel(row.roleArn)} in ${label(row.accountId)} can read ${row.product} without a subscription.`,
        });
      }
    }
    for (const row of streamRows.filter((r) => r.access === AccessClass.Write && r.keyGrant === false)) {
      violations.push({
        kind: ViolationKind.WriteWithoutKeyGrant,
        product: row.product,
        roleArn: row.roleArn,
        accountId: row.accountId,
        message: `${principalLabel(row.roleArn)} in ${label(row.accountId)} is granted PutRecords on ${row.product} but the stream's key policy does not let it kms:GenerateDataKey; its writes would fail at runtime.`,
      });
    }
    for (const subscription of subscriptions) {
      const needed = neededAction(subscription);
      const granted = streamRows.find(
        (r) => r.roleArn === subscription.roleArn && r.actions.includes(needed),
      );
      const base = `${subscription.ref}: ${subscription.roleName} in ${label(subscription.accountId)} subscribes to ${stream.product} (${subscription.access.pattern})`;
      if (!granted) {
        violations.push({
          kind: ViolationKind.SubscriptionWithoutGrant,
          product: stream.product,
          roleArn: subscription.roleArn,
          accountId: subscription.accountId,
          message: `${base} but no policy in the plan grants it ${needed}; it would fail at runtime.`,
        });
      } else if (granted.keyGrant === false) {
        violations.push({
          kind: ViolationKind.SubscriptionWithoutKeyGrant,
          product: stream.product,
          roleArn: subscription.roleArn,
          accountId: subscription.accountId,
          message: `${base} but the stream's key policy does not let it kms:Decrypt; it would fail at runtime.`,
        });
      }
    }
    for (const { mapping, roleArn } of streamMappings) {
      if (!roleArn || subscriptions.some((s) => s.roleArn === roleArn)) continue;
      if (streamRows.some((r) => r.roleArn === roleArn && canReadRecords(r.actions))) continue;
      violations.push({
        kind: ViolationKind.MappingWithoutGrant,
        product: stream.product,
        roleArn,
        accountId: accountOfArn(roleArn),
        message: `event source mapping ${mapping.name} reads ${stream.product} as ${roleNameOf(roleArn)} in ${label(accountOfArn(roleArn))}, which no policy in the plan lets read it; it would fail at runtime.`,
      });
    }
  }

  return {
    products: streams.map(({ product, streamName, streamArn, accountId, accountAlias }) => ({
      product,
      streamName,
      streamArn,
      accountId,
      accountAlias,
    })),
    rows,
    violations,
  };
}

/** Alias of each account id, from the plan and the stack config. */
export function accountAliases(plan: Plan, mesh: Mesh): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const [alias, id] of Object.entries(plan.accounts ?? {})) aliases.set(id, alias);
  for (const [alias, account] of Object.entries(mesh.config.accounts)) aliases.set(account.id, alias);
  return aliases;
}

export function accountLabel(accountId: string, alias: string | null): string {
  if (accountId === "*") return "any account";
  return alias ? `${alias} (${accountId})` : accountId;
}

/** `mesh-analytics-live-feed` for a role ARN; the ARN itself for roots, services and `*`. */
export function roleNameOf(arn: string): string {
  return /:role\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1] ?? arn;
}

function principalLabel(arn: string): string {
  if (arn === "*") return "any principal (*)";
  if (/:root$/.test(arn)) return `every principal (${arn})`;
  return roleNameOf(arn);
}

function roleArnOf(role: string, accountId: string): string {
  return role.startsWith("arn:") ? role : `arn:aws:iam::${accountId}:role/${role}`;
}

/** `recommendations.interactions-update` for `<stream>/consumer/recommendations.interactions-update:1700000000`. */
function consumerName(arn: string): string {
  return arn.split("/consumer/")[1]?.replace(/:\d+$/, "") ?? arn;
}

/** The execution role of a mapping's function, from the function resource in the plan. */
function executionRoleOf(
  mapping: PlannedResource,
  functions: ReadonlyMap<string, readonly PlannedResource[]>,
): string | null {
  const reference = String(mapping.inputs.functionName ?? "");
  const parsed = /^arn:aws[a-z-]*:lambda:[^:]*:(\d{12}):function:([^:]+)/.exec(reference);
  const name = parsed?.[2] ?? reference;
  const account = parsed?.[1] ?? mapping.account;
  const named = functions.get(name) ?? [];
  const fn = named.find((f) => f.account === account) ?? named[0];
  const role = fn?.inputs.role;
  return typeof role === "string" ? roleArnOf(role, fn!.account ?? "") : null;
}

function filtersOf(mapping: PlannedResource): string[] {
  const criteria = mapping.inputs.filterCriteria as { filters?: { pattern?: string }[] } | undefined;
  return (criteria?.filters ?? []).map((f) => String(f.pattern ?? ""));
}

/** Without a subscription, what a principal's mappings show: EFO through a consumer ARN, filters, or polling. */
function inferPattern(mappings: readonly PlannedResource[], streamArn: string): AccessPattern | null {
  if (!mappings.length) return null;
  if (mappings.some((m) => String(m.inputs.eventSourceArn) !== streamArn))
    return AccessPattern.EnhancedFanOut;
  if (mappings.some((m) => filtersOf(m).length)) return AccessPattern.Filtered;
  return AccessPattern.SharedReplay;
}

function partyOf(
  access: AccessClass,
  principal: ResolvedPrincipal,
  stream: StreamInPlan,
  subscription: Subscription | undefined,
  mesh: Mesh,
): Party {
  if (subscription) return Party.Subscriber;
  if (access === AccessClass.Write && principal.accountId === stream.accountId) return Party.Producer;
  if (access === AccessClass.DescribeOnly && principal.accountId === mesh.config.accounts[PLATFORM_UNIT]?.id)
    return Party.Auditor;
  return Party.Unknown;
}

function neededAction(subscription: Subscription): string {
  return subscription.access.pattern === AccessPattern.EnhancedFanOut
    ? "kinesis:SubscribeToShard"
    : "kinesis:GetRecords";
}

function keyAllows(key: PlannedResource, roleArn: string, action: string): boolean {
  const statements = statementsOf(key.inputs.policy);
  const allowed = statements.some(
    (s) =>
      s.Effect === "Allow" &&
      namesAction(s, action) &&
      principalsOf(s).some((p) => principalCovers(p, roleArn)),
  );
  const denied = statements.some(
    (s) =>
      s.Effect === "Deny" &&
      !s.Condition &&
      namesAction(s, action) &&
      principalsOf(s).some((p) => principalCovers(p, roleArn)),
  );
  return allowed && !denied;
}

const pad = (text: string, width: number) => text.padEnd(width);

/** The matrix as a readable table per product, then the violations. */
export function formatAccessMatrix(matrix: AccessMatrix): string {
  const lines: string[] = [];
  for (const product of matrix.products) {
    const rows = matrix.rows.filter((r) => r.product === product.product);
    lines.push(
      `${product.product}  (stream ${product.streamName} in ${accountLabel(product.accountId, product.accountAlias)})`,
    );
    if (!rows.length) {
      lines.push("  no principal outside the stream's account root may use it", "");
      continue;
    }
    const table = rows.map((r) => ({
      account: accountLabel(r.accountId, r.accountAlias),
      role: roleNameOf(r.roleArn),
      access: r.access,
      pattern: r.pattern ?? "-",
      via: r.functions.length ? r.functions.map((f) => f.split(":").pop()).join(", ") : "-",
      key: r.keyGrant === null ? "-" : r.keyGrant ? "yes" : "NO",
      party: r.subscription ?? r.party,
    }));
    const headers = {
      account: "account",
      role: "role",
      access: "access",
      pattern: "pattern",
      via: "function",
      key: "key",
      party: "subscription / party",
    };
    const columns = Object.keys(headers) as (keyof typeof headers)[];
    const widths = Object.fromEntries(
      columns.map((c) => [c, Math.max(headers[c].length, ...table.map((t) => t[c].length))]),
    ) as Record<keyof typeof headers, number>;
    const render = (cells: Record<keyof typeof headers, string>) =>
      `  ${columns.map((c) => pad(cells[c], widths[c])).join("  ")}`.trimEnd();
    lines.push(render(headers));
    table.forEach((cells, index) => {
      lines.push(render(cells));
      for (const filter of rows[index]!.filters) lines.push(`      filter ${filter}`);
    });
    lines.push("");
  }
  if (matrix.violations.length) {
    lines.push(`${matrix.violations.length} violation(s):`);
    for (const violation of matrix.violations) lines.push(`  - ${violation.message}`);
  } else {
    lines.push("no violations: every reader has a subscription and every subscription a grant.");
  }
  return lines.join("\n");
}

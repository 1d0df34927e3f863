import { PLATFORM_UNIT } from "../../platform/config";
import {
  lakeTags,
  mergeJobRoleArn,
  productJobRoleArn,
  readerRoleArn,
  type AtRestProduct,
  type AtRestSubscription,
} from "../../platform/at-rest";
import type { Mesh } from "../../platform/mesh";
import { resolveGrant, type LakeTable } from "../../policy/lib/lake";
import { get } from "../../policy/lib/values";
import { T } from "../../policy/lib/types";
import type { PlannedResource } from "../evaluate";
import {
  accountAliases,
  accountLabel,
  roleNameOf,
  ViolationKind,
  type Plan,
  type Violation,
} from "./access-matrix";
import {
  coversResource,
  list,
  namesAction,
  principalsOf,
  statementsOf,
  wildcardMatch,
  type PolicyStatement,
} from "./policies";

/** What a principal can do with a table at rest. */
export const TableAccess = {
  /** SELECT (or ALL) through Lake Formation, or s3:GetObject on the product's objects. */
  Read: "read",
  /** DESCRIBE only: sees the table's metadata, never a row. */
  Describe: "describe",
} as const;
export type TableAccess = (typeof TableAccess)[keyof typeof TableAccess];

/** Who a principal is for a product at rest. */
export const RestParty = {
  /** The role of an at-rest subscription. */
  Subscriber: "subscriber",
  /** A consumer account granted by the producer; its own stack grants its reader roles. */
  ConsumerAccount: "consumer-account",
  /** The platform's central catalog: DESCRIBE on every table, no row. */
  Catalog: "catalog",
  /** The producer's role Lake Formation assumes to read the registered location for its grantees. */
  LakeFormation: "lake-formation",
  /** The producer's own Firehose landing a stream product at rest. */
  Landing: "landing",
  /** The producer's own job publishing the product from its store (`productJobRoleName`). */
  Pipeline: "pipeline",
  Unknown: "unknown",
} as const;
export type RestParty = (typeof RestParty)[keyof typeof RestParty];

/** Every IAM principal of an account, when Lake Formation defers to IAM. */
export const IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS";

/** One product at rest as the plan has it. */
export interface RestTable {
  /** `<domain>/<product>`, from the table's `mesh:product` LF-tag (or its declaration). */
  readonly product: string;
  readonly accountId: string;
  readonly accountAlias: string | null;
  readonly database: string;
  readonly table: string;
  /** The bucket of the table's location, null when it is not an S3 location of the plan. */
  readonly bucket: string | null;
  /** Data and partition columns, as the Glue table declares them. */
  readonly columns: readonly string[];
  /** Columns the product's contract marks pii (from its declaration). */
  readonly pii: readonly string[];
  /**
   * False for a table of a producer this stack does not deploy (a unit stack): taken from the
   * declaration so that the grants this stack writes on it can be resolved.
   */
  readonly inPlan: boolean;
}

/** One principal's access to one product at rest. */
export interface RestRow {
  readonly product: string;
  readonly accountId: string;
  readonly accountAlias: string | null;
  /** A role ARN, an account root (`arn:aws:iam::<id>:root`), `*`, a service or IAM_ALLOWED_PRINCIPALS. */
  readonly principal: string;
  readonly access: TableAccess;
  /** The columns it may read (every column for S3 access), in table order. */
  readonly columns: readonly string[];
  /** The pii columns among them. */
  readonly pii: readonly string[];
  /** The grants and statements that give it. */
  readonly via: readonly string[];
  /**
   * Whether the role's own policy lets it use Lake Formation's grants (lakeformation:GetDataAccess
   * and glue:GetTable on the table); null for accounts and S3 readers.
   */
  readonly iam: boolean | null;
  readonly party: RestParty;
  /** `<domain>/<subscription>` of the at-rest subscriptions this access serves. */
  readonly subscriptions: readonly string[];
}

export interface AtRestMatrix {
  readonly tables: readonly RestTable[];
  readonly rows: readonly RestRow[];
  readonly violations: readonly Violation[];
}

const READ_PERMISSIONS = new Set(["SELECT", "ALL"]);
const root = (accountId: string) => `arn:aws:iam::${accountId}:root`;
const tableKey = (catalog: string, database: string, table: string) => `${catalog}/${database}/${table}`;
const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

interface Indexed {
  readonly table: RestTable;
  readonly lake: LakeTable;
  readonly declared?: AtRestProduct;
}

interface Entry {
  readonly indexed: Indexed;
  readonly principal: string;
  readonly accountId: string;
  access: TableAccess;
  readonly columns: Set<string>;
  readonly via: Set<string>;
}

/**
 * Who can read each product at rest, and which columns, read back from the plan: the Glue tables
 * with their LF-tags, the Lake Formation grants (LF-tag expressions resolved exactly as the policy
 * pack resolves them, policy/lib/lake.ts), Lake Formation settings that defer to IAM, bucket
 * policies on the product buckets, and role policies in the producer's account on them. A grant
 * written in another account than the table's (a consumer granting its own role on a shared
 * table) gives at most what the producer granted that account. Then checked against the declared
 * at-rest subscriptions: a reader without a subscription, a pii column read without `includePii`,
 * a role reading columns beyond its subscription, and a subscription its grants do not serve are
 * violations. Each resource is read once; lookups go through maps keyed by table, tag, bucket and
 * role, so the work grows with the plan, not with its square.
 */
export function atRestMatrix(plan: Plan, mesh: Mesh): AtRestMatrix {
  const aliases = accountAliases(plan, mesh);
  const aliasOf = (id: string) => aliases.get(id) ?? null;
  const label = (id: string) => accountLabel(id, aliasOf(id));
  const declared = new Map(mesh.atRestProducts.map((p) => [tableKey(p.accountId, p.database, p.table), p]));

  const of = resourcesByType(plan);

  // LF-tag assignments by database, table and column.
  const databaseTags = new Map<string, Record<string, string>>();
  const tableTags = new Map<string, Record<string, string>>();
  const columnTags = new Map<string, Map<string, Record<string, string>>>();
  for (const resource of of(T.LakeFormationResourceLfTags)) {
    const pairs = Object.fromEntries(
      (Array.isArray(resource.inputs.lfTags) ? resource.inputs.lfTags : []).map((t) => [
        String(get(t, "key")),
        String(get(t, "value")),
      ]),
    );
    const catalog = (block: unknown) => str(get(block, "catalogId")) ?? resource.account ?? "";
    const { database, table, tableWithColumns } = resource.inputs;
    if (database) {
      const key = `${catalog(database)}/${String(get(database, "name"))}`;
      databaseTags.set(key, { ...databaseTags.get(key), ...pairs });
    } else if (table) {
      const key = tableKey(catalog(table), String(get(table, "databaseName")), String(get(table, "name")));
      tableTags.set(key, { ...tableTags.get(key), ...pairs });
    } else if (tableWithColumns) {
      const block = tableWithColumns;
      const key = tableKey(catalog(block), String(get(block, "databaseName")), String(get(block, "name")));
      const columns = columnTags.get(key) ?? new Map<string, Record<string, string>>();
      for (const column of strings(get(block, "columnNames")))
        columns.set(column, { ...columns.get(column), ...pairs });
      columnTags.set(key, columns);
    }
  }

  // Tables, indexed by key, by database, by bucket and by (catalog, tag = value).
  const tables = new Map<string, Indexed>();
  const byDatabase = new Map<string, Indexed[]>();
  const byBucket = new Map<string, Indexed[]>();
  const byTag = new Map<string, Set<Indexed>>();
  const byAccountId = new Map<string, Indexed[]>();
  for (const resource of of(T.GlueTable)) {
    const accountId = str(resource.inputs.catalogId) ?? resource.account ?? "";
    const database = String(resource.inputs.databaseName ?? "");
    const name = String(resource.inputs.name ?? resource.name);
    const key = tableKey(accountId, database, name);
    const product = declared.get(key);
    const columnsOf = (value: unknown) =>
      (Array.isArray(value) ? value : []).map((c) => String(get(c, "name")));
    const columns = [
      ...columnsOf(get(resource.inputs.storageDescriptor, "columns")),
      ...columnsOf(resource.inputs.partitionKeys),
    ];
    const lake: LakeTable = {
      product: "",
      accountId,
      database,
      table: name,
      databaseTags: databaseTags.get(`${accountId}/${database}`) ?? {},
      tags: tableTags.get(key) ?? {},
      columns: columns.map((column) => ({ name: column, tags: columnTags.get(key)?.get(column) ?? {} })),
    };
    const ref = lake.tags["mesh:product"] ?? product?.ref ?? `${database}.${name}`;
    const location = str(get(resource.inputs.storageDescriptor, "location"));
    const bucket = location ? (/^s3a?:\/\/([^/]+)/.exec(location)?.[1] ?? null) : null;
    const indexed: Indexed = {
      table: {
        product: ref,
        accountId,
        accountAlias: aliasOf(accountId),
        database,
        table: name,
        bucket,
        columns,
        pii: product?.columns.filter((c) => c.pii).map((c) => c.name) ?? [],
        inPlan: true,
      },
      lake: { ...lake, product: ref },
      declared: product,
    };
    index(key, indexed);
  }
  // A unit stack's plan lacks the tables of producers it does not deploy: grants its own stack
  // writes on them are resolved against the tables as declared (what the policy pack checks them
  // against), so a consumer team's plan still shows and checks its readers.
  for (const product of mesh.atRestProducts) {
    const key = tableKey(product.accountId, product.database, product.table);
    if (tables.has(key) || mesh.units.has(product.domain)) continue;
    const tags = lakeTags(product);
    const columns = tags.columns.map((c) => c.name);
    index(key, {
      table: {
        product: product.ref,
        accountId: product.accountId,
        accountAlias: aliasOf(product.accountId),
        database: product.database,
        table: product.table,
        bucket: null,
        columns,
        pii: product.columns.filter((c) => c.pii).map((c) => c.name),
        inPlan: false,
      },
      lake: {
        product: product.ref,
        accountId: product.accountId,
        database: product.database,
        table: product.table,
        ...tags,
      },
      declared: product,
    });
  }

  function index(key: string, indexed: Indexed): void {
    // Two resources for one table: the first one stands (Glue would refuse the second).
    if (tables.has(key)) return;
    const { accountId, database, bucket } = indexed.table;
    tables.set(key, indexed);
    push(byAccountId, accountId, indexed);
    push(byDatabase, `${accountId}/${database}`, indexed);
    if (bucket) push(byBucket, bucket, indexed);
    const { lake } = indexed;
    for (const tags of [lake.databaseTags, lake.tags, ...lake.columns.map((c) => c.tags)]) {
      for (const [tag, value] of Object.entries(tags)) {
        const set = byTag.get(`${accountId}|${tag}=${value}`) ?? new Set<Indexed>();
        set.add(indexed);
        byTag.set(`${accountId}|${tag}=${value}`, set);
      }
    }
  }
  const byLake = new Map([...tables.values()].map((i) => [i.lake, i]));

  const entries = new Map<string, Entry>();
  const add = (
    indexed: Indexed,
    principal: string,
    accountId: string,
    access: TableAccess,
    columns: Iterable<string>,
    via: string,
  ) => {
    const key = `${indexed.table.product}|${principal}`;
    const entry = entries.get(key) ?? {
      indexed,
      principal,
      accountId,
      access,
      columns: new Set<string>(),
      via: new Set<string>(),
    };
    if (access === TableAccess.Read) {
      entry.access = TableAccess.Read;
      for (const column of columns) entry.columns.add(column);
    }
    entry.via.add(via);
    entries.set(key, entry);
  };

  // Lake Formation grants. Those written in the table's own account come first: a grant another
  // account writes on a shared table reaches at most the columns shared with that account.
  const grants = of(T.LakeFormationPermissions).map((resource) => {
    const inputs = resource.inputs;
    const block = inputs.lfTagPolicy ?? inputs.tableWithColumns ?? inputs.table ?? inputs.dataCellsFilter;
    const catalog = str(get(block, "catalogId")) ?? resource.account ?? "";
    return { resource, catalog, own: catalog === resource.account };
  });
  grants.sort((a, b) => Number(b.own) - Number(a.own));
  for (const { resource, catalog, own } of grants) {
    const inputs = resource.inputs;
    const permissions = strings(inputs.permissions);
    const access = permissions.some((p) => READ_PERMISSIONS.has(p))
      ? TableAccess.Read
      : permissions.includes("DESCRIBE")
        ? TableAccess.Describe
        : undefined;
    if (!access) continue;
    const target = resolveGrant(inputs, candidates(inputs, catalog));
    if (typeof target === "symbol" || target.scope !== "data") continue;
    const principal = String(inputs.principal ?? "");
    const writer = resource.account ?? catalog;
    const resolved = principalOf(principal, writer);
    for (const match of target.matches) {
      const indexed = byLake.get(match.table)!;
      let columns = match.columns ?? indexed.table.columns;
      if (!own) {
        // Another account can only pass on, to its own principals, what was shared with it
        // (unknown here when the producer's stack is not in this plan).
        if (resolved.accountId !== writer) continue;
        const shared = entries.get(`${indexed.table.product}|${root(writer)}`);
        if (indexed.table.inPlan && !shared) continue;
        if (shared) columns = columns.filter((c) => shared.columns.has(c));
      }
      add(
        indexed,
        resolved.principal,
        resolved.accountId,
        access,
        columns,
        `Lake Formation grant ${resource.name}`,
      );
    }
  }

  // Settings that let IAM alone decide on new tables.
  for (const resource of of(T.LakeFormationSettings)) {
    const defaults = get(resource.inputs, "createTableDefaultPermissions");
    const iamDefault = (Array.isArray(defaults) ? defaults : []).some(
      (d) => get(d, "principal") === IAM_ALLOWED_PRINCIPALS,
    );
    if (!iamDefault) continue;
    for (const indexed of byAccountId.get(resource.account ?? "") ?? []) {
      add(
        indexed,
        IAM_ALLOWED_PRINCIPALS,
        indexed.table.accountId,
        TableAccess.Read,
        indexed.table.columns,
        `Lake Formation settings ${resource.name} (createTableDefaultPermissions)`,
      );
    }
  }

  // S3: bucket policies (any account) and the producer's own role policies on the product objects.
  const objectArn = (indexed: Indexed) =>
    `arn:aws:s3:::${indexed.table.bucket}/${indexed.table.table}/part-00000.parquet`;
  const readsObjects = (statement: PolicyStatement, indexed: Indexed) =>
    statement.Effect === "Allow" &&
    namesAction(statement, "s3:GetObject") &&
    coversResource(statement, objectArn(indexed));
  for (const resource of of(T.BucketPolicy)) {
    for (const indexed of byBucket.get(String(resource.inputs.bucket ?? "")) ?? []) {
      statementsOf(resource.inputs.policy).forEach((statement, index) => {
        if (!readsObjects(statement, indexed)) return;
        for (const principal of principalsOf(statement)) {
          if (principal.accountId === indexed.table.accountId && principal.arn === root(principal.accountId))
            continue;
          add(
            indexed,
            principal.arn,
            principal.accountId,
            TableAccess.Read,
            indexed.table.columns,
            `bucket policy ${resource.name}: ${statement.Sid ?? `#${index}`}`,
          );
        }
      });
    }
  }
  const policiesByRole = new Map<string, PlannedResource[]>();
  for (const resource of of(T.IamRolePolicy)) {
    const account = resource.account ?? "";
    const role = String(resource.inputs.role ?? "");
    const roleArn = role.startsWith("arn:") ? role : `arn:aws:iam::${account}:role/${role}`;
    push(policiesByRole, roleArn, resource);
    statementsOf(resource.inputs.policy).forEach((statement, index) => {
      if (statement.Effect !== "Allow" || !namesAction(statement, "s3:GetObject")) return;
      for (const bucket of bucketsOf(statement, byBucket)) {
        for (const indexed of byBucket.get(bucket) ?? []) {
          // Another account's identity policy is no grant without the bucket policy's.
          if (indexed.table.accountId !== account || !readsObjects(statement, indexed)) continue;
          add(
            indexed,
            roleArn,
            account,
            TableAccess.Read,
            indexed.table.columns,
            `role policy ${roleNameOf(roleArn)}: ${statement.Sid ?? `#${index}`}`,
          );
        }
      }
    });
  }
  const locationRoles = new Set(of(T.LakeFormationResource).map((r) => String(r.inputs.roleArn ?? "")));
  const platformId = mesh.config.accounts[PLATFORM_UNIT]?.id;

  // Subscriptions by reader role and by account, per product.
  const byRole = new Map<string, AtRestSubscription>();
  const byAccount = new Map<string, AtRestSubscription[]>();
  for (const s of mesh.atRestSubscriptions) {
    byRole.set(`${s.product.ref}|${readerRoleArn(s)}`, s);
    // The consumer's merge job reads as each of its subscriptions (their columns, no more).
    byRole.set(`${s.product.ref}|${mergeJobRoleArn(s)}`, s);
    push(byAccount, `${s.product.ref}|${s.accountId}`, s);
  }

  const rows: RestRow[] = [];
  const violations: Violation[] = [];
  for (const entry of entries.values()) {
    const { table, declared: product } = entry.indexed;
    const columns = table.columns.filter((c) => entry.columns.has(c));
    const pii = columns.filter((c) => table.pii.includes(c));
    const isRoot = entry.principal === root(entry.accountId);
    const own = byRole.get(`${table.product}|${entry.principal}`);
    const ofAccount = isRoot ? (byAccount.get(`${table.product}|${entry.accountId}`) ?? []) : [];
    const subscriptions = own ? [own] : ofAccount;
    const party = own
      ? RestParty.Subscriber
      : ofAccount.length
        ? RestParty.ConsumerAccount
        : entry.access === TableAccess.Describe && entry.accountId === platformId
          ? RestParty.Catalog
          : locationRoles.has(entry.principal) && entry.accountId === table.accountId
            ? RestParty.LakeFormation
            : product?.landingRoleArn === entry.principal
              ? RestParty.Landing
              : product && productJobRoleArn(product) === entry.principal
                ? RestParty.Pipeline
                : RestParty.Unknown;
    const iam = own ? usesLakeFormation(policiesByRole.get(entry.principal) ?? [], table, mesh) : null;
    rows.push({
      product: table.product,
      accountId: entry.accountId,
      accountAlias: aliasOf(entry.accountId),
      principal: entry.principal,
      access: entry.access,
      columns,
      pii,
      via: [...entry.via],
      iam,
      party,
      subscriptions: subscriptions.map((s) => s.ref),
    });
    if (entry.access !== TableAccess.Read || !columns.length) continue;
    const who = `${principalLabel(entry.principal)} in ${label(entry.accountId)}`;
    const violation = (kind: ViolationKind, message: string) =>
      violations.push({
        kind,
        product: table.product,
        roleArn: entry.principal,
        accountId: entry.accountId,
        message,
      });
    if (party === RestParty.Unknown) {
      violation(
        ViolationKind.ReadWithoutSubscription,
        `${who} can read ${table.product} at rest (${columnsLabel(columns, table)}) without a subscription, through ${[...entry.via].join("; ")}.`,
      );
      continue;
    }
    if (!subscriptions.length) continue;
    if (pii.length && !subscriptions.some((s) => s.includePii)) {
      violation(
        ViolationKind.PiiWithoutSubscription,
        `${who} can read the pii column(s) ${pii.join(", ")} of ${table.product}, but no subscription of it (${subscriptions.map((s) => s.ref).join(", ")}) declares includePii.`,
      );
    }
    if (own) {
      const allowed = new Set([...own.columns, ...own.product.partitionKeys.map((c) => c.name)]);
      const extra = columns.filter((c) => !allowed.has(c) && !pii.includes(c));
      if (extra.length) {
        violation(
          ViolationKind.ColumnsWithoutSubscription,
          `${who} can read ${extra.join(", ")} of ${table.product}, beyond the columns of ${own.ref}.`,
        );
      }
    }
  }

  const rowOf = new Map(rows.map((r) => [`${r.product}|${r.principal}`, r]));
  // Every subscription whose producer and consumer are both in this plan must be served.
  for (const s of mesh.atRestSubscriptions) {
    const indexed = tables.get(tableKey(s.product.accountId, s.product.database, s.product.table));
    if (!indexed || !mesh.units.has(s.domain)) continue;
    const roleArn = readerRoleArn(s);
    const row = rowOf.get(`${s.product.ref}|${roleArn}`);
    const missing = s.columns.filter((c) => !row?.columns.includes(c));
    const base = `${s.ref}: ${roleNameOf(roleArn)} in ${label(s.accountId)} subscribes to ${s.product.ref} at rest`;
    const problem = missing.length
      ? `no grant in the plan gives it ${missing.join(", ")}`
      : row?.iam === false
        ? "its role policy does not allow lakeformation:GetDataAccess and glue:GetTable on the table"
        : undefined;
    if (problem) {
      violations.push({
        kind: ViolationKind.SubscriptionWithoutGrant,
        product: s.product.ref,
        roleArn,
        accountId: s.accountId,
        message: `${base} but ${problem}; it would fail at runtime.`,
      });
    }
  }

  rows.sort(
    (a, b) =>
      a.product.localeCompare(b.product) ||
      Number(a.access === TableAccess.Describe) - Number(b.access === TableAccess.Describe) ||
      a.principal.localeCompare(b.principal),
  );
  // A declared table this plan neither holds nor grants on is none of its business.
  const granted = new Set(rows.map((r) => r.product));
  const listed = [...tables.values()].filter((i) => i.table.inPlan || granted.has(i.table.product));
  return { tables: listed.map((i) => i.table), rows, violations };

  /** The tables a grant may reach, from the indexes: resolveGrant then decides exactly. */
  function candidates(inputs: Record<string, unknown>, catalog: string): LakeTable[] {
    const found = new Set<Indexed>();
    const expression = get(inputs.lfTagPolicy, "expressions");
    if (inputs.lfTagPolicy) {
      const first = Array.isArray(expression) ? expression[0] : undefined;
      for (const value of strings(get(first, "values")))
        byTag.get(`${catalog}|${String(get(first, "key"))}=${value}`)?.forEach((i) => found.add(i));
    } else {
      const block = inputs.tableWithColumns ?? inputs.table ?? inputs.dataCellsFilter;
      const database = String(get(block, "databaseName") ?? "");
      const name = str(get(block, "name") ?? get(block, "tableName"));
      const exact =
        name && !get(block, "wildcard") ? tables.get(tableKey(catalog, database, name)) : undefined;
      if (exact) found.add(exact);
      else if (!name || get(block, "wildcard"))
        byDatabase.get(`${catalog}/${database}`)?.forEach((i) => found.add(i));
    }
    return [...found].map((i) => i.lake);
  }
}

/** The plan's resources of a type, grouped in one pass. */
export function resourcesByType(plan: Plan): (type: string) => readonly PlannedResource[] {
  const byType = new Map<string, PlannedResource[]>();
  for (const resource of plan.resources) push(byType, resource.type, resource);
  return (type) => byType.get(type) ?? [];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const group = map.get(key);
  if (group) group.push(value);
  else map.set(key, [value]);
}

/** A Lake Formation principal: an account id, a role or user ARN, or IAM_ALLOWED_PRINCIPALS. */
function principalOf(principal: string, writer: string): { principal: string; accountId: string } {
  if (/^\d{12}$/.test(principal)) return { principal: root(principal), accountId: principal };
  if (principal === IAM_ALLOWED_PRINCIPALS) return { principal, accountId: writer };
  const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(principal)?.[1];
  return { principal, accountId: account ?? "*" };
}

/** The buckets a statement's resources name; a wildcard bucket names every bucket of the index. */
function bucketsOf(statement: PolicyStatement, byBucket: ReadonlyMap<string, unknown>): string[] {
  const buckets = new Set<string>();
  for (const pattern of list(statement.Resource ?? "*")) {
    const bucket = pattern === "*" ? "*" : /^arn:aws[a-z-]*:s3:::([^/]*)/.exec(pattern)?.[1];
    if (!bucket) continue;
    if (/[*?]/.test(bucket)) {
      for (const name of byBucket.keys()) if (wildcardMatch(bucket, name)) buckets.add(name);
    } else buckets.add(bucket);
  }
  return [...buckets];
}

/** Whether a role's own policies let it read through Lake Formation: GetDataAccess and GetTable on the table. */
function usesLakeFormation(policies: readonly PlannedResource[], table: RestTable, mesh: Mesh): boolean {
  const tableArn = `arn:aws:glue:${mesh.config.region}:${table.accountId}:table/${table.database}/${table.table}`;
  const statements = policies
    .flatMap((p) => statementsOf(p.inputs.policy))
    .filter((s) => s.Effect === "Allow");
  return (
    statements.some((s) => namesAction(s, "lakeformation:GetDataAccess")) &&
    statements.some((s) => namesAction(s, "glue:GetTable") && coversResource(s, tableArn))
  );
}

function principalLabel(principal: string): string {
  if (principal === "*") return "any principal (*)";
  if (principal === IAM_ALLOWED_PRINCIPALS) return "every IAM principal (IAM_ALLOWED_PRINCIPALS)";
  if (/:root$/.test(principal)) return `the account (${principal})`;
  return roleNameOf(principal);
}

function columnsLabel(columns: readonly string[], table: RestTable): string {
  if (columns.length === table.columns.length) return "every column";
  const withheld = table.columns.filter((c) => !columns.includes(c));
  return withheld.length < columns.length ? `all but ${withheld.join(", ")}` : columns.join(", ");
}

/** The at-rest matrix as a table per product, then its violations. */
export function formatAtRestMatrix(matrix: AtRestMatrix): string {
  const lines: string[] = [];
  for (const table of matrix.tables) {
    const rows = matrix.rows.filter((r) => r.product === table.product);
    const pii = table.pii.length ? `, pii: ${table.pii.join(", ")}` : "";
    const origin = table.inPlan ? "" : "; as declared, its producer's stack is not in this plan";
    lines.push(
      `${table.product}  (table ${table.database}.${table.table} in ${accountLabel(table.accountId, table.accountAlias)}${pii}${origin})`,
    );
    if (!rows.length) {
      lines.push("  no principal outside the producer's account may read it", "");
      continue;
    }
    const cells = rows.map((r) => ({
      account: accountLabel(r.accountId, r.accountAlias),
      principal: principalLabel(r.principal),
      access: r.access,
      columns: r.access === TableAccess.Read ? columnsLabel(r.columns, table) : "-",
      iam: r.iam === null ? "-" : r.iam ? "yes" : "NO",
      party: r.subscriptions.length ? r.subscriptions.join(", ") : r.party,
    }));
    const headers = {
      account: "account",
      principal: "principal",
      access: "access",
      columns: "columns",
      iam: "iam",
      party: "subscription / party",
    };
    const keys = Object.keys(headers) as (keyof typeof headers)[];
    const widths = Object.fromEntries(
      keys.map((k) => [k, Math.max(headers[k].length, ...cells.map((c) => c[k].length))]),
    ) as Record<keyof typeof headers, number>;
    const render = (c: Record<keyof typeof headers, string>) =>
      `  ${keys.map((k) => c[k].padEnd(widths[k])).join("  ")}`.trimEnd();
    lines.push(render(headers), ...cells.map(render), "");
  }
  if (matrix.violations.length) {
    lines.push(`${matrix.violations.length} violation(s) at rest:`);
    for (const violation of matrix.violations) lines.push(`  - ${violation.message}`);
  } else {
    lines.push(
      "no violations at rest: every reader has a subscription, pii only where declared, every subscription a grant.",
    );
  }
  return lines.join("\n");
}

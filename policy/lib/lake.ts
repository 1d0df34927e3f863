import { containsUnknown, get, isRecord, parseMaybeJson, UNKNOWN, type Unknown } from "./values";

/**
 * A table of the mesh at rest as Lake Formation sees it: names, LF-tags and columns. The policy pack
 * gets the declared tables from its config (`lakeFormationAccess.tables`); the plan report reads them
 * back from the Glue tables and LF-tag assignments in the plan. Both resolve grants with
 * {@link resolveGrant}, so the two cannot disagree on what a grant reaches.
 */
export interface LakeTable {
  /** `<domain>/<product>` */
  readonly product: string;
  /** The producer's account: the table's owner. */
  readonly accountId: string;
  readonly database: string;
  readonly table: string;
  /** LF-tags assigned to the database (tables inherit them). */
  readonly databaseTags: Readonly<Record<string, string>>;
  /** LF-tags assigned to the table itself (they override the database's). */
  readonly tags: Readonly<Record<string, string>>;
  /** Data columns, each with the LF-tags assigned to the column itself (they override the table's). */
  readonly columns: readonly { readonly name: string; readonly tags: Readonly<Record<string, string>> }[];
}

/** What a grant reaches. */
export interface GrantTarget {
  /**
   * data: table rows (tables, columns, data cells filters, TABLE tag expressions); database: a
   * database itself (DESCRIBE, CREATE_TABLE...), not its rows; lf-tag: a tag (DESCRIBE, ASSOCIATE);
   * location: an S3 data location; catalog: the Data Catalog itself.
   */
  readonly scope: "data" | "database" | "lf-tag" | "location" | "catalog";
  /** How messages name the resource granted on. */
  readonly label: string;
  /**
   * The tables of the mesh the grant reaches, with the columns it gives; `columns` is undefined for a
   * data cells filter, whose columns live in the filter resource.
   */
  readonly matches: readonly { readonly table: LakeTable; readonly columns?: readonly string[] }[];
}

/** The tags of a table, with the database's inherited. */
export const tableTags = (table: LakeTable): Record<string, string> => ({
  ...table.databaseTags,
  ...table.tags,
});

type Expression = readonly { readonly key: string; readonly values: readonly string[] }[];

const matches = (tags: Readonly<Record<string, string>>, expression: Expression): boolean =>
  expression.every(({ key, values }) => tags[key] !== undefined && values.includes(tags[key]!));

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];

/** The columns a grant on a table gives: all, the named ones, or all but the excluded ones. */
function columnsOf(table: LakeTable, block: unknown): string[] {
  const all = table.columns.map((column) => column.name);
  const named = strings(get(block, "columnNames"));
  const excluded = strings(get(block, "excludedColumnNames"));
  if (named.length > 0) return all.filter((column) => named.includes(column));
  return all.filter((column) => !excluded.includes(column));
}

const present = (value: unknown): boolean => value !== undefined && value !== null;

/**
 * Resolves the resource of a `aws.lakeformation.Permissions` (its inputs) against the tables of the
 * mesh: which tables and columns it reaches. UNKNOWN while the resource is not known yet.
 */
export function resolveGrant(
  props: Readonly<Record<string, unknown>>,
  tables: readonly LakeTable[],
): GrantTarget | Unknown {
  const block = (key: string) => parseMaybeJson(props[key]);
  const policy = block("lfTagPolicy");
  if (present(policy)) {
    if (containsUnknown(policy)) return UNKNOWN;
    const expression: Expression = (
      Array.isArray(get(policy, "expressions")) ? (get(policy, "expressions") as unknown[]) : []
    )
      .filter(isRecord)
      .map((entry) => ({ key: String(entry.key), values: strings(entry.values) }));
    const label = `LF-tag expression ${expression.map(({ key, values }) => `${key}=${values.join("|")}`).join(" AND ")}`;
    if (get(policy, "resourceType") === "DATABASE") {
      return {
        scope: "database",
        label,
        matches: tables
          .filter((table) => matches(table.databaseTags, expression))
          .map((table) => ({ table })),
      };
    }
    return {
      scope: "data",
      label,
      matches: tables.flatMap((table) => {
        const own = tableTags(table);
        const columns = table.columns
          .filter((column) => matches({ ...own, ...column.tags }, expression))
          .map((column) => column.name);
        return columns.length > 0 ? [{ table, columns }] : [];
      }),
    };
  }
  for (const key of ["tableWithColumns", "table"]) {
    const value = block(key);
    if (!present(value)) continue;
    if (containsUnknown(value)) return UNKNOWN;
    const database = String(get(value, "databaseName"));
    const name = get(value, "name");
    const all = get(value, "wildcard") === true || !present(name);
    return {
      scope: "data",
      label: `table ${database}.${all ? "*" : String(name)}`,
      matches: tables
        .filter((table) => table.database === database && (all || table.table === name))
        .map((table) => ({
          table,
          columns: key === "table" ? columnsOf(table, {}) : columnsOf(table, value),
        })),
    };
  }
  const filter = block("dataCellsFilter");
  if (present(filter)) {
    if (containsUnknown(filter)) return UNKNOWN;
    const database = String(get(filter, "databaseName"));
    const name = String(get(filter, "tableName"));
    return {
      scope: "data",
      label: `data cells filter ${String(get(filter, "name"))} on ${database}.${name}`,
      matches: tables
        .filter((table) => table.database === database && table.table === name)
        .map((table) => ({ table })),
    };
  }
  const database = block("database");
  if (present(database)) {
    if (containsUnknown(database)) return UNKNOWN;
    const name = String(get(database, "name"));
    return {
      scope: "database",
      label: `database ${name}`,
      matches: tables.filter((table) => table.database === name).map((table) => ({ table })),
    };
  }
  const tag = block("lfTag");
  if (present(tag)) {
    if (containsUnknown(tag)) return UNKNOWN;
    return { scope: "lf-tag", label: `LF-tag ${String(get(tag, "key"))}`, matches: [] };
  }
  const location = block("dataLocation");
  if (present(location)) {
    if (containsUnknown(location)) return UNKNOWN;
    return { scope: "location", label: `data location ${String(get(location, "arn"))}`, matches: [] };
  }
  return { scope: "catalog", label: "the Data Catalog", matches: [] };
}

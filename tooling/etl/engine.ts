import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AtRestProduct } from "../../platform/at-rest";
import { type Column, GLUE_TYPES } from "../../platform/columns";

/**
 * The transforms' SQL run here by DuckDB, the way `runtime/glue/run_transform.py` runs it in Glue
 * (Spark SQL): the same files, over views of the same names and shapes, with the result split into
 * the product's rows and the quarantine the same way. What differs is only where the views come
 * from (local stores instead of JDBC, DynamoDB export and S3) and where the output goes.
 */

/**
 * Spark SQL functions the transforms use that DuckDB names differently, defined in DuckDB with
 * Spark's semantics (docs/etl.md lists the shared subset). Nothing else is translated.
 */
export const SPARK_FUNCTIONS_IN_DUCKDB: readonly string[] = [
  // size(array): element count (the SQL never passes null, where Spark answers -1).
  "CREATE MACRO size(list) AS len(list)",
  // array_join(array, separator): the elements joined, nulls skipped.
  "CREATE MACRO array_join(list, separator) AS array_to_string(list, separator)",
  // unix_timestamp(timestamp): whole seconds since the epoch, rounded down.
  "CREATE MACRO unix_timestamp(ts) AS CAST(floor(epoch(ts)) AS BIGINT)",
];

/** The SQL type DuckDB reports for each Glue type of a product's columns. */
const DUCKDB_TYPES: Readonly<Record<string, string>> = {
  string: "VARCHAR",
  boolean: "BOOLEAN",
  int: "INTEGER",
  bigint: "BIGINT",
  double: "DOUBLE",
  timestamp: "TIMESTAMP",
  "array<string>": "VARCHAR[]",
};

/** The window and deduplication every producer's run applies to its transform's rows. */
export const PUBLISH_SQL = join(__dirname, "..", "..", "runtime", "glue", "publish.sql");

export class EtlError extends Error {
  override readonly name = "EtlError";
}

/** A connection to an in-memory DuckDB with Spark's function names defined. */
export async function openEngine(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const connection = await instance.connect();
  for (const macro of SPARK_FUNCTIONS_IN_DUCKDB) await connection.run(macro);
  return connection;
}

/** Rows of a query as plain objects (bigints as numbers when they fit). */
export async function query(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A source column as the job sees it: text, or a list of texts (DynamoDB lists). */
export interface SourceColumn {
  readonly name: string;
  readonly list?: boolean;
}

/**
 * Loads rows into a table named `view` whose columns are all text (lists: arrays of text), as the
 * Glue job presents every source: the SQL owns the types. Values are stringified the way Spark
 * casts them (numbers in decimal, booleans `true`/`false`); null and absent stay null.
 */
export async function loadTextTable(
  connection: DuckDBConnection,
  view: string,
  columns: readonly SourceColumn[],
  rows: readonly Record<string, unknown>[],
  scratch: string,
): Promise<void> {
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `${view}.ndjson`);
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  writeFileSync(
    file,
    rows
      .map((row) =>
        JSON.stringify(
          Object.fromEntries(
            columns.map((c) => {
              const value = row[c.name];
              return [c.name, c.list ? (Array.isArray(value) ? value.map(text) : text(value)) : text(value)];
            }),
          ),
        ),
      )
      .join("\n") + "\n",
  );
  const types = columns.map((c) => `${quote(c.name)}: ${quote(c.list ? "VARCHAR[]" : "VARCHAR")}`).join(", ");
  await connection.run(
    `CREATE OR REPLACE TABLE ${ident(view)} AS SELECT * FROM read_json(${quote(file)}, format = 'newline_delimited', columns = {${types}})`,
  );
}

/** A view of Parquet files with every scalar column as text, as the Glue job reads S3 Parquet. */
export async function parquetTextView(
  connection: DuckDBConnection,
  view: string,
  glob: string,
): Promise<void> {
  const source = `read_parquet(${quote(glob)}, hive_partitioning = true, hive_types_autocast = false)`;
  const described = await query(connection, `DESCRIBE SELECT * FROM ${source}`);
  const select = described
    .map(({ column_name: name, column_type: type }) =>
      String(type).endsWith("[]")
        ? ident(String(name))
        : `CAST(${ident(String(name))} AS VARCHAR) AS ${ident(String(name))}`,
    )
    .join(", ");
  await connection.run(`CREATE OR REPLACE VIEW ${ident(view)} AS SELECT ${select} FROM ${source}`);
}

/** The half-open window `[start, end)` of change times a run publishes. */
export interface EtlWindow {
  readonly start: Date;
  readonly end: Date;
}

const timestamp = (date: Date) => `TIMESTAMP ${quote(date.toISOString().replace("T", " ").replace("Z", ""))}`;

/** Counts of one producer run. */
export interface ProductRun {
  readonly product: string;
  /** Rows of the source view. */
  readonly rowsIn: number;
  /** Rows written to the product. */
  readonly rowsOut: number;
  /** Rows written to the quarantine, with their reason. */
  readonly quarantined: number;
}

/** Where a product's rows and its quarantine are written, as in its bucket. */
export const productDir = (root: string, product: AtRestProduct) => join(root, product.domain, product.table);
export const quarantineDir = (root: string, product: AtRestProduct) =>
  join(root, product.domain, "quarantine", product.table);

/** The columns a transform's result must have: the product's, its partitions, then the reason. */
export function expectedColumns(product: AtRestProduct): { name: string; type: string }[] {
  const typed = (column: Column) => ({ name: column.name, type: DUCKDB_TYPES[GLUE_TYPES[column.kind]]! });
  return [
    ...product.columns.map(typed),
    ...product.partitionKeys.map(typed),
    { name: "quarantine_reason", type: "VARCHAR" },
  ];
}

/**
 * Runs a producer's transform over its source view (already loaded), then {@link PUBLISH_SQL} over
 * its rows with `etl_window` and `existing_ids` (every event id already written to the product or
 * its quarantine). The result must have exactly the product's columns (throws {@link EtlError} naming the difference), rows
 * without a reason are appended to the product partitioned as declared, the others to the
 * quarantine with their reason.
 */
export async function runProducerTransform(
  connection: DuckDBConnection,
  args: {
    readonly product: AtRestProduct;
    readonly sqlFile: string;
    readonly sourceView: string;
    readonly window: EtlWindow;
    readonly outputRoot: string;
    readonly runId: string;
  },
): Promise<ProductRun> {
  const { product } = args;
  const out = productDir(args.outputRoot, product);
  const quarantine = quarantineDir(args.outputRoot, product);
  await connection.run(
    `CREATE OR REPLACE TABLE etl_window AS SELECT ${timestamp(args.window.start)} AS window_start, ${timestamp(args.window.end)} AS window_end`,
  );
  const written = [out, quarantine]
    .filter((dir) => existsSync(dir))
    .map(
      (dir) =>
        `SELECT event_id FROM read_parquet(${quote(`${dir}/**/*.parquet`)}, hive_partitioning = true, hive_types_autocast = false)`,
    );
  await connection.run(
    `CREATE OR REPLACE TABLE existing_ids AS ${written.length ? written.join(" UNION ALL ") : "SELECT CAST(NULL AS VARCHAR) AS event_id WHERE false"}`,
  );
  await connection.run(`CREATE OR REPLACE VIEW checked AS ${readFileSync(args.sqlFile, "utf8")}`);
  const actual = (await query(connection, "DESCRIBE checked")).map((row) => ({
    name: String(row.column_name),
    type: String(row.column_type),
  }));
  const expected = expectedColumns(product);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    const show = (columns: { name: string; type: string }[]) =>
      columns.map((c) => `${c.name} ${c.type}`).join(", ");
    throw new EtlError(
      `${args.sqlFile}: the result's columns are (${show(actual)}), but ${product.ref}'s table needs (${show(expected)})`,
    );
  }

  await connection.run(`CREATE OR REPLACE TABLE etl_result AS ${readFileSync(PUBLISH_SQL, "utf8")}`);

  const [counts] = await query(
    connection,
    `SELECT (SELECT count(*) FROM ${ident(args.sourceView)}) AS rows_in,
            count(*) FILTER (WHERE quarantine_reason IS NULL) AS rows_out,
            count(*) FILTER (WHERE quarantine_reason IS NOT NULL) AS quarantined
     FROM etl_result`,
  );
  const rowsOut = Number(counts!.rows_out);
  const quarantined = Number(counts!.quarantined);
  const partitions = product.partitionKeys.map((c) => ident(c.name)).join(", ");
  const data = [...product.columns, ...product.partitionKeys].map((c) => ident(c.name)).join(", ");
  if (rowsOut > 0) {
    mkdirSync(out, { recursive: true });
    await connection.run(
      `COPY (SELECT ${data} FROM etl_result WHERE quarantine_reason IS NULL) TO ${quote(out)}
       (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${partitions}), OVERWRITE_OR_IGNORE, FILENAME_PATTERN ${quote(`run-${args.runId}-{i}`)})`,
    );
  }
  if (quarantined > 0) {
    mkdirSync(quarantine, { recursive: true });
    await connection.run(
      `COPY (SELECT * FROM etl_result WHERE quarantine_reason IS NOT NULL) TO ${quote(join(quarantine, `run-${args.runId}.parquet`))} (FORMAT parquet)`,
    );
  }
  return { product: product.ref, rowsIn: Number(counts!.rows_in), rowsOut, quarantined };
}

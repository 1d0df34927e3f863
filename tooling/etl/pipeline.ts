import type { DuckDBConnection } from "@duckdb/node-api";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DatasetTransform, ProducerTransform } from "../../components/etl-job";
import { glueName, type AtRestProduct } from "../../platform/at-rest";
import { loadMesh, type Mesh } from "../../platform/mesh";
import { domains } from "../../domains";
import { interactionsTransform } from "../../domains/interactions/etl";
import { episodesTransform } from "../../domains/podcasts/etl";
import { datasetSchemas } from "../../domains/recommendations/datasets";
import { mergeTransforms } from "../../domains/recommendations/etl";
import { songsTransform } from "../../domains/songs/etl";
import { usersTransform } from "../../domains/users/etl";
import { readStackFile } from "../evaluate";
import {
  EtlError,
  loadTextTable,
  openEngine,
  parquetTextView,
  productDir,
  type EtlWindow,
  type ProductRun,
  query,
  runProducerTransform,
} from "./engine";
import { checkDataset, checkTrainingMinimums } from "./personalize";
import { type Catalogue, generateCatalogue, type SeedOptions } from "./seed";
import {
  exportTable,
  readUsersTable,
  startCatalogueTables,
  startUsersDatabase,
  writeLanding,
} from "./stores";

/**
 * The pipelines at rest, run here end to end on real engines: the generated catalogue seeded into
 * PostgreSQL (PGlite), DynamoDB (dynalite) and Parquet landing files; each source exported as the
 * Glue job sees it; every producer's SQL and the merge's SQL run by DuckDB; the datasets checked
 * against the Personalize schemas and import rules.
 */

/** The shipped mesh of a stack file: its at-rest products and subscriptions. */
export function shippedMesh(stack = "dev"): Mesh {
  const root = join(__dirname, "..", "..");
  const config = readStackFile(join(root, `Pulumi.${stack}.yaml`));
  return loadMesh(
    Object.fromEntries(
      Object.entries(config)
        .filter(([key]) => key.startsWith("mesh:"))
        .map(([key, value]) => [key.slice("mesh:".length), value]),
    ),
    domains,
  );
}

/** The product a domain's transform writes; throws naming it when the mesh has no such product. */
export function productOf(mesh: Mesh, domain: string, transform: ProducerTransform): AtRestProduct {
  const product = mesh.atRestProducts.find((p) => p.domain === domain && p.name === transform.product);
  if (!product)
    throw new EtlError(`${transform.sqlFile}: ${domain} keeps no product ${transform.product} at rest`);
  return product;
}

/** Each producer's transform, by domain. */
export const PRODUCER_TRANSFORMS: readonly { domain: string; transform: ProducerTransform }[] = [
  { domain: "users", transform: usersTransform },
  { domain: "songs", transform: songsTransform },
  { domain: "podcasts", transform: episodesTransform },
  { domain: "interactions", transform: interactionsTransform },
];

/** The consumer domain whose merge reads the products through its at-rest subscriptions. */
export const MERGE_DOMAIN = "recommendations";

const scalar = (names: readonly string[]) => names.map((name) => ({ name }));

/** Each producer source as the Glue job sees it: its columns as text, DynamoDB lists as lists. */
export const SOURCE_COLUMNS = {
  users: scalar(["user_id", "country", "birth_year", "tier", "language", "created_at", "updated_at"]),
  songs: [
    ...scalar(["pk", "sk", "songId", "title", "artistId"]),
    { name: "genres", list: true },
    ...scalar(["durationMs", "releaseYear", "explicit", "publishedAt", "updatedAt"]),
  ],
  episodes: scalar([
    ...["pk", "sk", "episodeId", "podcastId", "title", "category", "language"],
    ...["durationMs", "explicit", "publishedAt", "updatedAt"],
  ]),
} as const;

export interface DatasetRun {
  readonly dataset: DatasetTransform["dataset"];
  readonly file: string;
  readonly rows: number;
  readonly problems: string[];
}

/** The sources, loaded as text tables named as the producers' SQL expects. */
export async function loadSources(
  connection: DuckDBConnection,
  catalogue: Catalogue,
  workDir: string,
): Promise<void> {
  const scratch = join(workDir, "scratch");
  const database = await startUsersDatabase(catalogue.users);
  try {
    const users = await readUsersTable(database);
    await loadTextTable(connection, usersTransform.sourceView, SOURCE_COLUMNS.users, users, scratch);
  } finally {
    await database.close();
  }
  const tables = await startCatalogueTables({
    "mesh-songs-catalogue": catalogue.songItems,
    "mesh-podcasts-catalogue": catalogue.episodeItems,
  });
  try {
    const songs = await exportTable(tables.client, "mesh-songs-catalogue");
    const episodes = await exportTable(tables.client, "mesh-podcasts-catalogue");
    await loadTextTable(connection, songsTransform.sourceView, SOURCE_COLUMNS.songs, songs, scratch);
    await loadTextTable(connection, episodesTransform.sourceView, SOURCE_COLUMNS.episodes, episodes, scratch);
  } finally {
    await tables.stop();
  }
  const landing = join(workDir, "interactions", "landing", "interaction_events");
  await writeLanding(connection, catalogue.interactions, landing, scratch);
  await parquetTextView(connection, interactionsTransform.sourceView, `${landing}/**/*.parquet`);
}

/** Runs every producer's transform over one window. */
export async function runProducers(
  connection: DuckDBConnection,
  mesh: Mesh,
  window: EtlWindow,
  workDir: string,
  runId: string,
): Promise<ProductRun[]> {
  const runs: ProductRun[] = [];
  for (const { domain, transform } of PRODUCER_TRANSFORMS) {
    runs.push(
      await runProducerTransform(connection, {
        product: productOf(mesh, domain, transform),
        sqlFile: transform.sqlFile,
        sourceView: transform.sourceView,
        window,
        outputRoot: workDir,
        runId,
      }),
    );
  }
  return runs;
}

/**
 * The merge: each at-rest subscription of the merge domain as a view of the product's files with
 * exactly its granted columns (what Lake Formation lets the job read), then each dataset's SQL to
 * CSV with a header, checked against its Avro schema and Personalize's import rules.
 */
export async function runMerge(
  connection: DuckDBConnection,
  mesh: Mesh,
  workDir: string,
): Promise<DatasetRun[]> {
  const consumer = mesh.domains.find((domain) => domain.name === MERGE_DOMAIN);
  if (!consumer) throw new EtlError(`the mesh has no ${MERGE_DOMAIN} domain to merge for`);
  for (const subscription of consumer.atRestSubscriptions) {
    const product = subscription.product;
    const columns = [...subscription.columns, ...product.partitionKeys.map((c) => c.name)];
    await connection.run(
      `CREATE OR REPLACE VIEW ${glueName(subscription.name)} AS SELECT ${columns.join(", ")}
       FROM read_parquet('${productDir(workDir, product)}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`,
    );
  }
  const schemas = datasetSchemas();
  const runs: DatasetRun[] = [];
  for (const transform of mergeTransforms) {
    const dir = join(workDir, MERGE_DOMAIN, "datasets", transform.dataset);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${transform.dataset}.csv`);
    const sql = readFileSync(transform.sqlFile, "utf8");
    await connection.run(`COPY (${sql}) TO '${file}' (FORMAT csv, HEADER)`);
    const header = (
      await query(connection, `DESCRIBE SELECT * FROM read_csv('${file}', header = true, all_varchar = true)`)
    ).map((row) => String(row.column_name));
    const rows = (await query(
      connection,
      `SELECT * FROM read_csv('${file}', header = true, all_varchar = true)`,
    )) as Record<string, string | null>[];
    const schema = schemas[transform.dataset];
    const check = checkDataset(schema, header, rows);
    const problems = [
      ...check.problems,
      ...(transform.dataset === "interactions" ? checkTrainingMinimums(rows) : []),
    ];
    runs.push({ dataset: transform.dataset, file, rows: rows.length, problems });
  }
  return runs;
}

export interface LocalRunOptions extends SeedOptions {
  readonly workDir: string;
  /** The windows run one after another (an incremental schedule). */
  readonly windows: readonly EtlWindow[];
}

export interface LocalRunReport {
  readonly catalogue: Catalogue;
  /** Per window, per product. */
  readonly runs: ProductRun[][];
  readonly datasets: DatasetRun[];
  /** Items by CONTENT_TYPE. */
  readonly itemsByType: Record<string, number>;
}

/** Seeds the stores, runs the producers over each window, then the merge. */
export async function runLocalPipeline(options: LocalRunOptions): Promise<LocalRunReport> {
  const mesh = shippedMesh();
  const catalogue = generateCatalogue(options);
  const connection = await openEngine();
  try {
    await loadSources(connection, catalogue, options.workDir);
    const runs: ProductRun[][] = [];
    for (const [index, window] of options.windows.entries()) {
      runs.push(await runProducers(connection, mesh, window, options.workDir, String(index + 1)));
    }
    const datasets = await runMerge(connection, mesh, options.workDir);
    const items = datasets.find((d) => d.dataset === "items")!;
    const itemsByType = Object.fromEntries(
      (
        await query(
          connection,
          `SELECT CONTENT_TYPE AS type, count(*) AS n FROM read_csv('${items.file}', header = true) GROUP BY 1 ORDER BY 1`,
        )
      ).map((row) => [String(row.type), Number(row.n)]),
    );
    return { catalogue, runs, datasets, itemsByType };
  } finally {
    connection.closeSync();
  }
}

import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  paginateScan,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { DuckDBConnection } from "@duckdb/node-api";
import { PGlite } from "@electric-sql/pglite";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { LandedInteraction, UserRow } from "./seed";

/**
 * The sources as real engines hold them here: PostgreSQL (PGlite, the users database), DynamoDB
 * (dynalite, the catalogue tables) and Parquet files (the landing prefix Firehose writes).
 */

/** public.users as the users service keeps it: no CHECK constraints, so bad values get in. */
const USERS_TABLE = `CREATE TABLE users (
  user_id text PRIMARY KEY,
  country text NOT NULL,
  birth_year integer,
  tier text,
  language text,
  created_at timestamptz,
  updated_at timestamptz
)`;

export async function startUsersDatabase(users: readonly UserRow[]): Promise<PGlite> {
  const db = await PGlite.create();
  await db.exec(USERS_TABLE);
  for (let i = 0; i < users.length; i += 500) {
    const chunk = users.slice(i, i + 500);
    const values = chunk.map((_, r) => `(${[1, 2, 3, 4, 5, 6, 7].map((c) => `$${r * 7 + c}`).join(", ")})`);
    await db.query(
      `INSERT INTO users (user_id, country, birth_year, tier, language, created_at, updated_at) VALUES ${values.join(", ")}`,
      chunk.flatMap((u) => [
        u.user_id,
        u.country,
        u.birth_year,
        u.tier,
        u.language,
        u.created_at,
        u.updated_at,
      ]),
    );
  }
  return db;
}

/**
 * public.users as the Glue job reads it through JDBC and casts to text: timestamps in UTC as Spark
 * prints them (`2026-11-03 10:00:00.123`).
 */
export async function readUsersTable(db: PGlite): Promise<Record<string, unknown>[]> {
  const text = (column: string) =>
    `rtrim(rtrim(to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), '0'), '.') AS ${column}`;
  const result = await db.query<Record<string, unknown>>(
    `SELECT user_id, country, birth_year::text AS birth_year, tier, language, ${text("created_at")}, ${text("updated_at")} FROM users`,
  );
  return result.rows;
}

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

export interface LocalCatalogueTables {
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

/** dynalite on 127.0.0.1 with one catalogue table (`pk`/`sk`) per entry, filled with its items. */
export async function startCatalogueTables(
  tables: Readonly<Record<string, readonly Record<string, unknown>[]>>,
): Promise<LocalCatalogueTables> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  for (const [name, items] of Object.entries(tables)) {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    for (let i = 0; i < items.length; i += 25) {
      const requests = items
        .slice(i, i + 25)
        .map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } }));
      let unprocessed: typeof requests | undefined = requests;
      while (unprocessed?.length) {
        const answer = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [name]: unprocessed } }),
        );
        unprocessed = answer.UnprocessedItems?.[name] as typeof requests | undefined;
      }
    }
  }
  return {
    client,
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/**
 * Every item of a table, unmarshalled, standing in for the DynamoDB export the Glue job reads
 * (`dynamodb.export: ddb`, `dynamodb.unnestDDBJson: true`): the same items, read from a
 * point-in-time export in S3 instead of the table.
 */
export async function exportTable(client: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client }, { TableName: table })) {
    for (const item of page.Items ?? []) items.push(unmarshall(item));
  }
  return items;
}

/**
 * The landing prefix as Firehose writes it: Parquet typed as the product's table, partitioned by
 * `event_date`, duplicates and contract violations included (Firehose converts types, it does not
 * check the contract).
 */
export async function writeLanding(
  connection: DuckDBConnection,
  rows: readonly LandedInteraction[],
  dir: string,
  scratch: string,
): Promise<void> {
  mkdirSync(scratch, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const file = join(scratch, "landing.ndjson");
  writeFileSync(file, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
  await connection.run(
    `COPY (
       SELECT event_id, event_type, CAST(event_time AS TIMESTAMP) AS event_time, user_id, item_id, item_type,
              session_id, CAST(occurred_at AS TIMESTAMP) AS occurred_at, device,
              CAST(played_ms AS BIGINT) AS played_ms, CAST(position_ms AS BIGINT) AS position_ms,
              CAST(CAST(CAST(event_time AS TIMESTAMP) AS DATE) AS VARCHAR) AS event_date
       FROM read_json('${file}', format = 'newline_delimited', columns = {
         event_id: 'VARCHAR', event_type: 'VARCHAR', event_time: 'VARCHAR', user_id: 'VARCHAR',
         item_id: 'VARCHAR', item_type: 'VARCHAR', session_id: 'VARCHAR', occurred_at: 'VARCHAR',
         device: 'VARCHAR', played_ms: 'BIGINT', position_ms: 'BIGINT'}))
     TO '${dir}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (event_date), OVERWRITE_OR_IGNORE)`,
  );
}

import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { itemInteractionEventTypes } from "../../domains/recommendations/datasets";
import { openEngine, PUBLISH_SQL } from "../../tooling/etl/engine";
import { unsharedFunctions, unsharedSyntax } from "../../tooling/etl/sql-subset";

const ROOT = join(__dirname, "..", "..");
/** Every SQL file the Glue jobs run: the domains' transforms and the publish step. */
const SQL_FILES = [
  ...readdirSync(join(ROOT, "domains")).flatMap((domain) => {
    try {
      return readdirSync(join(ROOT, "domains", domain, "etl"))
        .filter((file) => file.endsWith(".sql"))
        .map((file) => join(ROOT, "domains", domain, "etl", file));
    } catch {
      return [];
    }
  }),
  PUBLISH_SQL,
];

/** Empty views of the names and shapes the SQL files read, every column text (lists: text[]). */
const VIEWS: Record<string, string> = {
  users_source: "user_id, country, birth_year, tier, language, created_at, updated_at",
  songs_source:
    "pk, sk, songId, title, artistId, genres VARCHAR[], durationMs, releaseYear, explicit, publishedAt, updatedAt",
  episodes_source:
    "pk, sk, episodeId, podcastId, title, category, language, durationMs, explicit, publishedAt, updatedAt",
  interactions_landing:
    "event_id, event_type, event_time, user_id, item_id, item_type, session_id, occurred_at, device, played_ms, position_ms",
};

async function emptyViews(connection: DuckDBConnection): Promise<void> {
  for (const [name, columns] of Object.entries(VIEWS)) {
    const typed = columns
      .split(", ")
      .map((column) => (column.includes(" ") ? column : `${column} VARCHAR`))
      .join(", ");
    await connection.run(`CREATE TABLE ${name} (${typed})`);
  }
}

describe("etl: the SQL files use only what Spark SQL and DuckDB share", () => {
  it("finds the transforms of every producer and of the merge", () => {
    const names = SQL_FILES.map((file) => file.slice(ROOT.length + 1));
    for (const expected of [
      "domains/users/etl/users.sql",
      "domains/songs/etl/songs.sql",
      "domains/podcasts/etl/episodes.sql",
      "domains/interactions/etl/interaction-events.sql",
      "domains/recommendations/etl/items.sql",
    ]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
    }
  });

  for (const file of SQL_FILES) {
    const name = file.slice(ROOT.length + 1);
    it(`${name}: calls only shared functions and no engine-specific syntax`, () => {
      const sql = readFileSync(file, "utf8");
      assert.deepEqual(unsharedFunctions(sql), []);
      assert.deepEqual(unsharedSyntax(sql), []);
    });
  }

  it("every SQL file parses and binds in DuckDB over views of the shapes the jobs register", async () => {
    const connection = await openEngine();
    try {
      await emptyViews(connection);
      const producers = SQL_FILES.filter((file) => !file.includes("recommendations") && file !== PUBLISH_SQL);
      for (const file of producers) {
        await connection.run(`CREATE OR REPLACE VIEW checked AS ${readFileSync(file, "utf8")}`);
        await connection.run(`EXPLAIN SELECT * FROM checked`);
      }
      await connection.run(
        "CREATE TABLE etl_window AS SELECT TIMESTAMP '2026-01-01' AS window_start, TIMESTAMP '2026-01-02' AS window_end",
      );
      await connection.run("CREATE TABLE existing_ids (event_id VARCHAR)");
      await connection.run(`EXPLAIN ${readFileSync(PUBLISH_SQL, "utf8")}`);
    } finally {
      connection.closeSync();
    }
  });

  it("the checker catches what one engine lacks", () => {
    assert.deepEqual(unsharedFunctions("SELECT epoch(t), array_to_string(g, '|') -- size(x)\nFROM v"), [
      "epoch",
      "array_to_string",
    ]);
    assert.equal(unsharedSyntax("SELECT x::int FROM v QUALIFY row_number() OVER () = 1").length, 2);
    assert.deepEqual(unsharedFunctions("SELECT 'epoch(' AS text FROM v WHERE a IN (1)"), []);
  });

  it("the merge keeps exactly the interaction types whose items are in the Items dataset", () => {
    const sql = readFileSync(join(ROOT, "domains/recommendations/etl/interactions.sql"), "utf8");
    const listed = /event_type IN \(([^)]*)\)/
      .exec(sql)![1]!
      .match(/'[^']*'/g)!
      .map((t) => t.slice(1, -1));
    assert.deepEqual(listed.sort(), itemInteractionEventTypes().sort());
  });
});

import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { interactionEvents } from "../../domains/interactions/contract";
import { interactionsTransform } from "../../domains/interactions/etl";
import { episodesTransform } from "../../domains/podcasts/etl";
import { songsTransform } from "../../domains/songs/etl";
import { usersTransform } from "../../domains/users/etl";
import { currentVersion } from "../../platform/contract";
import type { Mesh } from "../../platform/mesh";
import {
  EtlError,
  loadTextTable,
  openEngine,
  parquetTextView,
  productDir,
  query,
  quarantineDir,
  runProducerTransform,
  type EtlWindow,
} from "../../tooling/etl/engine";
import { productOf, shippedMesh, SOURCE_COLUMNS } from "../../tooling/etl/pipeline";
import { generateCatalogue, landedPayload } from "../../tooling/etl/seed";
import { writeLanding } from "../../tooling/etl/stores";

const NOVEMBER: EtlWindow = {
  start: new Date("2026-11-01T00:00:00Z"),
  end: new Date("2026-12-01T00:00:00Z"),
};

describe("etl: each producer's transform on sample data (DuckDB)", () => {
  let mesh: Mesh;
  let connection: DuckDBConnection;
  let dir: string;
  before(() => {
    mesh = shippedMesh();
  });
  beforeEach(async () => {
    connection = await openEngine();
    dir = mkdtempSync(join(tmpdir(), "etl-test-"));
  });
  afterEach(() => {
    connection.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (domain: string, transform: typeof usersTransform, window = NOVEMBER, runId = "1") =>
    runProducerTransform(connection, {
      product: productOf(mesh, domain, transform),
      sqlFile: transform.sqlFile,
      sourceView: transform.sourceView,
      window,
      outputRoot: dir,
      runId,
    });
  const written = (domain: string, transform: typeof usersTransform) =>
    query(
      connection,
      `SELECT * FROM read_parquet('${productDir(dir, productOf(mesh, domain, transform))}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false) ORDER BY event_id`,
    );
  const quarantined = async (domain: string, transform: typeof usersTransform, key = "event_id") =>
    (
      await query(
        connection,
        `SELECT * FROM read_parquet('${quarantineDir(dir, productOf(mesh, domain, transform))}/*.parquet')`,
      )
    ).map((row) => [row[key], row.quarantine_reason]);

  it("users: publishes each profile version with the contract's types and quarantines bad rows with their reason", async () => {
    const columns = SOURCE_COLUMNS.users;
    await loadTextTable(
      connection,
      usersTransform.sourceView,
      columns,
      [
        {
          user_id: "u-1",
          country: "GB",
          birth_year: "1990",
          tier: "free",
          created_at: "2026-11-02 10:00:00",
        },
        {
          user_id: "u-2",
          country: "DE",
          tier: "premium",
          language: "de",
          created_at: "2026-11-01 08:00:00",
          updated_at: "2026-11-03 09:30:00.5",
        },
        { user_id: "u-3", country: "gb", tier: "gold", created_at: "2026-11-02 10:00:00" },
        {
          user_id: "u-4",
          country: "FR",
          birth_year: "19x0",
          tier: "free",
          created_at: "2026-11-02 10:00:00",
        },
        { user_id: "u-5", country: "FR", tier: "free" },
      ],
      dir,
    );
    const counts = await run("users", usersTransform);
    assert.deepEqual(counts, { product: "users/users", rowsIn: 5, rowsOut: 2, quarantined: 3 });
    const rows = await written("users", usersTransform);
    assert.deepEqual(
      rows.map((r) => [r.event_id, r.event_type, r.user_id, r.birth_year, String(r.event_date)]),
      [
        ["users:u-1:2026-11-02 10:00:00", "user.created", "u-1", 1990, "2026-11-02"],
        ["users:u-2:2026-11-03 09:30:00.5", "user.updated", "u-2", null, "2026-11-03"],
      ],
    );
    assert.deepEqual((await quarantined("users", usersTransform, "user_id")).sort(), [
      [
        "u-3",
        "country: gb is not an ISO 3166-1 alpha-2 code; tier: gold is not one of free, premium, family",
      ],
      ["u-4", "birth_year: 19x0 is not an integer from 1900 to 2100"],
      ["u-5", "created_at: required"],
    ]);
  });

  it("songs: reads only the songs of the catalogue table (not its outbox items) and quarantines bad types", async () => {
    const columns = SOURCE_COLUMNS.songs;
    const song = {
      pk: "song#s-1",
      sk: "song",
      songId: "s-1",
      title: "Intro",
      artistId: "a-1",
      genres: ["ambient", "rock"],
      durationMs: "61000",
      releaseYear: "2026",
      explicit: "false",
      publishedAt: "2026-11-05T10:00:00.000Z",
    };
    await loadTextTable(
      connection,
      songsTransform.sourceView,
      columns,
      [
        song,
        { ...song, pk: "song#s-2", songId: "s-2", durationMs: "three minutes", genres: [] },
        { ...song, pk: "song#s-3", songId: "s-3", explicit: "maybe", genres: ["rock", ""] },
        { pk: "outbox#song-events#s-1", sk: "outbox" },
      ],
      dir,
    );
    const counts = await run("songs", songsTransform);
    assert.deepEqual(counts, { product: "songs/songs", rowsIn: 4, rowsOut: 1, quarantined: 2 });
    const [row] = await written("songs", songsTransform);
    assert.deepEqual(
      [
        row!.song_id,
        row!.genres,
        Number(row!.duration_ms),
        row!.release_year,
        row!.explicit,
        row!.event_type,
      ],
      ["s-1", ["ambient", "rock"], 61000, 2026, false, "song.published"],
    );
    assert.deepEqual((await quarantined("songs", songsTransform, "song_id")).sort(), [
      ["s-2", "durationMs: three minutes is not a positive integer"],
      ["s-3", "genres: rock| has a genre that is not 1 to 64 characters; explicit: maybe is not a boolean"],
    ]);
  });

  it("episodes: quarantines a missing category and a negative duration", async () => {
    const columns = SOURCE_COLUMNS.episodes;
    const episode = {
      pk: "episode#e-1",
      sk: "episode",
      episodeId: "e-1",
      podcastId: "p-1",
      title: "Pilot",
      category: "news",
      language: "en",
      durationMs: "1800000",
      explicit: "true",
      publishedAt: "2026-11-05T10:00:00Z",
      updatedAt: "2026-11-06T10:00:00Z",
    };
    await loadTextTable(
      connection,
      episodesTransform.sourceView,
      columns,
      [episode, { ...episode, episodeId: "e-2", category: null, durationMs: "-5" }],
      dir,
    );
    assert.deepEqual(await run("podcasts", episodesTransform), {
      product: "podcasts/episodes",
      rowsIn: 2,
      rowsOut: 1,
      quarantined: 1,
    });
    const [row] = await written("podcasts", episodesTransform);
    assert.deepEqual([row!.event_type, row!.explicit], ["episode.updated", true]);
    assert.deepEqual(await quarantined("podcasts", episodesTransform, "episode_id"), [
      ["e-2", "category: required, 1 to 64 characters; durationMs: -5 is not a positive integer"],
    ]);
  });

  /** Landed interactions from the seeded generator, as Firehose writes them (Parquet, typed). */
  async function landInteractions(count: number): Promise<ReturnType<typeof generateCatalogue>> {
    const catalogue = generateCatalogue({
      seed: 7,
      users: 40,
      songs: 30,
      episodes: 20,
      interactions: count,
      badShare: 0.1,
      duplicateShare: 0.1,
      from: NOVEMBER.start,
      days: 28,
    });
    const landing = join(dir, "landing");
    await writeLanding(connection, catalogue.interactions, landing, join(dir, "scratch"));
    await parquetTextView(connection, interactionsTransform.sourceView, `${landing}/**/*.parquet`);
    return catalogue;
  }

  it("interactions: each event once, and a row is quarantined exactly when the contract rejects it", async () => {
    const catalogue = await landInteractions(400);
    const counts = await run("interactions", interactionsTransform);
    const unique = new Set(catalogue.interactions.map((row) => row.event_id)).size;
    assert.ok(catalogue.duplicates > 0 && catalogue.bad.interactions > 0);
    assert.equal(counts.rowsIn, catalogue.interactions.length);
    assert.equal(
      counts.rowsOut + counts.quarantined,
      unique,
      "every distinct event is published or quarantined",
    );
    const ids = (await written("interactions", interactionsTransform)).map((row) => row.event_id);
    assert.equal(new Set(ids).size, ids.length, "no event id twice");

    // The SQL's verdict on every landed row agrees with the contract's zod schemas.
    const events = currentVersion(interactionEvents).events;
    const rejectedByContract = new Set<string>();
    for (const row of catalogue.interactions) {
      const schema = events[row.event_type];
      const payload = landedPayload(row);
      if (!schema || !schema.safeParse(payload).success) rejectedByContract.add(row.event_id!);
    }
    const quarantinedIds = new Set(
      (await quarantined("interactions", interactionsTransform)).map(([id]) => id),
    );
    assert.equal(counts.quarantined, rejectedByContract.size);
    assert.deepEqual([...quarantinedIds].sort(), [...rejectedByContract].sort());
  });

  it("an incremental second run over an overlapping window adds no duplicate, and the two runs add up to one full run", async () => {
    await landInteractions(600);
    const day = 86_400_000;
    const first = await run(
      "interactions",
      interactionsTransform,
      { start: NOVEMBER.start, end: new Date(NOVEMBER.start.getTime() + 18 * day) },
      "1",
    );
    const second = await run(
      "interactions",
      interactionsTransform,
      { start: new Date(NOVEMBER.start.getTime() + 14 * day), end: NOVEMBER.end },
      "2",
    );
    const again = await run("interactions", interactionsTransform, NOVEMBER, "3");
    assert.deepEqual([again.rowsOut, again.quarantined], [0, 0], "a rerun over everything adds nothing");
    const ids = (await written("interactions", interactionsTransform)).map((row) => String(row.event_id));
    assert.equal(new Set(ids).size, ids.length, "no event id twice");

    const full = await openEngine();
    const fullDir = mkdtempSync(join(tmpdir(), "etl-full-"));
    try {
      await parquetTextView(full, interactionsTransform.sourceView, `${join(dir, "landing")}/**/*.parquet`);
      const once = await runProducerTransform(full, {
        product: productOf(mesh, "interactions", interactionsTransform),
        sqlFile: interactionsTransform.sqlFile,
        sourceView: interactionsTransform.sourceView,
        window: NOVEMBER,
        outputRoot: fullDir,
        runId: "1",
      });
      assert.equal(first.rowsOut + second.rowsOut, once.rowsOut);
      assert.equal(first.quarantined + second.quarantined, once.quarantined);
    } finally {
      full.closeSync();
      rmSync(fullDir, { recursive: true, force: true });
    }
  });

  it("refuses a transform whose result is not exactly the product's table, naming the columns", async () => {
    await loadTextTable(connection, "users_source", [{ name: "user_id" }], [{ user_id: "u-1" }], dir);
    const wrong = join(dir, "wrong.sql");
    writeFileSync(
      wrong,
      "SELECT user_id AS event_id, CAST(NULL AS STRING) AS quarantine_reason FROM users_source",
    );
    await assert.rejects(
      run("users", { ...usersTransform, sqlFile: wrong }),
      (error: Error) =>
        error instanceof EtlError &&
        error.message.startsWith(
          `${wrong}: the result's columns are (event_id VARCHAR, quarantine_reason VARCHAR), but users/users's table needs (event_id VARCHAR, event_type VARCHAR, event_time TIMESTAMP, user_id VARCHAR,`,
        ),
    );
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLocalPipeline } from "../tooling/etl/pipeline";

/**
 * npm run etl [-- --keep]: the pipelines at rest on real engines (docs/etl.md). Seeds PostgreSQL,
 * DynamoDB and the landing files with a generated catalogue, runs every producer's SQL in two
 * overlapping windows (the second must add nothing it already wrote) and the merge, checks the
 * datasets against the Personalize schemas and import rules, and prints the counts. Exits 1 when
 * a dataset breaks a rule.
 */
async function main(): Promise<number> {
  const started = Date.now();
  const keep = process.argv.includes("--keep");
  const workDir = mkdtempSync(join(tmpdir(), "mesh-etl-"));
  const from = new Date("2026-11-01T00:00:00Z");
  const day = 86_400_000;
  try {
    const report = await runLocalPipeline({
      seed: 2026,
      users: 5000,
      songs: 4000,
      episodes: 3000,
      interactions: 20000,
      from,
      days: 28,
      workDir,
      // Two runs whose windows overlap by four days, as a schedule with a lookback runs them.
      windows: [
        { start: from, end: new Date(from.getTime() + 18 * day) },
        { start: new Date(from.getTime() + 14 * day), end: new Date(from.getTime() + 29 * day) },
      ],
    });
    const { catalogue } = report;
    console.log(
      `seeded: ${catalogue.users.length} users (PostgreSQL), ${catalogue.songItems.length} song table items and ` +
        `${catalogue.episodeItems.length} episode table items (DynamoDB, outbox items included), ` +
        `${catalogue.interactions.length} landed interactions (${catalogue.duplicates} landed twice)`,
    );
    console.log(
      `made bad: ${catalogue.bad.users} users, ${catalogue.bad.songs} songs, ${catalogue.bad.episodes} episodes, ${catalogue.bad.interactions} interactions`,
    );
    console.log("\nproduct                          run  rows in  rows out  quarantined");
    report.runs.forEach((runs, index) => {
      for (const run of runs) {
        console.log(
          `${run.product.padEnd(32)} ${String(index + 1).padStart(3)} ${String(run.rowsIn).padStart(8)} ${String(run.rowsOut).padStart(9)} ${String(run.quarantined).padStart(12)}`,
        );
      }
    });
    console.log("\ndataset        rows");
    for (const dataset of report.datasets) {
      console.log(
        `${dataset.dataset.padEnd(12)} ${String(dataset.rows).padStart(6)}${keep ? `  ${dataset.file}` : ""}`,
      );
    }
    const byType = report.itemsByType;
    console.log(
      `\nitems by CONTENT_TYPE: ${byType.song ?? 0} song (songs), ${byType.episode ?? 0} episode (podcast episodes)`,
    );
    const problems = report.datasets.flatMap((dataset) => dataset.problems);
    for (const problem of problems) console.error(`problem: ${problem}`);
    console.log(
      problems.length
        ? `\n${problems.length} problems with the Personalize datasets`
        : "\nthe datasets match the Personalize schemas and import rules",
    );
    console.log(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s${keep ? `; output in ${workDir}` : ""}`,
    );
    return problems.length ? 1 : 0;
  } finally {
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  },
);

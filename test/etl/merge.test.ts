import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { datasetSchemas } from "../../domains/recommendations/datasets";
import { interactionEvents } from "../../domains/interactions/contract";
import {
  propertyKey,
  toItem,
  toPutEventsEntry,
  toUser,
} from "../../domains/recommendations/handlers/personalize";
import { currentVersion } from "../../platform/contract";
import { landedPayload } from "../../tooling/etl/seed";
import type { StreamEvent } from "../../runtime/consumer-kit";
import { checkDataset, checkTrainingMinimums } from "../../tooling/etl/personalize";
import { type LocalRunReport, runLocalPipeline } from "../../tooling/etl/pipeline";

const FROM = new Date("2026-11-01T00:00:00Z");
const DAY = 86_400_000;

describe("etl: the whole pipeline on real engines (PGlite, dynalite, DuckDB) and the merge", function () {
  this.timeout(60_000);
  let dir: string;
  let report: LocalRunReport;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "etl-merge-"));
    report = await runLocalPipeline({
      seed: 11,
      users: 120,
      songs: 80,
      episodes: 60,
      interactions: 1600,
      from: FROM,
      days: 28,
      workDir: dir,
      windows: [
        { start: FROM, end: new Date(FROM.getTime() + 18 * DAY) },
        { start: new Date(FROM.getTime() + 14 * DAY), end: new Date(FROM.getTime() + 29 * DAY) },
      ],
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The CSV rows of a dataset, by header. */
  const csvRows = (dataset: string) => {
    const [header, ...lines] = readFileSync(report.datasets.find((d) => d.dataset === dataset)!.file, "utf8")
      .trim()
      .split("\n");
    const names = header!.split(",");
    return lines.map((line) => Object.fromEntries(line.split(",").map((value, i) => [names[i]!, value])));
  };
  /** What the live handler would send for a payload: its id and properties, as the CSV writes them. */
  const asCsv = (id: string, properties: string | undefined) => ({
    id,
    ...Object.fromEntries(Object.entries(JSON.parse(properties ?? "{}")).map(([k, v]) => [k, String(v)])),
  });
  const event = (type: string, data: Record<string, unknown>, id = `evt-${type}`) =>
    ({ envelope: { id, type, data } }) as unknown as StreamEvent;

  it("publishes every source row once or quarantines it, across two overlapping windows", () => {
    const { catalogue } = report;
    const total = (product: string) =>
      report.runs
        .flat()
        .filter((run) => run.product === product)
        .reduce((sum, run) => sum + run.rowsOut + run.quarantined, 0);
    assert.equal(total("users/users"), catalogue.users.length);
    assert.equal(total("songs/songs"), catalogue.songItems.filter((item) => item.sk === "song").length);
    assert.equal(
      total("podcasts/episodes"),
      catalogue.episodeItems.filter((item) => item.sk === "episode").length,
    );
    assert.equal(
      total("interactions/interaction-events"),
      new Set(catalogue.interactions.map((r) => r.event_id)).size,
    );
    const quarantined = (product: string) =>
      report.runs
        .flat()
        .filter((run) => run.product === product)
        .reduce((sum, run) => sum + run.quarantined, 0);
    assert.equal(quarantined("users/users"), catalogue.bad.users);
    assert.equal(quarantined("songs/songs"), catalogue.bad.songs);
    assert.equal(quarantined("podcasts/episodes"), catalogue.bad.episodes);
  });

  it("writes the three datasets with the Personalize schemas' headers and no rule broken", () => {
    assert.deepEqual(
      report.datasets.map((dataset) => [dataset.dataset, dataset.problems]),
      [
        ["users", []],
        ["items", []],
        ["interactions", []],
      ],
    );
    const header = (dataset: string) =>
      readFileSync(report.datasets.find((d) => d.dataset === dataset)!.file, "utf8").split("\n")[0];
    const schemas = datasetSchemas();
    assert.equal(header("items"), schemas.items.fields.map((f) => f.name).join(","));
    assert.equal(header("users"), schemas.users.fields.map((f) => f.name).join(","));
  });

  it("merges songs and podcast episodes into one items dataset, told apart by CONTENT_TYPE", () => {
    const good = (sk: string, items: readonly Record<string, unknown>[]) =>
      items.filter((item) => item.sk === sk).length;
    const { catalogue } = report;
    assert.deepEqual(report.itemsByType, {
      episode: good("episode", catalogue.episodeItems) - catalogue.bad.episodes,
      song: good("song", catalogue.songItems) - catalogue.bad.songs,
    });
    const lines = readFileSync(report.datasets.find((d) => d.dataset === "items")!.file, "utf8")
      .trim()
      .split("\n")
      .slice(1);
    assert.ok(
      lines.every((line) => /^(song:s-\d+,song|episode:e-\d+,episode),/.test(line)),
      lines[0],
    );
  });

  it("writes each item and user exactly as the live handlers send them (toItem, toUser)", () => {
    const { catalogue } = report;
    const schema = datasetSchemas();
    const fromCsv = (row: Record<string, string>, idColumn: string, fields: readonly { name: string }[]) => ({
      id: row[idColumn],
      ...Object.fromEntries(
        fields
          .filter((f) => f.name !== idColumn && row[f.name] !== "")
          .map((f) => [propertyKey(f.name), row[f.name]]),
      ),
    });
    const items = csvRows("items");
    assert.ok(items.length > 100);
    for (const row of items) {
      const [kind, id] = row.ITEM_ID!.split(":");
      const source = (kind === "song" ? catalogue.songItems : catalogue.episodeItems).find(
        (item) => item.pk === `${kind}#${id}`,
      )!;
      const { pk: _pk, sk: _sk, updatedAt: _updated, ...payload } = source;
      const sent = toItem(event(`${kind}.published`, payload))!;
      assert.deepEqual(
        fromCsv(row, "ITEM_ID", schema.items.fields),
        asCsv(sent.value.itemId!, sent.value.properties),
      );
    }
    const users = csvRows("users");
    assert.ok(users.length > 100);
    for (const row of users) {
      const user = catalogue.users.find((u) => u.user_id === row.USER_ID)!;
      const sent = toUser(
        event("user.created", {
          userId: user.user_id,
          country: user.country,
          tier: user.tier ?? undefined,
          language: user.language ?? undefined,
        }),
      )!;
      assert.deepEqual(
        fromCsv(row, "USER_ID", schema.users.fields),
        asCsv(sent.value.userId!, sent.value.properties),
      );
    }
  });

  it("writes each interaction with an item once, as the live interactions-update handler sends it", () => {
    const events = currentVersion(interactionEvents).events;
    const seen = new Set<string>();
    const expected: string[] = [];
    for (const row of report.catalogue.interactions) {
      if (seen.has(row.event_id!)) continue;
      seen.add(row.event_id!);
      const payload = landedPayload(row);
      if (!events[row.event_type]?.safeParse(payload).success) continue; // quarantined
      const entry = toPutEventsEntry(event(row.event_type, payload, row.event_id!));
      if (!entry) continue; // a follow: not an item interaction
      const sent = entry.personalizeEvent;
      const device = (JSON.parse(sent.properties ?? "{}") as { device?: string }).device ?? "";
      const value = sent.eventValue === undefined ? "" : String(sent.eventValue);
      const seconds = Math.floor(sent.sentAt!.getTime() / 1000);
      expected.push([entry.userId, sent.itemId, seconds, sent.eventType, value, device].join(","));
    }
    const actual = csvRows("interactions").map((row) =>
      [
        row.USER_ID,
        row.ITEM_ID,
        row.TIMESTAMP,
        row.EVENT_TYPE,
        row.EVENT_VALUE === "" ? "" : String(Number(row.EVENT_VALUE)),
        row.DEVICE,
      ].join(","),
    );
    assert.ok(actual.length >= 1000);
    assert.deepEqual(actual.sort(), expected.sort());
  });
});

describe("etl: Personalize's import rules", () => {
  const { users, interactions } = datasetSchemas();
  const header = users.fields.map((field) => field.name);

  it("accepts a valid row and names a wrong header, a missing required value and a non-number", () => {
    assert.deepEqual(
      checkDataset(users, header, [{ USER_ID: "u-1", COUNTRY: "GB", TIER: "free", LANGUAGE: null }]).problems,
      [],
    );
    assert.deepEqual(checkDataset(users, ["USER_ID", "COUNTRY"], []).problems, [
      "Users: header is USER_ID,COUNTRY, the schema's fields are USER_ID,COUNTRY,TIER,LANGUAGE",
    ]);
    assert.deepEqual(
      checkDataset(users, header, [{ USER_ID: null, COUNTRY: "GB", TIER: "free", LANGUAGE: null }]).problems,
      ["Users row 1: not a valid Users record (USER_ID)"],
    );
    const row = {
      USER_ID: "u-1",
      ITEM_ID: "song:s-1",
      TIMESTAMP: "1793535378000",
      EVENT_TYPE: "interaction.play",
      EVENT_VALUE: "many",
      DEVICE: null,
    };
    assert.deepEqual(
      checkDataset(
        interactions,
        interactions.fields.map((f) => f.name),
        [row],
      ).problems,
      [
        "Interactions row 1: TIMESTAMP 1793535378000 is not in Unix seconds",
        "Interactions row 1: EVENT_VALUE many is not a float",
        "Interactions row 1: not a valid Interactions record (EVENT_VALUE)",
      ],
    );
  });

  it("names too few interactions or active users for training", () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ USER_ID: `u-${i % 20}` }));
    assert.deepEqual(checkTrainingMinimums(rows), [
      "Interactions: 40 rows, training needs at least 1000",
      "Interactions: 20 users with 2 or more interactions, training needs at least 25",
    ]);
  });
});

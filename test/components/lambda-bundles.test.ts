import { strict as assert } from "node:assert";
import { join } from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { buildBundles, bundleHandler, holdBundling, type Bundle } from "../../components/lambda";

const root = join(__dirname, "..", "..");
const entries = [
  "domains/recommendations/handlers/interactions-update.ts",
  "domains/analytics/handlers/interactions-ingestor.ts",
  "runtime/push/authorizer.ts",
].map((entry) => join(root, entry));

describe("handler bundles", () => {
  it("built together in one call, are byte for byte the bundles built one by one", async () => {
    const together = await buildBundles(entries);
    for (const entry of entries) {
      const alone = (await buildBundles([entry])).get(entry)!;
      assert.equal(together.get(entry)!.sha256, alone.sha256, entry);
      assert.ok(alone.code.length > 1000, entry);
    }
    assert.equal(new Set([...together.values()].map((b) => b.sha256)).size, entries.length);
  });

  it("asked for in one turn, are built once and handed to every caller", async () => {
    const [first, again, other] = await Promise.all([
      bundleHandler(entries[0]!),
      bundleHandler(entries[0]!),
      bundleHandler(entries[1]!),
    ]);
    assert.equal(first, again);
    assert.equal(first!.sha256, (await buildBundles([entries[0]!])).get(entries[0]!)!.sha256);
    assert.notEqual(first!.sha256, other!.sha256);
  });

  it("held, are built only once released, every entry asked for over several turns together", async () => {
    // Entries no other test of this process has bundled (the cache is per process).
    const dir = mkdtempSync(join(tmpdir(), "held-bundles-"));
    const [entry, otherEntry] = ["one", "two"].map((name) => {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, `export const handler = async () => "${name}";\n`);
      return file;
    });
    const release = holdBundling();
    let built = false;
    let first: Promise<Bundle>, other: Promise<Bundle>;
    try {
      first = bundleHandler(entry!).then((bundle) => ((built = true), bundle));
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(bundleHandler(entry!), bundleHandler(entry!), "an entry being built is not built again");
      other = bundleHandler(otherEntry!);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(built, false, "nothing is built while held");
    } finally {
      release();
    }
    const [one, two] = await Promise.all([first, other]);
    assert.ok(built);
    assert.match(one.code, /"one"/);
    assert.match(two.code, /"two"/);
    assert.equal(one.sha256, (await buildBundles([entry!])).get(entry!)!.sha256);
  });

  it("names the entry that cannot be built", async () => {
    await assert.rejects(bundleHandler(join(root, "no-such-handler.ts")), /no-such-handler\.ts/);
  });
});

import { strict as assert } from "node:assert";
import { join } from "node:path";
import { buildBundles, bundleHandler, holdBundling } from "../../components/lambda";

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
    const entry = join(root, "runtime/push/connect.ts");
    const release = holdBundling();
    let built = false;
    const first = bundleHandler(entry).then((bundle) => ((built = true), bundle));
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bundleHandler(entry), bundleHandler(entry), "an entry being built is not built again");
    const other = bundleHandler(join(root, "runtime/push/disconnect.ts"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(built, false, "nothing is built while held");
    release();
    const [one, two] = await Promise.all([first, other]);
    assert.ok(built);
    assert.notEqual(one.sha256, two.sha256);
    assert.equal(one.sha256, (await buildBundles([entry])).get(entry)!.sha256);
  });

  it("names the entry that cannot be built", async () => {
    await assert.rejects(bundleHandler(join(root, "no-such-handler.ts")), /no-such-handler\.ts/);
  });
});

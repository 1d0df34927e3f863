import { strict as assert } from "node:assert";
import { join } from "node:path";
import { buildBundles, bundleHandler } from "../../components/lambda";

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

  it("names the entry that cannot be built", async () => {
    await assert.rejects(bundleHandler(join(root, "no-such-handler.ts")), /no-such-handler\.ts/);
  });
});

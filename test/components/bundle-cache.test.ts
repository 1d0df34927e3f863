import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleCache } from "../../components/bundle-cache";

describe("the bundle cache", () => {
  let repository: string;
  let cacheDir: string;
  let inputs: string[];
  const KEY = "options";
  const ENTRY = "handler.ts";
  const past = (path: string) =>
    utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

  beforeEach(() => {
    repository = mkdtempSync(join(tmpdir(), "bundle-cache-"));
    cacheDir = join(repository, "node_modules", ".cache", "mesh-bundles");
    mkdirSync(join(repository, "src", "lib"), { recursive: true });
    mkdirSync(cacheDir, { recursive: true });
    inputs = [join(repository, "src", "handler.ts"), join(repository, "src", "lib", "util.ts")];
    writeFileSync(inputs[0]!, "import './lib/util';");
    writeFileSync(inputs[1]!, "export const x = 1;");
    for (const path of [...inputs, join(repository, "src", "lib"), join(repository, "src"), repository])
      past(path);
  });

  const record = () => bundleCache(cacheDir, repository).set(KEY, ENTRY, "code", inputs, Date.now());
  const read = () => bundleCache(cacheDir, repository).get(KEY, ENTRY);

  it("gives the code back to another process when nothing it was built from changed", () => {
    record();
    assert.equal(read(), "code");
    assert.equal(bundleCache(cacheDir, repository).get("other options", ENTRY), undefined);
  });

  it("builds again when a file it read changed", () => {
    record();
    writeFileSync(inputs[1]!, "export const x = 22;");
    assert.equal(read(), undefined);
  });

  it("builds again when a file appears beside one it read (an import could resolve to it)", () => {
    record();
    writeFileSync(join(repository, "src", "lib", "util.js"), "module.exports = {};");
    assert.equal(read(), undefined);
  });

  it("builds again when a folder appears above the files it read, up to the repository", () => {
    record();
    mkdirSync(join(repository, "src", "node_modules"));
    assert.equal(read(), undefined);
  });

  it("builds again when the settings esbuild reads on the way change (tsconfig.json, package.json)", () => {
    writeFileSync(join(repository, "package.json"), "{}");
    past(join(repository, "package.json"));
    past(repository);
    record();
    assert.equal(read(), "code");
    writeFileSync(join(repository, "package.json"), '{ "type": "module" }');
    assert.equal(read(), undefined);
    record();
    past(join(repository, "package.json"));
    assert.equal(read(), undefined, "a changed modification time alone is a change");
  });

  it("does not record a build whose files changed after it started", () => {
    const startedAt = Date.now() - 60_000;
    writeFileSync(inputs[1]!, "export const x = 3;");
    bundleCache(cacheDir, repository).set(KEY, ENTRY, "code", inputs, startedAt);
    assert.equal(read(), undefined);
  });

  it("answers nothing, and does not throw, from an unreadable cache", () => {
    const cache = bundleCache(join(inputs[0]!, "not-a-folder"), repository);
    cache.set(KEY, ENTRY, "code", inputs, Date.now());
    assert.equal(cache.get(KEY, ENTRY), undefined);
  });
});

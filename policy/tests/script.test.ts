import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCOUNTS, LAKE_ACCESS, edit, mesh } from "./fixtures";

const root = join(__dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

function policy(...args: string[]) {
  const result = spawnSync(tsx, [join(root, "scripts", "policy.ts"), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run policy", () => {
  let dir: string;
  const write = (name: string, content: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
  };
  before(() => (dir = mkdtempSync(join(tmpdir(), "mesh-policy-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 0 on a compliant plan and prints the summary", () => {
    const result = policy(
      write("good.json", {
        stack: "good",
        accounts: ACCOUNTS,
        lakeFormationAccess: LAKE_ACCESS,
        resources: mesh(),
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `good: 0 mandatory, 0 advisory, 0 exempted violation(s) in ${mesh().length} resources.\n`,
    );
  });

  it("exits 1 on a mandatory violation and prints it", () => {
    const resources = edit(mesh(), "analytics-esm", { maximumRetryAttempts: -1 });
    const result = policy(
      write("bad.json", { stack: "bad", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources }),
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^Mandatory \(1\)\n {2}\[lambda-esm-bounded-retries\] analytics-esm/);
    assert.match(result.stdout, /bad: 1 mandatory, 0 advisory, 0 exempted violation\(s\)/);
  });

  it("exits 0 when the only violations are advisory", () => {
    const resources = edit(mesh(), "ws-stage", { defaultRouteSettings: undefined });
    const result = policy(
      write("advice.json", {
        stack: "advice",
        accounts: ACCOUNTS,
        lakeFormationAccess: LAKE_ACCESS,
        resources,
      }),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /advice: 0 mandatory, 1 advisory/);
  });

  it("takes a policy pack config with --config", () => {
    const resources = edit(mesh(), "analytics-esm", { maximumRetryAttempts: -1 });
    const plan = write("bad2.json", {
      stack: "bad",
      accounts: ACCOUNTS,
      lakeFormationAccess: LAKE_ACCESS,
      resources,
    });
    const config = write("config.json", {
      "lambda-esm-bounded-retries": { exemptions: [{ resource: "analytics-*", reason: "migrating" }] },
    });
    const result = policy(plan, "--config", config);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Exempted \(1\)/);
  });

  it("exits 2 with a clear message on a file that is not JSON", () => {
    const file = write("broken.json", "{ not json");
    const result = policy(file);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`^malformed plan: plan file ${file} is not valid JSON: `));
  });

  it("exits 2 listing the problems of a plan of the wrong shape", () => {
    const result = policy(write("shape.json", { stack: "x", resources: [] }));
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      "malformed plan: accounts: Invalid input: expected record, received undefined\n",
    );
  });

  it("exits 2 on a missing file", () => {
    const result = policy(join(dir, "missing.json"));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^malformed plan: cannot read plan file .*missing\.json: ENOENT/);
  });

  it("exits 2 with the usage without a plan file", () => {
    const result = policy();
    assert.equal(result.code, 2);
    assert.match(result.stderr, /expected one plan file\nusage: npm run policy -- <plan.json>/);
  });
});

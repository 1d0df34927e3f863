import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPolicy } from "../../scripts/policy";
import { ACCOUNTS, LAKE_ACCESS, edit, mesh } from "./fixtures";
import { typescriptNodeArgs } from "../../tooling/node-args";

const root = join(__dirname, "..", "..");

/** The command in this process: what it prints to stdout and stderr, and its exit code. */
async function policy(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runPolicy(args, {
    log: (line) => stdout.push(`${line}\n`),
    error: (line) => stderr.push(`${line}\n`),
  });
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
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

  it("exits 0 on a compliant plan and prints the summary", async () => {
    const result = await policy(
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

  it("exits 1 on a mandatory violation and prints it", async () => {
    const resources = edit(mesh(), "analytics-esm", { maximumRetryAttempts: -1 });
    const result = await policy(
      write("bad.json", { stack: "bad", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources }),
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^Mandatory \(1\)\n {2}\[lambda-esm-bounded-retries\] analytics-esm/);
    assert.match(result.stdout, /bad: 1 mandatory, 0 advisory, 0 exempted violation\(s\)/);
  });

  it("exits 0 when the only violations are advisory", async () => {
    const resources = edit(mesh(), "ws-stage", { defaultRouteSettings: undefined });
    const result = await policy(
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

  it("takes a policy pack config with --config", async () => {
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
    const result = await policy(plan, "--config", config);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Exempted \(1\)/);
  });

  it("exits 2 with a clear message on a file that is not JSON", async () => {
    const file = write("broken.json", "{ not json");
    const result = await policy(file);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`^malformed plan: plan file ${file} is not valid JSON: `));
  });

  it("exits 2 listing the problems of a plan of the wrong shape", async () => {
    const result = await policy(write("shape.json", { stack: "x", resources: [] }));
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      "malformed plan: accounts: Invalid input: expected record, received undefined\n",
    );
  });

  it("exits 2 on a missing file", async () => {
    const result = await policy(join(dir, "missing.json"));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^malformed plan: cannot read plan file .*missing\.json: ENOENT/);
  });

  it("exits 2 with the usage without a plan file", async () => {
    const result = await policy();
    assert.equal(result.code, 2);
    assert.match(result.stderr, /expected one plan file\nusage: npm run policy -- <plan.json>/);
  });
});

describe("npm run policy as a process", () => {
  it("sets the exit code the command returns", () => {
    const result = spawnSync(
      process.execPath,
      [...typescriptNodeArgs(), join(root, "scripts", "policy.ts")],
      { cwd: root, encoding: "utf8" },
    );
    assert.equal(result.status, 2);
    assert.match(result.stderr, /expected one plan file\nusage: npm run policy/);
  });
});

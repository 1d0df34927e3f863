import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { typescriptNodeArgs } from "../../tooling/node-args";

const root = join(__dirname, "..", "..");

/**
 * In a process started as the npm scripts start theirs: what it loaded with the SDK, then what a
 * serialised closure and the code paths of a small project give, and what each loaded.
 */
const PROBE = `
const loaded = (name) => Object.keys(require.cache).some((file) => file.includes(name));
const TYPESCRIPT = "/typescript/lib/typescript.js";
const ARBORIST = "/@npmcli/arborist/";
const { evaluateProgram } = require("./tooling/evaluate.ts");
const pulumi = require("@pulumi/pulumi");
const atStart = { evaluate: typeof evaluateProgram, typescript: loaded(TYPESCRIPT), arborist: loaded(ARBORIST) };
const greeting = "hello";
(async () => {
  const { text } = await pulumi.runtime.serializeFunction(() => greeting);
  const handler = new Function("exports", "require", text + "; return exports.handler;")({}, require);
  const serialised = { result: handler(), typescript: loaded(TYPESCRIPT), arborist: loaded(ARBORIST) };
  process.chdir(process.argv[1]);
  const paths = [...(await pulumi.runtime.computeCodePaths()).keys()];
  console.log(JSON.stringify({ atStart, serialised, codePaths: { paths, arborist: loaded(ARBORIST) } }));
})();
`;

describe("tooling/register.cjs (how the repository's commands run TypeScript)", () => {
  let result: Record<string, Record<string, unknown>>;
  before(() => {
    // A project with one dependency, for the SDK's code paths.
    const project = mkdtempSync(join(tmpdir(), "register-"));
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "p", dependencies: { left: "1.0.0" } }),
    );
    mkdirSync(join(project, "node_modules", "left"), { recursive: true });
    writeFileSync(
      join(project, "node_modules", "left", "package.json"),
      JSON.stringify({ name: "left", version: "1.0.0" }),
    );
    // What a process started this way has loaded is what is tested: a process of its own.
    const run = spawnSync(process.execPath, [...typescriptNodeArgs(), "-e", PROBE, project], {
      cwd: root,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    result = JSON.parse(run.stdout) as typeof result;
  });

  it("runs TypeScript files and loads the Pulumi SDK without TypeScript's compiler or npm's Arborist", () => {
    assert.deepEqual(result.atStart, { evaluate: "function", typescript: false, arborist: false });
  });

  it("loads TypeScript's compiler when the SDK first serialises a closure, which still works", () => {
    assert.deepEqual(result.serialised, { result: "hello", typescript: true, arborist: false });
  });

  it("loads npm's Arborist when the SDK first computes code paths, which still finds the dependencies", () => {
    assert.deepEqual(result.codePaths, { paths: ["node_modules/left"], arborist: true });
  });
});

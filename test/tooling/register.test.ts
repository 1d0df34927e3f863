import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "..", "..");
const REGISTER = join(root, "tooling", "register.cjs");

/** Runs a script under `node --require tooling/register.cjs` in `cwd`; returns what it printed as JSON. */
function probe(script: string, cwd = root): Record<string, unknown> {
  const run = spawnSync(process.execPath, ["--require", REGISTER, "-e", script], { cwd, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const LOADED = `const loaded = (name) => Object.keys(require.cache).some((file) => file.includes(name));`;

// What a process started this way has loaded is what is tested, so each case is a process of its own.
describe("tooling/register.cjs (how the repository's commands run TypeScript)", () => {
  it("runs TypeScript files and loads the Pulumi SDK without TypeScript's compiler or npm's Arborist", () => {
    const result = probe(`${LOADED}
      const { evaluateProgram } = require(${JSON.stringify(join(root, "tooling", "evaluate.ts"))});
      require("@pulumi/pulumi");
      require("@pulumi/aws");
      console.log(JSON.stringify({
        evaluate: typeof evaluateProgram,
        typescript: loaded("/typescript/lib/typescript.js"),
        arborist: loaded("/@npmcli/arborist/"),
      }));`);
    assert.deepEqual(result, { evaluate: "function", typescript: false, arborist: false });
  });

  it("loads TypeScript's compiler when the SDK first serialises a closure, which still works", () => {
    const result = probe(`${LOADED}
      const pulumi = require("@pulumi/pulumi");
      const greeting = "hello";
      pulumi.runtime.serializeFunction(() => greeting).then(({ text }) => {
        const handler = new Function("exports", "require", text + "; return exports.handler;")({}, require);
        console.log(JSON.stringify({ typescript: loaded("/typescript/lib/typescript.js"), result: handler() }));
      });`);
    assert.deepEqual(result, { typescript: true, result: "hello" });
  });

  it("loads npm's Arborist when the SDK first computes code paths, which still finds the dependencies", () => {
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
    const result = probe(
      `${LOADED}
      const pulumi = require(${JSON.stringify(require.resolve("@pulumi/pulumi"))});
      pulumi.runtime.computeCodePaths().then((paths) => {
        console.log(JSON.stringify({ arborist: loaded("/@npmcli/arborist/"), paths: [...paths.keys()] }));
      });`,
      project,
    );
    assert.deepEqual(result, { arborist: true, paths: ["node_modules/left"] });
  });
});

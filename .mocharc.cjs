// Test files named on the command line (`npx mocha test/x.test.ts`) run alone; without any, the
// whole suite runs, its files spread over the machine's cores. Mocha adds a config's `spec` to the
// files given, so it is set only then.
const { availableParallelism } = require("node:os");
const { readdirSync } = require("node:fs");
const { join } = require("node:path");

/**
 * Files that mostly wait (on servers they start, or on the processes they spawn) go first, so
 * that they wait while the other workers run the rest of the suite instead of at its end.
 */
const WAITING = ["test/local/mesh.test.ts", "test/mesh/new-domain.test.ts"];

/** Every `*.test.ts` below `dir`, sorted, as mocha's own glob finds them. */
function testFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map((file) => join(dir, file))
    .filter((file) => file.endsWith(".test.ts") && !file.includes("node_modules"))
    .sort();
}

const named = process.argv.slice(2).some((arg) => !arg.startsWith("-") && /\.[cm]?[jt]s$/.test(arg));
module.exports = {
  require: ["./tooling/register.cjs"],
  "node-option": ["liftoff-only"],
  timeout: 60000,
  exit: true,
  ...(named
    ? {}
    : {
        spec: [
          ...WAITING,
          ...[...testFiles("test"), ...testFiles("policy")].filter((f) => !WAITING.includes(f)),
        ],
        parallel: availableParallelism() > 1,
        jobs: availableParallelism(),
      }),
};

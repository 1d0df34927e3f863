// Test files named on the command line (`npx mocha test/x.test.ts`) run alone; without any, the
// whole suite runs, its files spread over the machine's cores. Mocha adds a config's `spec` to the
// files given, so it is set only then.
const { availableParallelism } = require("node:os");
const named = process.argv.slice(2).some((arg) => !arg.startsWith("-") && /\.[cm]?[jt]s$/.test(arg));
module.exports = {
  require: ["tsx/cjs"],
  timeout: 60000,
  exit: true,
  ...(named
    ? {}
    : {
        spec: ["test/**/*.test.ts", "policy/**/*.test.ts"],
        parallel: availableParallelism() > 1,
        jobs: availableParallelism(),
      }),
};

// Test files named on the command line (`npx mocha test/x.test.ts`) run alone; without any, the
// whole suite runs. Mocha adds a config's `spec` to the files given, so it is set only then.
const named = process.argv.slice(2).some((arg) => !arg.startsWith("-") && /\.[cm]?[jt]s$/.test(arg));
module.exports = {
  require: ["tsx/cjs"],
  timeout: 60000,
  exit: true,
  ...(named ? {} : { spec: ["test/**/*.test.ts", "policy/**/*.test.ts"] }),
};

// How this repository's commands run TypeScript: `node --require ./tooling/register.cjs <file.ts>`
// (the npm scripts, mocha's workers, and the processes tests and benches start with the arguments
// of tooling/node-args.ts). Two things on top of tsx's CommonJS loader, both about start-up time
// (figures in docs/consumer-performance.md, "Start-up"):
//
// 1. tsx compiles this repository's TypeScript; the JavaScript under node_modules goes to Node's
//    own loader. tsx's `.js` loader reads every file it is given and scans each one that mentions
//    `import` or `export` for ES module syntax (typescript.js alone is 9 MB); Node 20.19+ loads ES
//    modules from `require` itself (`process.features.require_module`), so the scan buys nothing.
// 2. The Pulumi SDK loads TypeScript's compiler (for closure serialisation) and npm's Arborist
//    (for the code paths of serialised closures) when it starts, about half of its load time. Both
//    are loaded here when first used instead: the SDK reaches them through one module each, at call
//    time. test/tooling/register.test.ts checks that both still work and that neither loads early.
"use strict";
const Module = require("node:module");

if (!process.features.require_module) {
  throw new Error(
    `tooling/register.cjs needs Node.js 20.19 or later (require of ES modules); this is ${process.version}`,
  );
}

const nodeJs = Module._extensions[".js"];
require("tsx/cjs");
const tsxJs = Module._extensions[".js"];
const NODE_MODULES = /[\\/]node_modules[\\/]/;
Module._extensions[".js"] = function (module, filename) {
  return (NODE_MODULES.test(filename) ? nodeJs : tsxJs).call(this, module, filename);
};

const SDK_CLOSURE = /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]closure[\\/]/;
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const from = parent?.filename;
  if (from && SDK_CLOSURE.test(from)) {
    const real = () => load.call(Module, request, parent, isMain);
    // parseFunction.js: `const ts = require("../../typescript-shim")`, used inside its functions.
    if (request === "../../typescript-shim" && from.endsWith("parseFunction.js")) {
      let ts;
      const typescript = () => (ts ??= real());
      return new Proxy({}, { get: (_, key) => typescript()[key], has: (_, key) => key in typescript() });
    }
    // codePaths.js: `const arborist = __importStar(require("@npmcli/arborist"))`, then `arborist.Arborist`.
    if (request === "@npmcli/arborist" && from.endsWith("codePaths.js")) {
      return {
        __esModule: true,
        get Arborist() {
          return real().Arborist;
        },
      };
    }
  }
  return load.apply(this, arguments);
};

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { newDomain, NewDomainError, parseNewDomainArguments } from "../../scripts/new-domain";
import { typescriptNodeArgs } from "../../tooling/node-args";

const root = join(__dirname, "..", "..");

/** The repository as a clone has it (tracked and new files, not node_modules or plan/), in a temp folder. */
function copyOfRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), "new-domain-"));
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter((file) => file && !file.startsWith("plan/"));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    try {
      copyFileSync(join(root, file), join(copy, file));
    } catch {
      // deleted in the working tree but still tracked
    }
  }
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  return copy;
}

/** An account id no stack file of the copy uses yet. */
function unusedAccountId(copy: string, prefix: string): string {
  const used =
    readFileSync(join(copy, "Pulumi.dev.yaml"), "utf8") +
    readFileSync(join(copy, "Pulumi.prod.yaml"), "utf8");
  for (let n = 999; n > 0; n--) {
    const id = `${prefix}99999999${String(n).padStart(3, "0")}`;
    if (!used.includes(id)) return id;
  }
  throw new Error("no unused account id");
}

describe("adding a domain by the README's steps (npm run new-domain)", function () {
  // Plans the shipped mesh plus the new domain and runs the shipped mesh's tests, in a copy.
  this.timeout(1_800_000);
  let copy: string;
  let written: string[];
  before(() => {
    copy = copyOfRepository();
    const scaffold = spawnSync(
      process.execPath,
      [
        ...typescriptNodeArgs(copy),
        "scripts/new-domain.ts",
        "playlists",
        "--account",
        `dev=${unusedAccountId(copy, "2")}`,
        "--account",
        `prod=${unusedAccountId(copy, "3")}`,
      ],
      { cwd: copy, encoding: "utf8" },
    );
    assert.equal(scaffold.status, 0, scaffold.stderr);
    written = scaffold.stdout
      .split("\n")[0]!
      .replace(/^wrote /, "")
      .split(", ");
    // The teams' part: analytics subscribes to the new product (filtered), with its handler.
    const analytics = join(copy, "domains", "analytics", "index.ts");
    writeFileSync(
      analytics,
      readFileSync(analytics, "utf8").replace(
        "  subscriptions: [",
        `  subscriptions: [
    {
      name: "playlists-created",
      product: "playlists/playlists-events",
      handler: "handlers/playlists-created.ts",
      access: { pattern: "filtered", filters: [{ eventTypes: ["playlists.created"] }] },
    },`,
      ),
    );
    writeFileSync(
      join(copy, "domains", "analytics", "handlers", "playlists-created.ts"),
      `import { createRecordHandler, logger } from "../../../runtime/consumer-kit";
import { playlistsEvents } from "../../playlists/contract";

export const handler = createRecordHandler({
  contract: playlistsEvents,
  processInParallel: true,
  processEvent: async (event) => logger.info("playlist created", { id: event.envelope.id }),
});
`,
    );
  });

  it("writes the domain folder, its line in domains/index.ts and its account in every stack file", () => {
    assert.deepEqual(written.slice(0, 3), [
      "domains/playlists/contract.ts",
      "domains/playlists/index.ts",
      "domains/index.ts",
    ]);
    assert.ok(
      written.includes("Pulumi.dev.yaml") && written.includes("Pulumi.prod.yaml"),
      written.join(", "),
    );
    assert.match(
      readFileSync(join(copy, "domains", "index.ts"), "utf8"),
      /^import playlists from "\.\/playlists";$/m,
    );
    for (const stack of ["dev", "prod"]) {
      const config = parse(readFileSync(join(copy, `Pulumi.${stack}.yaml`), "utf8")).config;
      assert.match(config["mesh:accounts"].playlists.id, /^\d{12}$/);
    }
  });

  it("plans dev with the new domain's stream and subscription, and the policy pack passes", () => {
    const plan = spawnSync(process.execPath, [...typescriptNodeArgs(copy), "scripts/plan.ts", "dev"], {
      cwd: copy,
      encoding: "utf8",
    });
    assert.equal(plan.status, 0, plan.stderr + plan.stdout.slice(-3000));
    assert.match(
      plan.stdout,
      /^ {4}publishes playlists\/playlists-events -> stream playlists\.playlists-events /m,
    );
    assert.match(
      plan.stdout,
      /^ {4}subscribes analytics\/playlists-created <- playlists\/playlists-events \(filtered, 1 filter\(s\)/m,
    );
    assert.match(plan.stdout, /^0 mandatory, /m);
  });

  it("keeps the shipped mesh's tests green once the new contract is recorded", () => {
    const lock = spawnSync(process.execPath, [...typescriptNodeArgs(copy), "scripts/contracts.ts", "lock"], {
      cwd: copy,
      encoding: "utf8",
    });
    assert.equal(lock.status, 0, lock.stderr);
    assert.match(lock.stdout, /1 version\(s\) recorded \(playlists\.playlists-events v1\)/);
    const mocha = spawnSync(
      process.execPath,
      [
        join(root, "node_modules", "mocha", "bin", "mocha.js"),
        ...typescriptNodeArgs(copy),
        "--no-config",
        "--timeout",
        "1200000",
        "test/mesh/shipped.test.ts",
      ],
      { cwd: copy, encoding: "utf8" },
    );
    assert.equal(mocha.status, 0, mocha.stdout.slice(-5000) + mocha.stderr);
    assert.match(mocha.stdout, /\d+ passing/);
    assert.doesNotMatch(mocha.stdout, /failing/);
  });
});

describe("npm run new-domain: bad input", () => {
  it("names what is wrong and writes nothing", () => {
    const copy = mkdtempSync(join(tmpdir(), "new-domain-bad-"));
    assert.throws(
      () => newDomain({ name: "Play Lists", root: copy }),
      new NewDomainError(
        "domain name Play Lists: must be lower-case words joined by hyphens (e.g. playlists)",
      ),
    );
    assert.throws(() => newDomain({ name: "platform", root: copy }), /domain name platform is reserved/);
    assert.throws(
      () => parseNewDomainArguments(["playlists", "--account", "dev"]),
      /--account needs <stack>=<12-digit account id>/,
    );
    assert.throws(() => parseNewDomainArguments([]), /usage: npm run new-domain -- <name>/);
  });
});

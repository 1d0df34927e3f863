import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { defineContract } from "../../platform/contract";
import type { DomainDeclaration } from "../../platform/declarations";
import { deployMesh } from "../../program";
import { runPlan } from "../../scripts/plan";
import {
  checkContractLock,
  CONTRACT_LOCK_FILE,
  declaredContracts,
  lockContracts,
  readContractLock,
  writeContractLock,
} from "../../tooling/contract-lock";
import { FIXTURE_DOMAINS_ROOT, fixtureDomains, fixtureStack } from "../fixtures/mesh";

const published = defineContract("songs.song-events", [
  {
    version: 1,
    events: { "song.published": z.object({ songId: z.string(), durationMs: z.number().int() }) },
  },
]);
/** The same version 1 edited in place: durationMs became a string. */
const editedInPlace = defineContract("songs.song-events", [
  { version: 1, events: { "song.published": z.object({ songId: z.string(), durationMs: z.string() }) } },
]);

describe("published contract versions (contracts.lock.json)", () => {
  it("records every version once and reports nothing changed", () => {
    const lock = lockContracts([published], {});
    assert.deepEqual(Object.keys(lock["songs.song-events"]!), ["1"]);
    assert.deepEqual(checkContractLock([published], lock), { changed: [], unrecorded: [] });
  });

  it("refuses a published version edited in place, naming the contract and the version", () => {
    const lock = lockContracts([published], {});
    const { changed } = checkContractLock([editedInPlace], lock);
    assert.equal(changed.length, 1);
    assert.match(
      changed[0]!,
      /^songs\.song-events v1 was published as sha256:[0-9a-f]{64} and is now sha256:/,
    );
    assert.match(changed[0]!, /add version 2 instead/);
  });

  it("lets a new version be added and recorded, and never rewrites a recorded one", () => {
    const lock = lockContracts([published], {});
    const next = defineContract("songs.song-events", [
      ...published.versions,
      {
        version: 2,
        events: {
          "song.published": z.object({
            songId: z.string(),
            durationMs: z.number().int(),
            genre: z.string().optional(),
          }),
        },
      },
    ]);
    assert.deepEqual(checkContractLock([next], lock), { changed: [], unrecorded: ["songs.song-events v2"] });
    const relocked = lockContracts([next], lock);
    assert.equal(relocked["songs.song-events"]!["1"], lock["songs.song-events"]!["1"]);
    assert.deepEqual(lockContracts([editedInPlace], lock), lock, "lock keeps what was published");
  });

  it("names a malformed lock file", () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-"));
    const path = join(dir, CONTRACT_LOCK_FILE);
    writeFileSync(path, JSON.stringify({ "songs.song-events": { one: "abc" } }));
    assert.throws(
      () => readContractLock(path),
      (e: Error) => e.message.startsWith(`${path} must map each contract`),
    );
    writeFileSync(path, "{");
    assert.throws(
      () => readContractLock(path),
      (e: Error) => e.message.startsWith(`${path} is not valid JSON`),
    );
  });

  it("fails the plan, before evaluating anything, when a published version changed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lock-plan-"));
    writeFileSync(join(dir, "Pulumi.dev.yaml"), stringify({ config: fixtureStack("dev") }));
    const lock = lockContracts(declaredContracts(fixtureDomains), {});
    const songs = Object.keys(lock).find((name) => name.startsWith("songs."))!;
    lock[songs]!["1"] = `sha256:${"0".repeat(64)}`;
    writeContractLock(join(dir, CONTRACT_LOCK_FILE), lock);
    const errors: string[] = [];
    const declarations: readonly DomainDeclaration[] = fixtureDomains;
    const code = await runPlan({
      stack: "dev",
      cwd: dir,
      declarations,
      program: () => deployMesh(declarations, {}, FIXTURE_DOMAINS_ROOT),
      log: () => undefined,
      error: (line) => errors.push(line),
    });
    assert.equal(code, 1);
    assert.match(
      errors.join("\n"),
      new RegExp(`${songs.replace(".", "\\.")} v1 was published as sha256:0{64}`),
    );
  });
});

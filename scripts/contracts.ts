/**
 * The record of published contract versions (contracts.lock.json, docs/contracts.md):
 * `npm run contracts -- check` exits 1 when a recorded version changed or a version is unrecorded;
 * `npm run contracts -- lock` records every unrecorded version and never rewrites a recorded one.
 */
import { join } from "node:path";
import { domains } from "../domains";
import {
  checkContractLock,
  CONTRACT_LOCK_FILE,
  ContractLockError,
  declaredContracts,
  lockContracts,
  readContractLock,
  writeContractLock,
} from "../tooling/contract-lock";

const USAGE = "usage: npm run contracts -- check | lock";

function main(args: readonly string[], cwd = process.cwd()): number {
  const [command, ...rest] = args;
  if ((command !== "check" && command !== "lock") || rest.length) {
    console.error(USAGE);
    return 2;
  }
  const path = join(cwd, CONTRACT_LOCK_FILE);
  const contracts = declaredContracts(domains);
  const lock = readContractLock(path) ?? {};
  const { changed, unrecorded } = checkContractLock(contracts, lock);
  for (const line of changed) console.error(`changed: ${line}`);
  if (command === "lock") {
    if (changed.length) return 1;
    writeContractLock(path, lockContracts(contracts, lock));
    console.log(
      `${path}: ${unrecorded.length} version(s) recorded${unrecorded.length ? ` (${unrecorded.join(", ")})` : ""}`,
    );
    return 0;
  }
  for (const version of unrecorded)
    console.error(`unrecorded: ${version} (npm run contracts -- lock records it)`);
  console.log(
    `${contracts.length} contract(s): ${changed.length} changed, ${unrecorded.length} unrecorded version(s)`,
  );
  return changed.length || unrecorded.length ? 1 : 0;
}

try {
  process.exit(main(process.argv.slice(2)));
} catch (error) {
  if (!(error instanceof ContractLockError)) throw error;
  console.error(`contracts: ${error.message}`);
  process.exit(2);
}

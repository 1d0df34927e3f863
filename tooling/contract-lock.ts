import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { contractJsonSchema, type Contract } from "../platform/contract";
import type { DomainDeclaration } from "../platform/declarations";

/**
 * What has been published: per contract and version, the SHA-256 of the JSON Schema the registry
 * receives. A published version never changes (consumers were built against it); a new version
 * is the only way to change a contract. See docs/contracts.md.
 */
export const CONTRACT_LOCK_FILE = "contracts.lock.json";

/** `{ "<contract>": { "<version>": "sha256:<hex>" } }` */
export type ContractLock = Record<string, Record<string, string>>;

export class ContractLockError extends Error {
  override readonly name = "ContractLockError";
}

/** JSON with keys sorted at every level: the hash does not depend on property order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function schemaHash(contract: Contract, version: Contract["versions"][number]): string {
  const digest = createHash("sha256").update(canonical(contractJsonSchema(contract, version)));
  return `sha256:${digest.digest("hex")}`;
}

/** Every contract the declarations publish (stream and at-rest products), once each. */
export function declaredContracts(declarations: readonly DomainDeclaration[]): Contract[] {
  const byName = new Map<string, Contract>();
  for (const domain of declarations) {
    for (const product of domain.products) byName.set(product.contract.name, product.contract);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface LockCheck {
  /** Recorded versions whose schema is no longer the one recorded: one sentence each. */
  readonly changed: readonly string[];
  /** `<contract> v<n>` not recorded yet. */
  readonly unrecorded: readonly string[];
}

export function checkContractLock(contracts: readonly Contract[], lock: ContractLock): LockCheck {
  const changed: string[] = [];
  const unrecorded: string[] = [];
  for (const contract of contracts) {
    for (const version of contract.versions) {
      const recorded = lock[contract.name]?.[String(version.version)];
      const hash = schemaHash(contract, version);
      if (recorded === undefined) unrecorded.push(`${contract.name} v${version.version}`);
      else if (recorded !== hash) {
        changed.push(
          `${contract.name} v${version.version} was published as ${recorded} and is now ${hash}: ` +
            `a published version cannot change; add version ${contract.versions.length + 1} instead`,
        );
      }
    }
  }
  return { changed, unrecorded };
}

/** The lock with every unrecorded version added; recorded versions are kept as they are. */
export function lockContracts(contracts: readonly Contract[], lock: ContractLock): ContractLock {
  const next: ContractLock = structuredClone(lock);
  for (const contract of contracts) {
    const versions = (next[contract.name] ??= {});
    for (const version of contract.versions)
      versions[String(version.version)] ??= schemaHash(contract, version);
  }
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

/** The lock file, or undefined when there is none; a malformed file is an error naming it. */
export function readContractLock(path: string): ContractLock | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ContractLockError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const valid =
    parsed !== null &&
    typeof parsed === "object" &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every(
      (versions) =>
        versions !== null &&
        typeof versions === "object" &&
        Object.entries(versions as object).every(
          ([version, hash]) =>
            /^[1-9][0-9]*$/.test(version) && typeof hash === "string" && /^sha256:[0-9a-f]{64}$/.test(hash),
        ),
    );
  if (!valid) {
    throw new ContractLockError(
      `${path} must map each contract to { "<version>": "sha256:<64 hex digits>" }`,
    );
  }
  return parsed as ContractLock;
}

export function writeContractLock(path: string, lock: ContractLock): void {
  writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
}

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";

/**
 * `npm run new-domain -- <name> [--account <stack>=<account id>]...`
 *
 * Writes what a team fills in to add a domain (the README's "Adding a data product" steps):
 * `domains/<name>/contract.ts` (one event type), `domains/<name>/index.ts` (one on-demand
 * product, no subscriptions), the domain's line in `domains/index.ts`, and an account entry
 * `<name>` in every stack file. An account id not given with `--account` is left as a
 * placeholder that the plan rejects, naming the key, until the team fills it in.
 */

export interface NewDomainOptions {
  readonly name: string;
  /** Account id of the domain per stack (`dev` -> `123456789012`). */
  readonly accounts?: Readonly<Record<string, string>>;
  /** The repository's root. @default the working directory */
  readonly root?: string;
}

export class NewDomainError extends Error {
  override readonly name = "NewDomainError";
}

const PLACEHOLDER = "<12-digit account id>";

/** Creates the domain's files and entries; returns the paths written, relative to the root. */
export function newDomain(options: NewDomainOptions): string[] {
  const root = options.root ?? process.cwd();
  const { name } = options;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new NewDomainError(
      `domain name ${name}: must be lower-case words joined by hyphens (e.g. playlists)`,
    );
  }
  if (name === "platform" || name === "all") throw new NewDomainError(`domain name ${name} is reserved`);
  const folder = join(root, "domains", name);
  if (existsSync(folder)) throw new NewDomainError(`domains/${name} already exists`);
  const listFile = join(root, "domains", "index.ts");
  const list = readFileSync(listFile, "utf8");
  const variable = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const lastImport = [...list.matchAll(/^import .*;$/gm)].pop();
  const arrayEnd = /\n\];\s*$/.exec(list);
  if (!lastImport || !arrayEnd) {
    throw new NewDomainError(
      `domains/index.ts: cannot find its imports and its list; add \`import ${variable} from "./${name}";\` and \`${variable},\` to the list by hand`,
    );
  }
  for (const [stack, id] of Object.entries(options.accounts ?? {})) {
    if (!/^\d{12}$/.test(id))
      throw new NewDomainError(`--account ${stack}=${id}: must be a 12-digit AWS account id`);
    if (!existsSync(join(root, `Pulumi.${stack}.yaml`)))
      throw new NewDomainError(`--account ${stack}=${id}: no stack file Pulumi.${stack}.yaml`);
  }

  const key = `${variable}Id`;
  const contract = `${variable}Events`;
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, "contract.ts"),
    `import { z } from "zod";
import { defineContract } from "../../platform/contract";

// TODO(${name}): the events of ${name}/${name}-events and their payloads. A new version may only
// add optional fields or event types (see the README, "Adding a data product").
export const ${contract} = defineContract("${name}.${name}-events", [
  {
    version: 1,
    events: {
      "${name}.created": z.object({
        ${key}: z.string().min(1).max(256),
        occurredAt: z.iso.datetime({ offset: true }),
      }),
    },
  },
]);
`,
  );
  writeFileSync(
    join(folder, "index.ts"),
    `import { defineDomain } from "../../platform/declarations";
import { ${contract} } from "./contract";

export default defineDomain({
  name: "${name}",
  description: "TODO(${name}): what this domain owns.",
  owner: { team: "TODO(${name})", contact: "TODO@example.com" },
  // The alias of this domain's account in every stack file (mesh:accounts.${name}).
  account: "${name}",
  products: [
    {
      kind: "stream",
      name: "${name}-events",
      description: "TODO(${name}): what the stream carries.",
      contract: ${contract},
      partitionKey: "${key}",
      capacity: { mode: "on-demand" },
      classification: "internal",
    },
  ],
  // A subscription: { name, product: "<domain>/<product>", handler: "handlers/<name>.ts",
  // access: { pattern: "shared-replay" } } with a handler built on runtime/consumer-kit.ts.
  subscriptions: [],
});
`,
  );
  const withImport =
    list.slice(0, lastImport.index! + lastImport[0].length) +
    `\nimport ${variable} from "./${name}";` +
    list.slice(lastImport.index! + lastImport[0].length);
  writeFileSync(listFile, withImport.replace(/\n\];\s*$/, `\n  ${variable},\n];\n`));

  const written = [`domains/${name}/contract.ts`, `domains/${name}/index.ts`, "domains/index.ts"];
  for (const file of readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))) {
    const stack = file.slice("Pulumi.".length, -".yaml".length);
    const document = parseDocument(readFileSync(join(root, file), "utf8"));
    if (!document.hasIn(["config", "mesh:accounts"])) continue;
    if (document.hasIn(["config", "mesh:accounts", name])) continue;
    document.setIn(["config", "mesh:accounts", name], { id: options.accounts?.[stack] ?? PLACEHOLDER });
    writeFileSync(join(root, file), document.toString());
    written.push(file);
  }
  return written;
}

/** `<name> [--account <stack>=<id>]...` */
export function parseNewDomainArguments(args: readonly string[]): NewDomainOptions {
  const accounts: Record<string, string> = {};
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--account") {
      const [stack, id] = (args[++i] ?? "").split("=");
      if (!stack || !id) throw new NewDomainError("--account needs <stack>=<12-digit account id>");
      accounts[stack] = id;
    } else if (arg.startsWith("--")) {
      throw new NewDomainError(`unknown option ${arg}`);
    } else {
      names.push(arg);
    }
  }
  if (names.length !== 1) {
    throw new NewDomainError(
      "usage: npm run new-domain -- <name> [--account <stack>=<12-digit account id>]...",
    );
  }
  return { name: names[0]!, accounts };
}

if (require.main === module) {
  try {
    const options = parseNewDomainArguments(process.argv.slice(2));
    const written = newDomain(options);
    console.log(`wrote ${written.join(", ")}`);
    console.log(
      `next: fill in the TODO(${options.name}) lines and the account ids, then npm run plan -- dev, and npm run contracts -- lock once the contract is final (README: "Adding a data product")`,
    );
  } catch (error) {
    if (!(error instanceof NewDomainError)) throw error;
    console.error(`new-domain: ${error.message}`);
    process.exit(1);
  }
}

import { join } from "node:path";

/**
 * Node's arguments that run a TypeScript file of the repository at `root` the way its npm scripts
 * do (`node --require ./tooling/register.cjs <file.ts>`), for the processes tests and benches start.
 */
export function typescriptNodeArgs(root = join(__dirname, "..")): string[] {
  return ["--require", join(root, "tooling", "register.cjs")];
}

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/**
 * Handler bundles kept between processes (each plan, each test worker, each `pulumi up` would
 * otherwise run esbuild again over the same files), in `node_modules/.cache/mesh-bundles`: a fresh
 * `npm ci` starts without them.
 *
 * A bundle is used again only when nothing it was built from may have changed: every file esbuild
 * read for it (its metafile inputs) has the size and modification time it had, and every folder
 * holding one of those files, with its parents up to the repository, lists the same entries
 * (a folder's modification time changes when a file is added, removed or renamed in it, which is
 * how a new file could change what an import resolves to), and so does each of those folders'
 * package.json and tsconfig.json. Anything else, including an unreadable
 * cache, builds again. esbuild keeps no cache between processes of its own, hence this file.
 */
export interface BundleCache {
  /** The code built for `entry` by `key` (the build's options), if nothing it read has changed. */
  get(key: string, entry: string): string | undefined;
  /**
   * Records the code built for `entry` from `inputs` (absolute paths) by a build that started at
   * `startedAt` (ms since the epoch); not when one of them changed since, which the build may have
   * missed. Never throws.
   */
  set(key: string, entry: string, code: string, inputs: readonly string[], startedAt: number): void;
}

const SETTINGS_FILES = ["package.json", "tsconfig.json"];

interface Entry {
  readonly code: string;
  /** Path -> fingerprint of every file read and every folder above them, as at the build. */
  readonly fingerprints: Record<string, string>;
}

/**
 * The cache in `dir` for bundles of files below `repository`. Each path is looked at once per
 * cache object: make one per batch of builds.
 */
export function bundleCache(dir: string, repository: string): BundleCache {
  const fileOf = (key: string, entry: string) =>
    join(dir, `${createHash("sha256").update(`${key}\n${entry}`).digest("hex")}.json`);
  const seen = new Map<string, { readonly value: string; readonly mtimeMs: number }>();
  const look = (path: string) => {
    let found = seen.get(path);
    if (found === undefined) {
      try {
        const stat = statSync(path);
        found = { value: `${stat.size}:${stat.mtimeMs}`, mtimeMs: stat.mtimeMs };
      } catch {
        found = { value: "absent", mtimeMs: 0 };
      }
      seen.set(path, found);
    }
    return found;
  };
  const fingerprint = (path: string) => look(path).value;
  /**
   * The files read, every folder above them up to the repository (or their own folder outside it),
   * and each such folder's package.json and tsconfig.json, present or not: esbuild reads both
   * while resolving and compiling, and the metafile does not list them.
   */
  const watched = (inputs: readonly string[]): string[] => {
    const paths = new Set(inputs);
    for (const input of inputs) {
      let folder = dirname(input);
      const inside = !relative(repository, folder).startsWith("..");
      for (;;) {
        if (paths.has(folder)) break;
        paths.add(folder);
        for (const settings of SETTINGS_FILES) paths.add(join(folder, settings));
        if (!inside || folder === repository || !folder.includes(sep)) break;
        const parent = dirname(folder);
        if (parent === folder) break;
        folder = parent;
      }
    }
    return [...paths];
  };
  return {
    get(key, entry) {
      try {
        const cached = JSON.parse(readFileSync(fileOf(key, entry), "utf8")) as Entry;
        const unchanged = Object.entries(cached.fingerprints).every(
          ([path, value]) => fingerprint(path) === value,
        );
        return unchanged ? cached.code : undefined;
      } catch {
        return undefined;
      }
    },
    set(key, entry, code, inputs, startedAt) {
      const paths = watched(inputs);
      for (const path of paths) seen.delete(path);
      if (paths.some((path) => look(path).mtimeMs >= startedAt)) return;
      const fingerprints = Object.fromEntries(paths.map((path) => [path, fingerprint(path)]));
      const file = fileOf(key, entry);
      try {
        mkdirSync(dir, { recursive: true });
        const partial = `${file}.${process.pid}.tmp`;
        writeFileSync(partial, JSON.stringify({ code, fingerprints } satisfies Entry));
        renameSync(partial, file);
      } catch {
        // A cache that cannot be written only costs the next process a build.
      }
    },
  };
}

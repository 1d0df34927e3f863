import { build } from "esbuild";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface BundleOptions {
  /** Directory to write to. @default a new directory under the OS temp dir */
  readonly outdir?: string;
  /** @default false, so stack traces in tests stay readable */
  readonly minify?: boolean;
}

export interface Bundle {
  /** The archive root: zip this directory (e.g. `new pulumi.asset.FileArchive(dir)`). */
  readonly dir: string;
  /** `dir/index.js`, loadable with `require`. */
  readonly file: string;
  /** The Lambda `handler` setting for the archive. */
  readonly handler: "index.handler";
  readonly bytes: number;
}

/**
 * Bundles a handler module the way it is deployed: one CommonJS file for the nodejs22.x runtime,
 * every dependency inside (the AWS SDK included, so the pinned versions are the ones that run),
 * with a linked source map. Fails on any esbuild error or warning that would change behaviour.
 */
export async function bundleHandler(entry: string, options: BundleOptions = {}): Promise<Bundle> {
  const dir = options.outdir ?? (await mkdtemp(join(tmpdir(), "handler-bundle-")));
  const file = join(dir, "index.js");
  const result = await build({
    entryPoints: [resolve(entry)],
    outfile: file,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    sourcemap: "linked",
    minify: options.minify ?? false,
    legalComments: "none",
    logLevel: "silent",
  });
  if (result.errors.length) {
    throw new Error(`bundling ${entry} failed: ${result.errors.map((e) => e.text).join("; ")}`);
  }
  return { dir, file, handler: "index.handler", bytes: (await stat(file)).size };
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { build, version as esbuildVersion } from "esbuild";
import { createHash } from "node:crypto";
import { join, relative, resolve } from "node:path";
import { bundleCache } from "./bundle-cache";
import { policyDocument, serviceTrust, type Statement } from "../platform/iam";

export const MESH_FUNCTION_TYPE = "mesh:compute:MeshFunction";
export const LAMBDA_RUNTIME = "nodejs22.x";

export type Bundle = { readonly code: string; readonly sha256: string };
const bundles = new Map<string, Promise<Bundle>>();

/** How every handler is bundled: one CommonJS file, AWS SDK included, for the Lambda runtime. */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  minify: true,
  sourcemap: false,
  write: false,
  legalComments: "none",
  logLevel: "silent",
} as const;

const bundleOf = (code: string): Bundle => ({
  code,
  sha256: createHash("sha256").update(code).digest("base64"),
});

/**
 * Bundles handler modules (each with everything it imports, AWS SDK included, so the deployed code
 * runs the versions the tests ran) into one CommonJS file each for the Lambda runtime, in one
 * esbuild call: shared modules are parsed once (docs/consumer-performance.md), and each entry's
 * file is the one a build of that entry alone gives. Not cached: see {@link bundleHandler}.
 * esbuild builds in its own process, so the program goes on while it works.
 */
export async function buildBundles(
  entries: readonly string[],
): Promise<Map<string, Bundle & { readonly inputs: readonly string[] }>> {
  // Each output keeps its entry's absolute path below outdir, so entries never collide.
  const result = await build({
    ...BUNDLE_OPTIONS,
    entryPoints: [...entries],
    outbase: "/",
    outdir: "/bundles",
    metafile: true,
  });
  const outputs = new Map(result.outputFiles.map((file) => [file.path, file.text]));
  // The metafile names files relative to the working directory esbuild ran in.
  const cwd = process.cwd();
  return new Map(
    entries.map((entry) => {
      const path = join("/bundles", entry.replace(/\.[cm]?[jt]s$/, ".js"));
      const code = outputs.get(path);
      const read = result.metafile.outputs[relative(cwd, path)]?.inputs;
      if (code === undefined || !read) throw new Error(`esbuild produced no bundle for ${entry}`);
      return [entry, { ...bundleOf(code), inputs: Object.keys(read).map((input) => resolve(cwd, input)) }];
    }),
  );
}

/** Bundles kept between processes (components/bundle-cache.ts), for these options and this esbuild. */
const CACHE_DIR = join(__dirname, "..", "node_modules", ".cache", "mesh-bundles");
const CACHE_KEY = `esbuild ${esbuildVersion} ${JSON.stringify(BUNDLE_OPTIONS)}`;

/** Entries asked for during this turn, built together at its end; each with its caller's promise. */
const pending = new Map<string, { resolve: (b: Bundle) => void; reject: (e: unknown) => void }>();

/**
 * The bundle of one handler module ({@link buildBundles}), cached per entry; built in one call
 * with every other handler asked for during the same turn of the program, so a program creating
 * all its functions synchronously bundles them all at once. An entry being built is not built again.
 */
export function bundleHandler(entry: string): Promise<Bundle> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = new Promise<Bundle>((resolve, reject) => {
      if (!pending.size && !holds) setImmediate(buildPending);
      pending.set(entry, { resolve, reject });
    });
    bundles.set(entry, bundle);
  }
  return bundle;
}

let holds = 0;

/**
 * Holds {@link bundleHandler}'s builds until the returned function is called, for a program that
 * creates its functions over several turns: everything asked for meanwhile is then built in one call.
 */
export function holdBundling(): () => void {
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds === 0 && pending.size) void buildPending();
  };
}

async function buildPending(): Promise<void> {
  if (holds || !pending.size) return;
  const waiting = new Map(pending);
  pending.clear();
  const cache = bundleCache(CACHE_DIR, join(__dirname, ".."));
  const missing: string[] = [];
  for (const [entry, { resolve }] of waiting) {
    const code = cache.get(CACHE_KEY, entry);
    if (code === undefined) missing.push(entry);
    else resolve(bundleOf(code));
  }
  if (!missing.length) return;
  const startedAt = Date.now();
  try {
    const built = await buildBundles(missing);
    for (const entry of missing) {
      const { code, sha256, inputs } = built.get(entry)!;
      cache.set(CACHE_KEY, entry, code, inputs, startedAt);
      waiting.get(entry)!.resolve({ code, sha256 });
    }
  } catch (error) {
    for (const entry of missing) {
      bundles.delete(entry);
      waiting.get(entry)!.reject(error);
    }
  }
}

export interface MeshFunctionArgs {
  /** Physical function name; also names its log group. */
  readonly functionName: string;
  /** Physical execution role name: fixed, so that other accounts' policies can name it in advance. */
  readonly roleName: string;
  /** Absolute path of the handler module (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly accountId: string;
  readonly region: string;
  /** What the handler may do beyond writing its logs and traces. */
  readonly statements: readonly Statement[];
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** @default 60 */
  readonly timeoutSeconds?: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default 30 */
  readonly logRetentionDays?: number;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A Lambda function the way the mesh runs handlers: its own role with exactly the given statements,
 * its own log group with a retention, JSON logs, active tracing, arm64, Node.js 22.
 */
export class MeshFunction extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  public readonly invokeArn: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  /** Depend on this before wiring a trigger: the role may not yet hold its permissions otherwise. */
  public readonly rolePolicy: aws.iam.RolePolicy;

  constructor(name: string, args: MeshFunctionArgs, opts: pulumi.ComponentResourceOptions) {
    super(MESH_FUNCTION_TYPE, name, {}, opts);
    const parent = { parent: this };
    const logGroupName = `/aws/lambda/${args.functionName}`;
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: logGroupName, retentionInDays: args.logRetentionDays ?? 30, tags: { ...args.tags } },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: args.roleName,
        description: args.description,
        assumeRolePolicy: serviceTrust("lambda.amazonaws.com", args.accountId),
        tags: { ...args.tags },
      },
      parent,
    );
    this.rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.name,
        policy: policyDocument([
          {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${logGroup.arn}:*`,
          },
          {
            // X-Ray has no resource-level permissions.
            Sid: "WriteTraces",
            Effect: "Allow",
            Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            Resource: "*",
          },
          ...args.statements,
        ]),
      },
      parent,
    );
    const bundle = pulumi.output(bundleHandler(args.entry));
    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        name: args.functionName,
        description: args.description,
        role: role.arn,
        runtime: LAMBDA_RUNTIME,
        architectures: ["arm64"],
        handler: "index.handler",
        code: bundle.apply(
          (b) => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(b.code) }),
        ),
        sourceCodeHash: bundle.sha256,
        timeout: args.timeoutSeconds ?? 60,
        memorySize: args.memoryMb ?? 512,
        tracingConfig: { mode: "Active" },
        loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
        environment: {
          variables: {
            POWERTOOLS_SERVICE_NAME: args.functionName,
            ...args.environment,
          },
        },
        tags: { ...args.tags },
      },
      { parent: this, dependsOn: [this.rolePolicy] },
    );
    this.functionName = fn.name;
    this.arn = fn.arn;
    this.invokeArn = fn.invokeArn;
    this.roleArn = role.arn;
    this.registerOutputs({ functionName: this.functionName, arn: this.arn, roleArn: this.roleArn });
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import { createHash } from "node:crypto";
import { policyDocument, serviceTrust, type Statement } from "../platform/iam";

export const MESH_FUNCTION_TYPE = "mesh:compute:MeshFunction";
export const LAMBDA_RUNTIME = "nodejs22.x";

const bundles = new Map<string, { code: string; sha256: string }>();

/**
 * Bundles a handler module (and everything it imports, AWS SDK included, so the deployed code runs
 * the versions the tests ran) into one CommonJS file for the Lambda runtime. Cached per entry.
 */
export function bundleHandler(entry: string): { code: string; sha256: string } {
  const cached = bundles.get(entry);
  if (cached) return cached;
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    sourcemap: false,
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const code = result.outputFiles[0]!.text;
  const bundle = { code, sha256: createHash("sha256").update(code).digest("base64") };
  bundles.set(entry, bundle);
  return bundle;
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
    const bundle = bundleHandler(args.entry);
    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        name: args.functionName,
        description: args.description,
        role: role.arn,
        runtime: LAMBDA_RUNTIME,
        architectures: ["arm64"],
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundle.code) }),
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

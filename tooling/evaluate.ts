import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";

/** One resource of an evaluated program, as the offline plan records it. */
export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The physical id the mock runtime assigned (what other resources' inputs refer to). */
  readonly id: string | null;
  /** Id of the account whose provider manages the resource; null for providers and the stack. */
  readonly account: string | null;
  readonly parent: string | null;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly inputs: Record<string, unknown>;
}

export interface Evaluation {
  readonly stack: string;
  readonly resources: PlannedResource[];
  readonly outputs: Record<string, unknown>;
}

export interface EvaluateOptions {
  readonly stack: string;
  /** Stack config as in Pulumi.<stack>.yaml's `config:` (structured values as objects). */
  readonly config: Record<string, unknown>;
  /** Outputs of other stacks for stack references: by fully qualified stack name, or a function of
   * the name that returns them or throws saying why they are missing. */
  readonly peerStacks?: Record<string, Record<string, unknown>> | ((name: string) => Record<string, unknown>);
  /** The program; its return value becomes the stack outputs. */
  readonly program: () => unknown;
  readonly project?: string;
  /** What `pulumi.getOrganization()` returns. @default `organization`, as on a self-managed backend */
  readonly organization?: string;
}

/** A stack file that is missing or unreadable: the user's to fix, named with its path. */
export class StackFileError extends Error {
  override readonly name = "StackFileError";
}

/** Reads `config:` of a Pulumi stack file. */
export function readStackFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) {
    const folder = dirname(path);
    const stacks = readdirSync(folder)
      .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
      .filter((name): name is string => !!name);
    throw new StackFileError(
      `no stack file ${path} (stacks in ${folder}: ${stacks.join(", ") || "none"}); a stack is a Pulumi.<stack>.yaml file`,
    );
  }
  let document: unknown;
  try {
    document = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new StackFileError(`${path}: not valid YAML: ${(error as Error).message.split("\n")[0]}`, {
      cause: error,
    });
  }
  const config = (document as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new StackFileError(`${path}: config must be a mapping of keys to values`);
  }
  return withSecretStandIns(config as Record<string, unknown>, join(dirname(path), "Pulumi.yaml"));
}

/**
 * Secrets are never in a stack file in plain text, and an offline plan cannot decrypt them: each
 * key the project declares `secret: true` that the stack leaves unset or sets encrypted
 * (`secure:`) gets a stand-in, the hex SHA-256 of `offline-plan:<key>`. `pulumi preview` reads
 * the real value.
 */
function withSecretStandIns(config: Record<string, unknown>, projectFile: string): Record<string, unknown> {
  if (!existsSync(projectFile)) return config;
  const project = parse(readFileSync(projectFile, "utf8")) as {
    config?: Record<string, { secret?: boolean } | unknown>;
  } | null;
  const withStandIns = { ...config };
  for (const [key, declaration] of Object.entries(project?.config ?? {})) {
    if ((declaration as { secret?: boolean } | null)?.secret !== true) continue;
    const value = config[key];
    if (value === undefined || (typeof value === "object" && value !== null && "secure" in value)) {
      withStandIns[key] = createHash("sha256").update(`offline-plan:${key}`).digest("hex");
    }
  }
  return withStandIns;
}

const DYNAMIC_PROVIDER_INPUT = "__provider";

/**
 * Evaluates a Pulumi program under the SDK's mock runtime and records every resource with the
 * account it is deployed to and the options the program set. Protect and retainOnDelete are not
 * visible to the mock monitor, so a stack transformation registered on the root stack reads them
 * from each resource's options as it is constructed.
 */
export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
  const project = options.project ?? "mesh";
  const providerAccounts = new Map<string, string | null>();
  const region = String(options.config[`${project}:region`] ?? "eu-west-1");
  const inputsByKey = new Map<string, { inputs: Record<string, unknown>; provider?: string; id?: string }>();
  const registered: {
    key: string;
    resource: pulumi.Resource;
    opts: pulumi.ResourceOptions;
    type: string;
    name: string;
  }[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}::${args.name}`;
        if (inputsByKey.has(key))
          throw new Error(`two resources of type ${args.type} are named ${args.name}`);
        // Provider inputs reach the monitor as JSON strings; the plan shows them as values.
        const inputs = args.type.startsWith("pulumi:providers:")
          ? Object.fromEntries(Object.entries(args.inputs).map(([k, v]) => [k, parseJsonString(v)]))
          : (summariseAssets(args.inputs) as Record<string, unknown>);
        delete inputs[DYNAMIC_PROVIDER_INPUT];
        inputsByKey.set(key, { inputs, provider: args.provider });
        if (args.type === "pulumi:pulumi:StackReference") {
          const peers = options.peerStacks;
          const outputs = typeof peers === "function" ? peers(args.inputs.name) : peers?.[args.inputs.name];
          if (!outputs)
            throw new Error(`stack reference to ${args.inputs.name}: no such stack in this evaluation`);
          return { id: args.inputs.name, state: { name: args.inputs.name, outputs, secretOutputNames: [] } };
        }
        if (args.type.startsWith("pulumi:providers:")) {
          providerAccounts.set(args.name, (inputs.allowedAccountIds as string[] | undefined)?.[0] ?? null);
          return { id: `${args.name}-id`, state: args.inputs };
        }
        const account =
          (args.provider && providerAccounts.get(providerNameOf(args.provider) ?? "")) || "000000000000";
        const state = mockState(args.type, args.name, args.inputs, account, region);
        const id = String(state.id ?? `${args.name}-id`);
        inputsByKey.get(key)!.id = id;
        return { id, state };
      },
      call(args) {
        throw new Error(
          `the program made an invoke (${args.token}); the mesh builds everything from its declaration`,
        );
      },
    },
    project,
    options.stack,
    false,
    options.organization ?? "organization",
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(options.config).map(([key, value]) => [
        key,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
  );

  // As under the Pulumi CLI, an error raised inside an output (a missing stack output, a failed
  // apply) fails the run; under the mock runtime it would otherwise leave promises pending forever.
  let onFailure: ((reason: unknown) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onFailure = reject;
    process.prependListener("unhandledRejection", reject);
    process.prependListener("uncaughtException", reject);
  });
  const restoreSdkDebugging = withoutSdkDebugging();
  const restoreSerialisation = withoutProviderSerialisation();
  try {
    return await Promise.race([collect(), failed]);
  } finally {
    restoreSdkDebugging();
    restoreSerialisation();
    process.off("unhandledRejection", onFailure!);
    process.off("uncaughtException", onFailure!);
  }

  async function collect(): Promise<Evaluation> {
    const outputs = (await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        registered.push({
          key: `${args.type}::${args.name}`,
          resource: args.resource,
          opts: args.opts,
          type: args.type,
          name: args.name,
        });
        return undefined;
      });
      return options.program();
    })) as Record<string, unknown>;
    await pulumi.runtime.disconnect();

    const resources: PlannedResource[] = [];
    const accountOfUrn = new Map<string, string | null>();
    for (const entry of registered) {
      const urn = await promiseOf(entry.resource.urn);
      const parent = entry.opts.parent ? await promiseOf(entry.opts.parent.urn) : null;
      const recorded = inputsByKey.get(entry.key);
      const providerName = recorded?.provider
        ? providerNameOf(recorded.provider)
        : providerOfOptions(entry.opts);
      resources.push({
        urn,
        type: entry.type,
        name: entry.name,
        id: recorded?.id ?? null,
        account: entry.type.startsWith("pulumi:providers:")
          ? (providerAccounts.get(entry.name) ?? null)
          : providerName
            ? (providerAccounts.get(providerName) ?? null)
            : (accountOfRole(recorded?.inputs.roleArn) ??
              (parent ? (accountOfUrn.get(parent) ?? null) : null)),
        parent,
        protect: entry.opts.protect === true,
        retainOnDelete: entry.opts.retainOnDelete === true,
        inputs: recorded?.inputs ?? {},
      });
      accountOfUrn.set(urn, resources[resources.length - 1]!.account);
    }
    return { stack: options.stack, resources, outputs: await resolveDeep(outputs ?? {}) };
  }
}

/**
 * Turns off, until the returned function is called, the debugging work the Pulumi SDK does for
 * every resource and every internal promise while a program runs. None of it reaches the plan,
 * and at scale it was most of the evaluation's time and memory (figures in
 * docs/consumer-performance.md, "The plan at scale"):
 * - every resource records its constructor's call sites (`Resource.callsites`, with an unlimited
 *   `Error.stackTraceLimit`), and every internal promise a `new Error().stack`; under tsx each is
 *   mapped through source maps;
 * - `debuggablePromise` (runtime/debuggable.js) wraps each internal promise in two more with two
 *   closures, a debug label and a leak-candidate set entry: tens of thousands alive at once. The
 *   leak check it feeds runs at process exit under the CLI; here a promise that never settles is
 *   still reported, by the evaluation's own rejection handlers and by the unresolved plan;
 * - `registerResource` interpolates the monitor's whole response into a debug message that is
 *   built even when debug logging is off (`${innerResponse}`, a protobuf message whose toString
 *   converts it to an array and joins it).
 * `PLAN_STACK_TRACES=1` keeps all of it, for debugging a program error (whose message is kept
 * either way).
 */
function withoutSdkDebugging(): () => void {
  if (process.env.PLAN_STACK_TRACES === "1") return () => undefined;
  const resource = pulumi.Resource as unknown as { callsites: () => unknown[] };
  const callsites = resource.callsites;
  const limit = Error.stackTraceLimit;
  const debuggable = sdkModule<{ debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> }>(
    "runtime/debuggable",
  );
  const wrap = debuggable.debuggablePromise;
  const response = sdkModule<{ RegisterResourceResponse: { prototype: { toString(): string } } }>(
    "proto/resource_pb",
  ).RegisterResourceResponse.prototype;
  const hadOwnToString = Object.prototype.hasOwnProperty.call(response, "toString");
  const toString = response.toString;
  resource.callsites = () => [];
  Error.stackTraceLimit = 0;
  debuggable.debuggablePromise = (p) => p;
  response.toString = () => "RegisterResourceResponse";
  return () => {
    resource.callsites = callsites;
    Error.stackTraceLimit = limit;
    debuggable.debuggablePromise = wrap;
    if (hadOwnToString) response.toString = toString;
    else delete (response as { toString?: unknown }).toString;
  };
}

/** What a dynamic resource's `__provider` input holds while a program is evaluated. */
export const UNSERIALISED_PROVIDER = "exports.handler = undefined; // not serialised by the offline plan";

/**
 * Leaves dynamic providers unserialised until the returned function is called. The SDK serialises
 * each dynamic provider's closure into the `__provider` input of its resources (walking it through
 * V8's inspector and parsing it with TypeScript's compiler: about 1 s for the Personalize
 * providers, half of the dev plan's evaluation); the plan drops that input. That every provider
 * the program uses serialises, and runs once loaded as the CLI's provider host loads it, is
 * tested in test/personalize/provider.test.ts ("serialisation").
 */
function withoutProviderSerialisation(): () => void {
  const closure = sdkModule<{ serializeFunction: typeof pulumi.runtime.serializeFunction }>(
    "runtime/closure/serializeClosure",
  );
  // The SDK may keep each provider's serialisation for the process (`cacheDynamicProviders`): the
  // stand-in must not outlive the evaluation.
  const settings = sdkModule<{ cacheDynamicProviders: () => boolean }>("runtime/settings");
  const serialize = closure.serializeFunction;
  const cache = settings.cacheDynamicProviders;
  closure.serializeFunction = async () => ({
    text: UNSERIALISED_PROVIDER,
    exportName: "handler",
    containsSecrets: false,
  });
  settings.cacheDynamicProviders = () => false;
  return () => {
    closure.serializeFunction = serialize;
    settings.cacheDynamicProviders = cache;
  };
}

/** A module of the Pulumi SDK this program loaded (the SDK compiles each import to a property
 * read at call time, so replacing an export replaces it for the SDK's own calls). */
function sdkModule<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`@pulumi/pulumi/${path}`) as T;
}

/** Dynamic providers reach their account through the role they assume. */
function accountOfRole(roleArn: unknown): string | null {
  return typeof roleArn === "string"
    ? (/^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? null)
    : null;
}

/** `urn:pulumi:stack::project::pulumi:providers:aws::account-songs::<id>` -> `account-songs` */
function providerNameOf(reference: string): string | undefined {
  const urn = reference.split("::").slice(0, -1).join("::");
  return urn.split("::").pop();
}

function providerOfOptions(opts: pulumi.ResourceOptions): string | undefined {
  const provider =
    (opts as pulumi.CustomResourceOptions).provider ?? (opts as pulumi.ComponentResourceOptions).providers;
  const name = (provider as { __name?: string } | undefined)?.__name;
  return typeof name === "string" ? name : undefined;
}

const ASSET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Assets and archives (bundled handler code) as their size and hash: the plan stays readable. */
function summariseAssets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(summariseAssets);
  if (!value || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record.__pulumiArchive === true || record.__pulumiAsset === true) {
    return { archive: "bundled code; see sourceCodeHash" };
  }
  // A secret input: policy packs see its value under `pulumi preview`, so the plan shows it too.
  if (record[ASSET_SIG] === SECRET_SIG) return summariseAssets(record.value);
  if (ASSET_SIG in record) {
    if (record.assets) {
      return {
        archive: Object.fromEntries(
          Object.entries(record.assets as Record<string, unknown>).map(([k, v]) => [k, summariseAssets(v)]),
        ),
      };
    }
    const text = String(record.text ?? "");
    return { bytes: Buffer.byteLength(text), sha256: createHash("sha256").update(text).digest("hex") };
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, summariseAssets(v)]));
}

function parseJsonString(value: unknown): unknown {
  if (typeof value !== "string" || !/^[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

async function resolveDeep(value: unknown): Promise<Record<string, unknown>> {
  return (await promiseOf(pulumi.output(value))) as Record<string, unknown>;
}

/**
 * Outputs a mocked resource reports: its inputs plus the attributes AWS would compute, with ARNs
 * in the shape AWS gives them so that policies built from them read like real ones.
 */
function mockState(
  type: string,
  name: string,
  inputs: Record<string, any>,
  account: string,
  region: string,
): Record<string, unknown> {
  const physical = inputs.name ?? name;
  const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? name}mock`;
  const apiId = `${name}-id`;
  const arns: Record<string, string> = {
    "aws:kinesis/stream:Stream": `arn:aws:kinesis:${region}:${account}:stream/${physical}`,
    "aws:kinesis/streamConsumer:StreamConsumer": `${inputs.streamArn}/consumer/${physical}:1700000000`,
    "aws:kms/key:Key": `arn:aws:kms:${region}:${account}:key/${name}`,
    "aws:iam/role:Role": `arn:aws:iam::${account}:role/${physical}`,
    "aws:sns/topic:Topic": `arn:aws:sns:${region}:${account}:${physical}`,
    "aws:glue/registry:Registry": `arn:aws:glue:${region}:${account}:registry/${inputs.registryName ?? name}`,
    "aws:lambda/function:Function": `arn:aws:lambda:${region}:${account}:function:${physical}`,
    "aws:s3/bucket:Bucket": `arn:aws:s3:::${bucket}`,
    "aws:dynamodb/table:Table": `arn:aws:dynamodb:${region}:${account}:table/${physical}`,
    "aws:cloudwatch/logGroup:LogGroup": `arn:aws:logs:${region}:${account}:log-group:${physical}`,
    "aws:apigatewayv2/api:Api": `arn:aws:apigateway:${region}::/apis/${apiId}`,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": `arn:aws:firehose:${region}:${account}:deliverystream/${physical}`,
    "aws:opensearch/domain:Domain": `arn:aws:es:${region}:${account}:domain/${inputs.domainName ?? name}`,
    "aws:rds/cluster:Cluster": `arn:aws:rds:${region}:${account}:cluster:${inputs.clusterIdentifier ?? name}`,
  };
  const arn = arns[type] ?? `arn:aws:mock:${region}:${account}:${type.split(":")[1]}/${physical}`;
  return {
    ...inputs,
    arn,
    name: physical,
    ...(type === "aws:kms/key:Key" && { keyId: name }),
    ...(type === "aws:s3/bucket:Bucket" && { bucket, id: bucket }),
    ...(type === "aws:dynamodb/table:Table" && {
      id: physical,
      ...(inputs.streamEnabled && { streamArn: `${arn}/stream/2026-01-01T00:00:00.000` }),
    }),
    ...(type === "aws:rds/cluster:Cluster" && {
      id: inputs.clusterIdentifier ?? name,
      endpoint: `${inputs.clusterIdentifier ?? name}.cluster-mock.${region}.rds.amazonaws.com`,
      readerEndpoint: `${inputs.clusterIdentifier ?? name}.cluster-ro-mock.${region}.rds.amazonaws.com`,
      port: inputs.port ?? 5432,
      ...(inputs.manageMasterUserPassword && {
        masterUserSecrets: [
          {
            secretArn: `arn:aws:secretsmanager:${region}:${account}:secret:rds!cluster-${name}`,
            kmsKeyId: inputs.masterUserSecretKmsKeyId,
            secretStatus: "active",
          },
        ],
      }),
    }),
    ...(type === "aws:ec2/vpcEndpoint:VpcEndpoint" && { prefixListId: `pl-${name}` }),
    ...(type === "aws:lambda/function:Function" && {
      invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
    }),
    ...(type === "aws:lambda/eventSourceMapping:EventSourceMapping" && { uuid: `${name}-uuid` }),
    ...(type === "aws:apigatewayv2/api:Api" && {
      id: apiId,
      executionArn: `arn:aws:execute-api:${region}:${account}:${apiId}`,
      apiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com`,
    }),
  };
}

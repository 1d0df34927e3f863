import { readFileSync } from "node:fs";
import { join } from "node:path";
import { domains } from "../domains";
import { Names, PUSH_FUNCTION_SUFFIXES } from "../platform/mesh";
import { T } from "../policy/lib/types";

/**
 * The data-in-motion plane of a saved plan (`plan/<stack>.json`, written by `npm run plan`): the
 * streams, the Kinesis event source mappings with their settings, the functions they invoke (and
 * the push channels' functions), the tables those functions name. Outbox relays (mappings on
 * DynamoDB streams) are not part of it: the local mesh's producers publish directly.
 */
export interface LocalPlan {
  readonly stack: string;
  readonly streams: readonly PlannedStream[];
  readonly mappings: readonly PlannedMapping[];
  readonly functions: ReadonlyMap<string, PlannedFunction>;
  /** Tables named by the functions' environment (`*_TABLE`), with their partition key. */
  readonly tables: readonly { readonly name: string; readonly hashKey: string }[];
}

export interface PlannedStream {
  readonly name: string;
  readonly account: string;
  /** Planned shards; an on-demand stream starts with 4 (docs/aws-facts.md#kinesis-data-streams). */
  readonly shards: number;
}

export interface PlannedMapping {
  readonly name: string;
  readonly account: string;
  /** The stream or stream consumer ARN as planned. */
  readonly eventSourceArn: string;
  /** The stream it reads (a consumer ARN's stream). */
  readonly streamName: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly startingPosition: "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP";
  readonly startingPositionTimestamp?: string;
  /** Lambda filter patterns (JSON), any of which lets a record through; none = every record. */
  readonly filterPatterns: readonly string[];
  readonly bisectBatchOnFunctionError: boolean;
  /** -1 = until the record expires. */
  readonly maximumRetryAttempts: number;
  /** -1 = no limit. */
  readonly maximumRecordAgeInSeconds: number;
  readonly parallelizationFactor: number;
  readonly reportBatchItemFailures: boolean;
  readonly onFailureDestination?: string;
}

export interface PlannedFunction {
  readonly name: string;
  readonly account: string;
  /** The module the plan's bundle was built from, found by name and checked by `sourceCodeHash`. */
  readonly entry: string;
  readonly sourceCodeHash: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The planned environment; values unknown at plan time (outputs of other resources) are absent. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variables whose value the plan does not know (outputs of resources not yet created). */
  readonly unknownEnvironment: readonly string[];
}

interface PlanResource {
  readonly type: string;
  readonly name: string;
  readonly account?: string | null;
  readonly inputs: Record<string, unknown>;
}

const ROOT = join(__dirname, "..");

const ON_DEMAND_INITIAL_SHARDS = 4;

/** The module each planned function is bundled from: subscriptions' handlers and push functions. */
function entries(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const domain of domains) {
    for (const subscription of domain.subscriptions ?? []) {
      if (subscription.kind === "at-rest") continue;
      const name = Names.subscriber(domain.name, subscription.name);
      byName.set(name, join(ROOT, "domains", domain.name, subscription.handler));
      for (const suffix of PUSH_FUNCTION_SUFFIXES) {
        byName.set(`${name}-${suffix}`, join(ROOT, "runtime", "push", `${suffix}.ts`));
      }
    }
  }
  return byName;
}

/** Reads and checks a saved plan file; every problem names the file and the resource. */
export function loadPlan(file: string): LocalPlan {
  let plan: { stack?: string; resources?: readonly PlanResource[] };
  try {
    plan = JSON.parse(readFileSync(file, "utf8")) as typeof plan;
  } catch (error) {
    throw new Error(
      `${file}: cannot read the saved plan (run npm run plan -- dev): ${(error as Error).message}`,
    );
  }
  return localPlan(plan, file);
}

/** The data-in-motion plane of an evaluated plan; `file` names it in errors. */
export function localPlan(
  plan: { stack?: string; resources?: readonly PlanResource[] },
  file: string,
): LocalPlan {
  if (!Array.isArray(plan.resources)) throw new Error(`${file}: no resources: not a saved plan`);
  const of = (type: string) => plan.resources!.filter((resource) => resource.type === type);

  const streams = of(T.Stream).map((resource) => {
    const onDemand =
      (resource.inputs.streamModeDetails as { streamMode?: string } | undefined)?.streamMode === "ON_DEMAND";
    return {
      name: String(resource.inputs.name),
      account: resource.account ?? "",
      shards: onDemand ? ON_DEMAND_INITIAL_SHARDS : Number(resource.inputs.shardCount ?? 1),
    };
  });
  const streamNames = new Set(streams.map((stream) => stream.name));

  const mappings: PlannedMapping[] = [];
  for (const resource of of(T.EventSourceMapping)) {
    const arn = String(resource.inputs.eventSourceArn);
    if (!arn.startsWith("arn:aws:kinesis:")) continue;
    const streamName = /:stream\/([^/]+)/.exec(arn)?.[1];
    if (!streamName || !streamNames.has(streamName)) {
      throw new Error(`${file}: mapping ${resource.name} reads ${arn}, which is no stream of the plan`);
    }
    const inputs = resource.inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    mappings.push({
      name: resource.name,
      account: resource.account ?? "",
      eventSourceArn: arn,
      streamName,
      functionName: String(inputs.functionName).split(":").pop()!,
      batchSize: inputs.batchSize ?? 100,
      maximumBatchingWindowInSeconds: inputs.maximumBatchingWindowInSeconds ?? 0,
      startingPosition: inputs.startingPosition,
      startingPositionTimestamp: inputs.startingPositionTimestamp,
      filterPatterns: (inputs.filterCriteria?.filters ?? []).map(
        (filter: { pattern: string }) => filter.pattern,
      ),
      bisectBatchOnFunctionError: inputs.bisectBatchOnFunctionError ?? false,
      maximumRetryAttempts: inputs.maximumRetryAttempts ?? -1,
      maximumRecordAgeInSeconds: inputs.maximumRecordAgeInSeconds ?? -1,
      parallelizationFactor: inputs.parallelizationFactor ?? 1,
      reportBatchItemFailures: (inputs.functionResponseTypes ?? []).includes("ReportBatchItemFailures"),
      onFailureDestination: inputs.destinationConfig?.onFailure?.destinationArn,
    });
  }

  const known = entries();
  const wanted = new Set(mappings.map((mapping) => mapping.functionName));
  for (const name of [...wanted]) {
    for (const suffix of PUSH_FUNCTION_SUFFIXES) {
      if (known.has(`${name}-${suffix}`)) wanted.add(`${name}-${suffix}`);
    }
  }
  const functions = new Map<string, PlannedFunction>();
  for (const resource of of(T.LambdaFunction)) {
    const name = String(resource.inputs.name);
    if (!wanted.has(name)) continue;
    const entry = known.get(name);
    if (!entry) throw new Error(`${file}: function ${name}: no subscription or push channel declares it`);
    const variables = ((resource.inputs.environment as { variables?: Record<string, unknown> } | undefined)
      ?.variables ?? {}) as Record<string, unknown>;
    functions.set(name, {
      name,
      account: resource.account ?? "",
      entry,
      sourceCodeHash: String(resource.inputs.sourceCodeHash),
      timeoutSeconds: Number(resource.inputs.timeout ?? 3),
      memoryMb: Number(resource.inputs.memorySize ?? 128),
      environment: Object.fromEntries(
        Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
      ),
      unknownEnvironment: Object.keys(variables).filter(
        (variable) => typeof variables[variable] !== "string",
      ),
    });
  }
  for (const mapping of mappings) {
    if (!functions.has(mapping.functionName)) {
      throw new Error(
        `${file}: mapping ${mapping.name} invokes ${mapping.functionName}, which the plan does not define`,
      );
    }
  }

  const tableKeys = new Map(
    of(T.DynamoTable).map((resource) => [String(resource.inputs.name), String(resource.inputs.hashKey)]),
  );
  const tables = new Map<string, string>();
  for (const fn of functions.values()) {
    for (const [variable, value] of Object.entries(fn.environment)) {
      if (!variable.endsWith("_TABLE")) continue;
      const hashKey = tableKeys.get(value);
      if (!hashKey)
        throw new Error(
          `${file}: function ${fn.name}: ${variable} names ${value}, which the plan does not define`,
        );
      tables.set(value, hashKey);
    }
  }
  return {
    stack: plan.stack ?? "unknown",
    streams,
    mappings,
    functions,
    tables: [...tables].map(([name, hashKey]) => ({ name, hashKey })),
  };
}

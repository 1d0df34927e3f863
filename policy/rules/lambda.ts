import { arnService } from "../lib/arns";
import { listOf } from "../lib/checks";
import { resourceRule, type ResourceRuleSpec, type ResourceView, type RuleContext } from "../lib/rule";
import type { SettingKey } from "../lib/settings";
import { T } from "../lib/types";
import { containsUnknown, get, isRecord, UNKNOWN } from "../lib/values";

const ESM = "Event source mapping";

/**
 * Whether a mapping reads a stream (Kinesis or DynamoDB), the sources the retry, age, bisect and
 * starting-position settings apply to. Unknown when the source ARN is not known yet.
 */
function streamSource(mapping: ResourceView): "stream" | "other" | "unknown" {
  const arn = mapping.props.eventSourceArn;
  if (arn === UNKNOWN) return "unknown";
  if (typeof arn !== "string") return "other"; // self-managed Kafka, Amazon MQ
  const service = arnService(arn);
  return service === "kinesis" || service === "dynamodb" ? "stream" : "other";
}

/**
 * A rule over stream event source mappings. When the source is not known yet, the rule runs as if
 * it were a stream; a violation it finds then becomes a could-not-check (it may be an SQS queue).
 */
function streamMappingRule<K extends SettingKey = never>(
  spec: Omit<ResourceRuleSpec<K>, "types">,
): ReturnType<typeof resourceRule> {
  return resourceRule<K>({
    ...spec,
    types: [T.EventSourceMapping],
    check(mapping, context) {
      const source = streamSource(mapping);
      if (source === "other") return;
      if (source === "stream") return spec.check(mapping, context);
      let violated = false;
      const deferred: RuleContext<K> = {
        settings: context.settings,
        report: () => (violated = true),
        couldNotCheck: context.couldNotCheck,
      };
      spec.check(mapping, deferred);
      if (violated) context.couldNotCheck(`${ESM} eventSourceArn could not be checked during preview.`);
    },
  });
}

/** Reports an integer setting outside [min, max]; unset means AWS's (unbounded) default. */
function checkBounded(
  mapping: ResourceView,
  context: RuleContext<never>,
  key: string,
  min: number,
  max: number,
): void {
  const value = mapping.props[key];
  if (value === UNKNOWN) {
    context.couldNotCheck(`${ESM} ${key} could not be checked during preview.`);
  } else if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const actual =
      value === undefined || value === -1
        ? `${value === -1 ? "-1" : "unset"}, which is unbounded`
        : String(value);
    context.report(`${ESM} ${key} must be between ${min} and ${max} (it is ${actual}).`);
  }
}

export const lambdaEsmBoundedRetries = streamMappingRule({
  name: "lambda-esm-bounded-retries",
  description:
    "Stream event source mappings must bound maximumRetryAttempts, so one bad record cannot block a shard.",
  enforcementLevel: "mandatory",
  check: (mapping, context) => checkBounded(mapping, context, "maximumRetryAttempts", 0, 10000),
});

export const lambdaEsmBoundedRecordAge = streamMappingRule({
  name: "lambda-esm-bounded-record-age",
  description:
    "Stream event source mappings must bound maximumRecordAgeInSeconds, so old records go to the failure destination.",
  enforcementLevel: "mandatory",
  check: (mapping, context) => checkBounded(mapping, context, "maximumRecordAgeInSeconds", 60, 604800),
});

export const lambdaEsmBisectOnError = streamMappingRule({
  name: "lambda-esm-bisect-on-error",
  description: "Stream event source mappings must split a failing batch to isolate the bad record.",
  enforcementLevel: "mandatory",
  check(mapping, context) {
    const bisect = mapping.props.bisectBatchOnFunctionError;
    if (bisect === UNKNOWN)
      context.couldNotCheck(`${ESM} bisectBatchOnFunctionError could not be checked during preview.`);
    else if (bisect !== true) context.report(`${ESM} bisectBatchOnFunctionError must be true.`);
  },
});

export const lambdaEsmReportBatchItemFailures = streamMappingRule({
  name: "lambda-esm-report-batch-item-failures",
  description:
    "Stream event source mappings must enable ReportBatchItemFailures, so that one failed record does not replay its whole batch.",
  enforcementLevel: "mandatory",
  check(mapping, context) {
    const types = mapping.props.functionResponseTypes;
    if (Array.isArray(types) && types.includes("ReportBatchItemFailures")) return;
    if (containsUnknown(types))
      context.couldNotCheck(`${ESM} functionResponseTypes could not be checked during preview.`);
    else context.report(`${ESM} functionResponseTypes must include ReportBatchItemFailures.`);
  },
});

export const lambdaEsmOnFailureDestination = streamMappingRule({
  name: "lambda-esm-on-failure-destination",
  description:
    "Stream event source mappings must send records that exhaust their retries to an on-failure destination.",
  enforcementLevel: "mandatory",
  check(mapping, context) {
    const destination = get(mapping.props, "destinationConfig", "onFailure", "destinationArn");
    // An unknown ARN is the output of the queue, topic or bucket: the destination is set.
    if (destination === UNKNOWN) {
      const known = get(mapping.props, "destinationConfig", "onFailure") !== UNKNOWN;
      if (!known) context.couldNotCheck(`${ESM} destinationConfig could not be checked during preview.`);
      return;
    }
    if (typeof destination !== "string" || destination.length === 0) {
      context.report(`${ESM} destinationConfig.onFailure must name a destination.`);
    }
  },
});

export const lambdaEsmStartingPosition = streamMappingRule({
  name: "lambda-esm-starting-position",
  description:
    "Stream event source mappings must set a valid startingPosition, with a past timestamp for AT_TIMESTAMP.",
  enforcementLevel: "mandatory",
  check(mapping, context) {
    const position = mapping.props.startingPosition;
    const timestamp = mapping.props.startingPositionTimestamp;
    if (position === UNKNOWN) {
      context.couldNotCheck(`${ESM} startingPosition could not be checked during preview.`);
    } else if (position !== "TRIM_HORIZON" && position !== "LATEST" && position !== "AT_TIMESTAMP") {
      context.report(
        `${ESM} startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP (it is ${String(position ?? "unset")}).`,
      );
    } else if (position === "AT_TIMESTAMP") {
      if (timestamp === UNKNOWN) {
        context.couldNotCheck(`${ESM} startingPositionTimestamp could not be checked during preview.`);
      } else if (typeof timestamp !== "string" || Number.isNaN(Date.parse(timestamp))) {
        context.report(`${ESM} startingPositionTimestamp must be an RFC 3339 timestamp with AT_TIMESTAMP.`);
      } else if (Date.parse(timestamp) > Date.now()) {
        context.report(`${ESM} startingPositionTimestamp must not be in the future (it is ${timestamp}).`);
      }
    } else if (timestamp !== undefined && timestamp !== null) {
      context.report(`${ESM} startingPositionTimestamp must only be set with AT_TIMESTAMP.`);
    }
  },
});

/** Why a filter pattern is not a valid event pattern (a JSON object whose leaves are arrays), if it is not. */
export function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== "string") return "it is not a string";
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch {
    return "it is not valid JSON";
  }
  if (!isRecord(parsed) || Object.keys(parsed).length === 0) return "it is not a non-empty JSON object";
  return leafProblem(parsed, []);
}

function leafProblem(node: Record<string, unknown>, path: string[]): string | undefined {
  for (const [key, value] of Object.entries(node)) {
    const here = [...path, key];
    if (Array.isArray(value)) {
      if (value.length === 0) return `${here.join(".")} matches nothing`;
      continue;
    }
    if (!isRecord(value) || Object.keys(value).length === 0)
      return `${here.join(".")} must be an array or an object`;
    const problem = leafProblem(value, here);
    if (problem) return problem;
  }
  return undefined;
}

export const lambdaEsmFilters = resourceRule({
  name: "lambda-esm-filters",
  description: "Event source mapping filters must be at most maxFilters (AWS: 5) valid JSON event patterns.",
  enforcementLevel: "mandatory",
  types: [T.EventSourceMapping],
  settings: ["maxFilters"],
  check(mapping, context) {
    const filters = get(mapping.props, "filterCriteria", "filters");
    if (filters === UNKNOWN) {
      context.couldNotCheck(`${ESM} filterCriteria could not be checked during preview.`);
      return;
    }
    if (!Array.isArray(filters)) return;
    if (filters.length > context.settings.maxFilters) {
      context.report(
        `${ESM} must have at most ${context.settings.maxFilters} filters (it has ${filters.length}).`,
      );
    }
    for (const [index, filter] of filters.entries()) {
      const pattern = get(filter, "pattern");
      if (pattern === UNKNOWN) {
        context.couldNotCheck(`${ESM} filter ${index + 1} could not be checked during preview.`);
        continue;
      }
      const problem = patternProblem(pattern);
      if (problem)
        context.report(`${ESM} filter ${index + 1} must be a valid JSON event pattern (${problem}).`);
    }
  },
});

/** The envelope's fields (platform/contract.ts) and the Kinesis record fields a filter can name besides `data`. */
const ENVELOPE_FIELDS = [
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "dataversion",
  "partitionkey",
  "data",
];
const RECORD_FIELDS = [
  "data",
  "partitionKey",
  "sequenceNumber",
  "approximateArrivalTimestamp",
  "kinesisSchemaVersion",
];

/** Dotted paths of a pattern's leaves (arrays), e.g. `data.data.playedMs`. */
function leafPaths(node: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(node).flatMap(([key, value]) =>
    isRecord(value) ? leafPaths(value, [...prefix, key]) : [[...prefix, key]],
  );
}

/** What a filter names that the stream's contract does not have, one phrase each. */
function unknownNames(
  pattern: Record<string, unknown>,
  events: Readonly<Record<string, readonly string[]>>,
): string[] {
  const problems: string[] = [];
  const typeMatcher = get(pattern, "data", "type");
  const named = Array.isArray(typeMatcher)
    ? typeMatcher.filter((t): t is string => typeof t === "string")
    : [];
  const undeclared = named.filter((type) => !(type in events));
  if (undeclared.length) problems.push(`event type ${listOf(undeclared)}`);
  // Only the types the filter selects (all of them when it selects none by name) can match its fields.
  const selected =
    named.length && Array.isArray(typeMatcher) && named.length === typeMatcher.length
      ? named.filter((type) => type in events)
      : Object.keys(events);
  const fields = new Set(selected.flatMap((type) => events[type] ?? []));
  for (const path of leafPaths(pattern)) {
    const [top, envelope, ...payload] = path;
    if (!RECORD_FIELDS.includes(top!)) problems.push(`record field ${top}`);
    else if (top !== "data" || envelope === undefined) continue;
    else if (!ENVELOPE_FIELDS.includes(envelope)) problems.push(`envelope field ${envelope}`);
    else if (envelope === "data" && payload.length && !fields.has(payload.join("."))) {
      problems.push(`payload field ${payload.join(".")}${named.length ? ` of ${listOf(selected)}` : ""}`);
    }
  }
  return problems;
}

export const lambdaEsmFiltersContract = resourceRule({
  name: "lambda-esm-filters-contract",
  description:
    "Event source mapping filters on a mesh stream must only name the event types and fields its contract declares, since a filter on anything else matches nothing and drops its records unseen.",
  enforcementLevel: "mandatory",
  types: [T.EventSourceMapping],
  settings: ["streamContracts"],
  check(mapping, context) {
    const contracts = context.settings.streamContracts;
    if (!contracts) return;
    const filters = get(mapping.props, "filterCriteria", "filters");
    if (!Array.isArray(filters) || filters.length === 0) return;
    const source = mapping.props.eventSourceArn;
    if (source === UNKNOWN) {
      context.couldNotCheck(`${ESM} eventSourceArn could not be checked during preview.`);
      return;
    }
    if (typeof source !== "string") return;
    // An enhanced fan-out mapping reads the stream through its consumer: .../stream/<name>/consumer/<c>:<t>
    const streamArn = source.split("/consumer/")[0];
    const contract = contracts.find((c) => c.streamArn === streamArn);
    if (!contract) return;
    for (const [index, filter] of filters.entries()) {
      const pattern = get(filter, "pattern");
      if (typeof pattern !== "string" || patternProblem(pattern)) continue; // lambda-esm-filters'
      const problems = unknownNames(JSON.parse(pattern) as Record<string, unknown>, contract.events);
      if (problems.length) {
        context.report(
          `${ESM} filter ${index + 1} must only name what the contract of ${contract.product} declares (not ${listOf(problems)}).`,
        );
      }
    }
  },
});

export const lambdaSupportedRuntime = resourceRule({
  name: "lambda-supported-runtime",
  description: "Lambda functions packaged as zip files must use a runtime from allowedRuntimes.",
  enforcementLevel: "mandatory",
  types: [T.LambdaFunction],
  settings: ["allowedRuntimes"],
  check(fn, context) {
    const packageType = fn.props.packageType;
    if (packageType === "Image") return;
    const runtime = fn.props.runtime;
    const { allowedRuntimes } = context.settings;
    if (runtime === UNKNOWN || packageType === UNKNOWN) {
      context.couldNotCheck("Lambda function runtime could not be checked during preview.");
    } else if (typeof runtime !== "string" || !allowedRuntimes.includes(runtime)) {
      context.report(
        `Lambda function runtime must be one of ${listOf(allowedRuntimes)} (it is ${String(runtime ?? "unset")}).`,
      );
    }
  },
});

export const lambdaNoPublicInvoke = resourceRule({
  name: "lambda-no-public-invoke",
  description:
    'Lambda permissions for principal "*" must be bounded by sourceArn, sourceAccount or principalOrgId.',
  enforcementLevel: "mandatory",
  types: [T.LambdaPermission],
  check(permission, context) {
    const principal = permission.props.principal;
    const bounds = [
      permission.props.sourceArn,
      permission.props.sourceAccount,
      permission.props.principalOrgId,
    ];
    // An unknown bound is an output (an API's execution ARN...): it is set.
    if (bounds.some((bound) => bound === UNKNOWN || (typeof bound === "string" && bound.length > 0))) return;
    if (principal === UNKNOWN)
      context.couldNotCheck("Lambda permission principal could not be checked during preview.");
    else if (principal === "*") {
      context.report(
        'Lambda permission for principal "*" must be bounded by sourceArn, sourceAccount or principalOrgId.',
      );
    }
  },
});

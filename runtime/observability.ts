import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { env } from "./env";

/**
 * The Powertools singletons every handler in this repo logs, measures and traces through, created
 * once per execution environment when the handler module is loaded.
 *
 * The service name comes from `POWERTOOLS_SERVICE_NAME` (the platform sets it to the subscription
 * name); a stream handler built with a `serviceName` option uses it where the variable is unset.
 * Log level and metrics switches follow the usual `POWERTOOLS_*` variables.
 *
 * Tracing. Every function runs with Lambda active tracing, which records the invocation's segment
 * (service map node, init / invocation / overhead timings, errors) without any code in the
 * function. Subsegments for the AWS calls a handler makes need the X-Ray SDK inside the function,
 * and the Powertools tracer loads it; the SDK's `cls-hooked` context installs an `async_hooks`
 * hook on import that runs on every promise of every invocation, sampled or not, which alone
 * doubled the consumers' CPU (docs/consumer-performance.md). So the tracer is loaded only when
 * `POWERTOOLS_TRACE_ENABLED` is `true` (an opt-in, unlike Powertools' default); otherwise the
 * module is never evaluated and no promise is hooked.
 */
export const SERVICE_NAME_FALLBACK = "stream-consumer";

const serviceName = env("POWERTOOLS_SERVICE_NAME", SERVICE_NAME_FALLBACK);

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({
  namespace: env("POWERTOOLS_METRICS_NAMESPACE", "StreamingDataMesh"),
  serviceName,
  // Its warnings as structured log lines, like everything else.
  logger,
});

let sdkTracer: Tracer | undefined;

/** The Powertools tracer when SDK tracing is turned on (`POWERTOOLS_TRACE_ENABLED=true`), else undefined. */
export function tracer(): Tracer | undefined {
  if (env("POWERTOOLS_TRACE_ENABLED", "false") !== "true") return undefined;
  // Required here, not imported, so that the X-Ray SDK is evaluated only when tracing is on.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Tracer } =
    require("@aws-lambda-powertools/tracer") as typeof import("@aws-lambda-powertools/tracer");
  sdkTracer ??= new Tracer({ serviceName });
  return sdkTracer;
}

/** An AWS SDK v3 client, with X-Ray subsegments for its calls when SDK tracing is on. */
export function traced<T>(client: T): T {
  return tracer()?.captureAWSv3Client(client) ?? client;
}

/** What a handler logs, measures and traces through; injectable so tests and benchmarks stay quiet. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default {@link tracer}() */
  readonly tracer?: Tracer | undefined;
}

export const defaultObservability: Observability = { logger, metrics };

/** True when `POWERTOOLS_SERVICE_NAME` is set, which then wins over a handler's `serviceName` option. */
export function serviceNameFromEnvironment(): boolean {
  return env("POWERTOOLS_SERVICE_NAME", "") !== "";
}

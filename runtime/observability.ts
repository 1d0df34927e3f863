import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { env } from "./env";

/**
 * The Powertools singletons every handler in this repo logs, measures and traces through, created
 * once per execution environment when the handler module is loaded.
 *
 * The service name comes from `POWERTOOLS_SERVICE_NAME` (the platform sets it to the subscription
 * name); a stream handler built with a `serviceName` option uses it where the variable is unset.
 * Log level, sampling and tracing switches follow the usual `POWERTOOLS_*` variables.
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

export const tracer = new Tracer({ serviceName });

/** What a handler logs, measures and traces through; injectable so tests and benchmarks stay quiet. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export const defaultObservability: Observability = { logger, metrics, tracer };

/** True when `POWERTOOLS_SERVICE_NAME` is set, which then wins over a handler's `serviceName` option. */
export function serviceNameFromEnvironment(): boolean {
  return env("POWERTOOLS_SERVICE_NAME", "") !== "";
}

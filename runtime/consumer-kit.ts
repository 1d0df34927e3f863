import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { makeIdempotent } from "@aws-lambda-powertools/idempotency";
import type { Logger } from "@aws-lambda-powertools/logger";
import { MetricUnit, type Metrics } from "@aws-lambda-powertools/metrics";
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from "aws-lambda";
import { z } from "zod";
import {
  ContractViolationError,
  currentVersion,
  envelopeSchema,
  parseEnvelope,
  type Contract,
  type Envelope,
} from "../platform/contract";
import {
  claimEvent,
  completeEvent,
  releaseEvent,
  resolveIdempotency,
  type IdempotencyOptions,
  type ResolvedIdempotency,
} from "./consumer-idempotency";
import { defaultObservability, serviceNameFromEnvironment, type Observability } from "./observability";

export { env, envInteger, InvalidEnvironmentVariableError, MissingEnvironmentVariableError } from "./env";
export { logger, metrics, tracer, type Observability } from "./observability";
export type { IdempotencyOptions } from "./consumer-idempotency";

/**
 * The consumer handler kit: every Kinesis stream handler of the mesh is built with
 * {@link createRecordHandler} (one event at a time) or {@link createBatchHandler} (the whole batch at
 * once, for batch APIs). Both decode and validate each record against the product's contract, skip
 * event ids already processed, and answer with a partial batch response in which every failed
 * record, and only those, is named by its sequence number.
 *
 * The event source mappings are expected to run with `ReportBatchItemFailures`, bisection, bounded
 * retries and record age, and an on-failure destination (the platform sets them): a record that
 * can never succeed is reported until its retries run out and then reaches the destination; it is
 * never dropped here and never blocks its shard for longer than the mapping allows.
 */

/** The Lambda handler the kit builds. */
export type StreamHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse>;

/** A record that decoded and passed its contract. */
export interface StreamEvent<T = Record<string, unknown>> {
  readonly record: KinesisStreamRecord;
  readonly sequenceNumber: string;
  readonly envelope: Envelope<T>;
  /** The contract the envelope was validated against (several when a handler reads several products). */
  readonly contract: Contract;
}

/** One event a batch step could not process, and why; its record is reported as failed. */
export interface EventFailure {
  readonly event: StreamEvent;
  readonly error: Error;
}

/** What the handler's logic gets besides the events. */
export interface Invocation {
  readonly lambdaContext: Context;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface StreamHandlerOptions {
  /**
   * The contract events are validated against. With several (one function reading several
   * products), each event is validated against the contract that declares its `type`.
   */
  readonly contract: Contract | readonly Contract[];
  /**
   * Service name for logs and metrics.
   * @default `POWERTOOLS_SERVICE_NAME`, which wins over this option when set
   */
  readonly serviceName?: string;
  /** @default DynamoDB table `IDEMPOTENCY_TABLE`, records kept `IDEMPOTENCY_TTL_SECONDS` */
  readonly idempotency?: IdempotencyOptions;
  /** @default the module-scope singletons of `runtime/observability.ts` */
  readonly observability?: Partial<Observability>;
  /**
   * When every record of a batch fails, throw (a function error, visible in the Errors metric)
   * instead of reporting each one. Either way the whole batch is retried, bisected on retry.
   * @default true (Powertools' default)
   */
  readonly throwOnFullBatchFailure?: boolean;
}

export interface RecordHandlerOptions extends StreamHandlerOptions {
  /**
   * `false` processes a batch's events one after the other in stream order (needed whenever two
   * events for the same key must take effect in order); `true` runs them concurrently. No default,
   * so every handler states its choice.
   */
  readonly processInParallel: boolean;
  /** The effect of one event; throw to fail its record. Runs at most once per event id. */
  readonly processEvent: (event: StreamEvent, invocation: Invocation) => Promise<void>;
}

export interface BatchHandlerOptions extends StreamHandlerOptions {
  /**
   * The effect of a batch's events: the valid ones, not processed before, each id once, in stream
   * order. Returns the events that failed; every other event counts as processed and will be
   * skipped when delivered again. Throwing fails all of them.
   */
  readonly processEvents: (
    events: readonly StreamEvent[],
    invocation: Invocation,
  ) => Promise<readonly EventFailure[]>;
}

/** Data that is not UTF-8 JSON once base64-decoded. */
export class UndecodableRecordError extends Error {
  override readonly name = "UndecodableRecordError";
  constructor(
    readonly sequenceNumber: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The invocation is not a Kinesis event source mapping batch. */
export class UnexpectedEventError extends Error {
  override readonly name = "UnexpectedEventError";
}

/** A batch step reported a failure for an event it was not given: a bug in the step. */
export class UnknownEventFailureError extends Error {
  override readonly name = "UnknownEventFailureError";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes one record as Lambda delivers it (base64 `kinesis.data`), parses the JSON and validates
 * the CloudEvents envelope and its payload. Throws {@link UndecodableRecordError} or
 * `ContractViolationError` (with the zod issues).
 */
export function decodeRecord(
  record: KinesisStreamRecord,
  contract: Contract | readonly Contract[],
): StreamEvent {
  const sequenceNumber = record.kinesis.sequenceNumber;
  let value: unknown;
  try {
    // Not Powertools parser's Base64Encoded: it tries to gunzip every record first, which measured
    // 141.7 ms of handler CPU per 1,000 records against 54.8 ms for this (npm run bench).
    value = JSON.parse(utf8.decode(Buffer.from(record.kinesis.data, "base64")));
  } catch (error) {
    throw new UndecodableRecordError(
      sequenceNumber,
      `record ${sequenceNumber}: data is not base64-encoded UTF-8 JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const chosen = contractFor(asList(contract), value);
  return { record, sequenceNumber, contract: chosen, envelope: parseEnvelope(chosen, value) };
}

function contractFor(contracts: readonly Contract[], value: unknown): Contract {
  if (contracts.length === 1) return contracts[0]!;
  const type = (value as { type?: unknown } | null)?.type;
  const match =
    typeof type === "string"
      ? contracts.find((contract) => Object.hasOwn(currentVersion(contract).events, type))
      : undefined;
  if (match) return match;
  const names = contracts.map((contract) => contract.name).join(" | ");
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) {
    throw new ContractViolationError(
      `${names}: malformed envelope: ${z.prettifyError(envelope.error)}`,
      envelope.error.issues,
    );
  }
  const known = contracts.flatMap((contract) => Object.keys(currentVersion(contract).events)).join(", ");
  throw new ContractViolationError(
    `${names}: unknown event type ${String(type)} (expected one of ${known})`,
    [],
  );
}

function asList(contract: Contract | readonly Contract[]): readonly Contract[] {
  return Array.isArray(contract) ? contract : [contract as Contract];
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, starting them in order.
 * `fn` should handle its own errors: the first rejection rejects the whole run.
 */
export async function forEachWithConcurrency<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await fn(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}

/** Counts of one invocation, published as metrics and logged when something failed. */
interface Tally {
  received: number;
  rejected: number;
  duplicates: number;
  failed: number;
  processed: number;
}

/**
 * What both handler shapes share: lazily resolved settings (so importing a handler module reads no
 * environment variable), the event shape check, logging context, tracing and metrics.
 */
function handlerRuntime(options: StreamHandlerOptions, mode: "record" | "batch") {
  const observability: Observability = { ...defaultObservability, ...options.observability };
  let resolved: { logger: Logger; idempotency: ResolvedIdempotency } | undefined;
  let coldStart = true;

  const resolve = () => {
    const useOption = options.serviceName !== undefined && !serviceNameFromEnvironment();
    if (useOption) observability.metrics.setDefaultDimensions({ service: options.serviceName! });
    return {
      logger: useOption
        ? observability.logger.createChild({ serviceName: options.serviceName })
        : observability.logger,
      idempotency: resolveIdempotency(options.idempotency ?? {}, observability.tracer, mode),
    };
  };

  return async (
    event: KinesisStreamEvent,
    context: Context,
    body: (
      invocation: Invocation,
      idempotency: ResolvedIdempotency,
      tally: Tally,
    ) => Promise<KinesisStreamBatchResponse>,
  ): Promise<KinesisStreamBatchResponse> => {
    assertKinesisBatch(event);
    resolved ??= resolve();
    const { logger, idempotency } = resolved;
    const { metrics, tracer } = observability;
    logger.addContext(context);
    if (coldStart) metrics.captureColdStartMetric();
    coldStart = false;

    const tally: Tally = {
      received: event.Records.length,
      rejected: 0,
      duplicates: 0,
      failed: 0,
      processed: 0,
    };
    const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    const segment = parent?.addNewSubsegment(`## ${context.functionName}`);
    if (segment) {
      tracer.setSegment(segment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      return await body({ lambdaContext: context, logger, metrics }, idempotency, tally);
    } catch (error) {
      if (segment) tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      segment?.close();
      if (parent) tracer.setSegment(parent);
      if (tally.rejected || tally.failed) logger.warn("batch processed with failures", { ...tally });
      metrics.addMetric("RecordsReceived", MetricUnit.Count, tally.received);
      metrics.addMetric("RecordsRejected", MetricUnit.Count, tally.rejected);
      metrics.addMetric("EventsDuplicate", MetricUnit.Count, tally.duplicates);
      metrics.addMetric("EventsFailed", MetricUnit.Count, tally.failed);
      metrics.addMetric("EventsProcessed", MetricUnit.Count, tally.processed);
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}

function assertKinesisBatch(event: KinesisStreamEvent): void {
  if (!Array.isArray(event?.Records)) throw new UnexpectedEventError("event has no Records array");
  event.Records.forEach((record, index) => {
    // An empty item identifier in the response would fail the whole batch: refuse up front.
    if (typeof record?.kinesis?.sequenceNumber !== "string" || record.kinesis.sequenceNumber === "") {
      throw new UnexpectedEventError(`Records[${index}] has no kinesis.sequenceNumber: not a Kinesis batch`);
    }
  });
}

function logRejected(logger: Logger, record: KinesisStreamRecord, error: unknown): void {
  logger.error("record rejected: it does not decode or does not match its contract", {
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
    eventSourceARN: record.eventSourceARN,
    error: error as Error,
    issues: error instanceof ContractViolationError ? error.issues : undefined,
  });
}

function logFailed(logger: Logger, event: StreamEvent, error: unknown): void {
  logger.error("event failed: its record is reported for retry", {
    sequenceNumber: event.sequenceNumber,
    partitionKey: event.record.kinesis.partitionKey,
    eventId: event.envelope.id,
    eventType: event.envelope.type,
    error: error as Error,
  });
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * A handler that processes one event at a time through Powertools `BatchProcessor`, each event
 * made idempotent with Powertools `makeIdempotent` keyed on the envelope `id`. A record that does
 * not decode or validate, or whose `processEvent` throws, is reported in `batchItemFailures`.
 */
export function createRecordHandler(options: RecordHandlerOptions): StreamHandler {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const runtime = handlerRuntime(options, "record");
  type Step = (
    envelope: Envelope,
    context: Context,
    event: StreamEvent,
    invocation: Invocation,
  ) => Promise<void>;
  let idempotentStep: Step | undefined;
  const ran = new WeakSet<StreamEvent>();

  return (event, context) =>
    runtime(event, context, async (invocation, idempotency, tally) => {
      // The envelope is the hashed argument (key: its `id`); passing the Lambda context second lets
      // Powertools register it and bound the in-progress lock by the remaining time.
      idempotentStep ??= makeIdempotent<Step>(
        async (_envelope, _context, streamEvent, stepInvocation) => {
          ran.add(streamEvent);
          await options.processEvent(streamEvent, stepInvocation);
        },
        {
          persistenceStore: idempotency.store,
          config: idempotency.config,
          ...(idempotency.keyPrefix ? { keyPrefix: idempotency.keyPrefix } : {}),
        },
      );
      const step = idempotentStep;
      return processPartialResponse(
        event,
        async (record: KinesisStreamRecord) => {
          let streamEvent: StreamEvent;
          try {
            streamEvent = decodeRecord(record, options.contract);
          } catch (error) {
            tally.rejected++;
            logRejected(invocation.logger, record, error);
            throw error;
          }
          try {
            await step(streamEvent.envelope, context, streamEvent, invocation);
          } catch (error) {
            tally.failed++;
            logFailed(invocation.logger, streamEvent, error);
            throw error;
          }
          if (ran.has(streamEvent)) tally.processed++;
          else tally.duplicates++;
        },
        processor,
        {
          context,
          processInParallel: options.processInParallel,
          throwOnFullBatchFailure: options.throwOnFullBatchFailure ?? true,
        },
      );
    });
}

/**
 * A handler that processes the whole batch in one step, for APIs that take many events per call.
 *
 * 1. every record is decoded and validated; failures are reported, the rest go on;
 * 2. an id seen twice in the batch is processed once, and both records share its outcome;
 * 3. each id is claimed in the idempotency store; ids completed before are skipped, ids another
 *    invocation holds are reported (and retried later);
 * 4. `processEvents` gets the claimed events in stream order and returns the ones that failed;
 * 5. succeeded ids are marked completed, failed ids released so a retry can claim them;
 * 6. the outcomes are handed to Powertools `BatchProcessor` / `processPartialResponse` to build the
 *    response, record by record, so the failure list is exactly the failed records.
 *
 * Why not `makeIdempotent` here: it makes one function call idempotent under one key, and stores
 * that call's result. A PutEvents call carries up to ten events whose grouping changes between
 * deliveries (bisection, checkpoint replays), so a per-call key would not recognise an event seen
 * before in another group. Steps 3 and 5 therefore use the same Powertools persistence layer, with
 * the same keys, records and conditional writes, through `saveInProgress` / `saveSuccess` /
 * `deleteRecord` per event (see `consumer-idempotency.ts`).
 */
export function createBatchHandler(options: BatchHandlerOptions): StreamHandler {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  const runtime = handlerRuntime(options, "batch");

  return (event, context) =>
    runtime(event, context, async (invocation, idempotency, tally) => {
      const { logger } = invocation;
      /** Per record: `null` processed (or skipped as a duplicate), an Error failed. */
      const outcomes = new Map<KinesisStreamRecord, Error | null>();
      const fail = (streamEvent: StreamEvent, error: Error) => {
        outcomes.set(streamEvent.record, error);
        tally.failed++;
        logFailed(logger, streamEvent, error);
      };

      const leaders = new Map<string, StreamEvent>();
      const followers: StreamEvent[] = [];
      for (const record of event.Records) {
        try {
          const streamEvent = decodeRecord(record, options.contract);
          if (leaders.has(streamEvent.envelope.id)) followers.push(streamEvent);
          else leaders.set(streamEvent.envelope.id, streamEvent);
        } catch (error) {
          outcomes.set(record, asError(error));
          tally.rejected++;
          logRejected(logger, record, error);
        }
      }

      const position = new Map(event.Records.map((record, index) => [record, index]));
      const enabled = idempotency.config.isEnabled();
      const claimed: StreamEvent[] = [];
      if (enabled) {
        await forEachWithConcurrency(leaders.values(), idempotency.concurrency, async (streamEvent) => {
          try {
            const claim = await claimEvent(
              idempotency,
              streamEvent.envelope,
              context.getRemainingTimeInMillis(),
            );
            if (claim === "claimed") claimed.push(streamEvent);
            else {
              outcomes.set(streamEvent.record, null);
              tally.duplicates++;
            }
          } catch (error) {
            fail(streamEvent, asError(error));
          }
        });
        claimed.sort((a, b) => position.get(a.record)! - position.get(b.record)!);
      } else {
        claimed.push(...leaders.values());
      }

      const failures = new Map<StreamEvent, Error>();
      if (claimed.length) {
        try {
          const given = new Set(claimed);
          for (const failure of await options.processEvents(claimed, invocation)) {
            if (!given.has(failure.event)) {
              throw new UnknownEventFailureError(
                `processEvents reported a failure for event ${failure.event.envelope.id}, which it was not given`,
              );
            }
            if (!failures.has(failure.event)) failures.set(failure.event, asError(failure.error));
          }
        } catch (error) {
          failures.clear();
          for (const streamEvent of claimed) failures.set(streamEvent, asError(error));
        }
      }

      await forEachWithConcurrency(claimed, idempotency.concurrency, async (streamEvent) => {
        const error = failures.get(streamEvent);
        if (error) {
          fail(streamEvent, error);
          if (!enabled) return;
          await releaseEvent(idempotency, streamEvent.envelope).catch((releaseError: unknown) =>
            // The claim then lapses at its in-progress expiry; retries before that are reported again.
            logger.warn("could not release the idempotency record of a failed event", {
              eventId: streamEvent.envelope.id,
              error: releaseError as Error,
            }),
          );
          return;
        }
        outcomes.set(streamEvent.record, null);
        tally.processed++;
        if (!enabled) return;
        await completeEvent(idempotency, streamEvent.envelope, {
          sequenceNumber: streamEvent.sequenceNumber,
        }).catch(
          // The effect happened, so the record is reported as processed; a redelivery after the
          // claim lapses would repeat it, which is the best that can be done without the store.
          (saveError: unknown) =>
            logger.error("event processed but not marked completed: a redelivery may repeat it", {
              eventId: streamEvent.envelope.id,
              error: saveError as Error,
            }),
        );
      });

      for (const follower of followers) {
        const leaderOutcome = outcomes.get(leaders.get(follower.envelope.id)!.record);
        outcomes.set(follower.record, leaderOutcome ?? null);
        if (leaderOutcome) tally.failed++;
        else tally.duplicates++;
      }

      return processPartialResponse(
        event,
        async (record: KinesisStreamRecord) => {
          const outcome = outcomes.get(record);
          if (outcome === undefined)
            throw new Error(`record ${record.kinesis.sequenceNumber} has no outcome`);
          if (outcome) throw outcome;
        },
        processor,
        // The effects already happened above in stream order; this pass only reports them.
        {
          context,
          processInParallel: false,
          throwOnFullBatchFailure: options.throwOnFullBatchFailure ?? true,
        },
      );
    });
}

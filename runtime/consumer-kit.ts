import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
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
  idempotencyKey,
  recordOwner,
  resolveIdempotency,
  type ClaimOutcome,
  type IdempotencyOptions,
  type ResolvedIdempotency,
} from "./consumer-idempotency";
import { env } from "./env";
import {
  defaultObservability,
  serviceNameFromEnvironment,
  tracer,
  type Observability,
} from "./observability";

export { env, envInteger, InvalidEnvironmentVariableError, MissingEnvironmentVariableError } from "./env";
export { logger, metrics, tracer, traced, type Observability } from "./observability";
export type { IdempotencyOptions, IdempotencyStore } from "./consumer-idempotency";

/**
 * The consumer handler kit: every Kinesis stream handler of the mesh is built with
 * {@link createRecordHandler} (one event at a time) or {@link createBatchHandler} (the whole batch at
 * once, for batch APIs). Both run the same steps over a batch:
 *
 * 1. every record is decoded and validated against the product's contract; failures are reported;
 * 2. an id seen twice in the batch is processed once, and both records share its outcome;
 * 3. the batch's ids are claimed in the idempotency store in one go (`consumer-idempotency.ts`):
 *    ids completed before are skipped, ids another invocation holds are reported (retried later);
 * 4. with per-key order, an event whose partition key has an earlier event that failed is not run
 *    and is reported failed, so that Lambda delivers the key's events again in order;
 * 5. the effects run (`processEvent` per event or `processEvents` once);
 * 6. succeeded ids are marked completed and failed ones released, again in one go;
 * 7. Powertools `processPartialResponse` builds the response from the outcomes, so the failure list
 *    is exactly the failed records, each named by its sequence number.
 *
 * Effects are at most once per event id with one exception, stated in the README: when the effect
 * succeeded but its completion was not recorded (step 6 failed, or the invocation crashed or timed
 * out before it), the id stays in progress until its in-progress expiry (the invocation's remaining
 * time when it was claimed), or until the same record is delivered again (`recordOwner`: its
 * invocation is then over); a delivery after that, by another environment, runs the effect again.
 * Ids not recorded are logged and counted in the `CompletionsNotRecorded` metric; the environment
 * that ran them remembers them and skips them if delivered again.
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
  /**
   * Idempotency store and expiry; `POWERTOOLS_IDEMPOTENCY_DISABLED=true` turns it off (local runs).
   * @default DynamoDB table `IDEMPOTENCY_TABLE`, records kept `IDEMPOTENCY_TTL_SECONDS`
   */
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
   * `false` processes a batch's events one after the other in stream order and keeps per-key order:
   * once an event of a partition key fails, the later events of that key are not run and are
   * reported failed, to be delivered again after it. `true` runs them concurrently, in no order.
   * No default, so every handler states its choice.
   */
  readonly processInParallel: boolean;
  /** Events in flight at once when `processInParallel`. @default 16 */
  readonly concurrency?: number;
  /** The effect of one event; throw to fail its record. Runs at most once per event id. */
  readonly processEvent: (event: StreamEvent, invocation: Invocation) => Promise<void>;
}

export interface BatchHandlerOptions extends StreamHandlerOptions {
  /**
   * `true` when the effects of two events of one partition key must happen in stream order: an
   * event whose claim failed (store error, held by another invocation) then holds back the later
   * events of its key, which are reported failed without reaching `processEvents`; `processEvents`
   * must hold back within its own calls too (see `putInKeyOrder`). No default.
   */
  readonly perKeyOrder: boolean;
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

/** Another invocation holds the event's id; it is reported so that it is retried later. */
export class EventInProgressError extends Error {
  override readonly name = "EventInProgressError";
}

/** An earlier event of the same partition key failed, so this one was not run (per-key order). */
export class HeldBackError extends Error {
  override readonly name = "HeldBackError";
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
  heldBack: number;
  processed: number;
  completionsNotRecorded: number;
}

/** The effect step of a handler: runs the events, returns those that failed. */
type Effect = (events: readonly StreamEvent[], invocation: Invocation) => Promise<Map<StreamEvent, Error>>;

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

function assertKinesisBatch(event: KinesisStreamEvent): void {
  if (!Array.isArray(event?.Records)) throw new UnexpectedEventError("event has no Records array");
  event.Records.forEach((record, index) => {
    // An empty item identifier in the response would fail the whole batch: refuse up front.
    if (typeof record?.kinesis?.sequenceNumber !== "string" || record.kinesis.sequenceNumber === "") {
      throw new UnexpectedEventError(`Records[${index}] has no kinesis.sequenceNumber: not a Kinesis batch`);
    }
  });
}

const keyOf = (event: StreamEvent) => event.record.kinesis.partitionKey;

/**
 * Builds a handler from its effect step: everything but the effect (steps 1-4, 6, 7 of the module
 * comment), with lazily resolved settings (importing a handler module reads no environment
 * variable), logging context, tracing and metrics.
 */
function streamHandler(options: StreamHandlerOptions, perKeyOrder: boolean, effect: Effect): StreamHandler {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  let resolved:
    | {
        logger: Logger;
        metrics: Metrics;
        tracer: Observability["tracer"];
        idempotency: ResolvedIdempotency | undefined;
      }
    | undefined;
  let coldStart = true;

  const resolve = (context: Context) => {
    const observability = { ...defaultObservability, ...options.observability };
    const useOption = options.serviceName !== undefined && !serviceNameFromEnvironment();
    if (useOption) observability.metrics.setDefaultDimensions({ service: options.serviceName! });
    return {
      logger: useOption
        ? observability.logger.createChild({ serviceName: options.serviceName })
        : observability.logger,
      metrics: observability.metrics,
      tracer: options.observability && "tracer" in options.observability ? observability.tracer : tracer(),
      idempotency:
        env("POWERTOOLS_IDEMPOTENCY_DISABLED", "false") === "true"
          ? undefined
          : resolveIdempotency(options.idempotency ?? {}, context.functionName),
    };
  };

  return async (event, context) => {
    assertKinesisBatch(event);
    resolved ??= resolve(context);
    const { logger, metrics, tracer: activeTracer, idempotency } = resolved;
    logger.addContext(context);
    if (coldStart) metrics.captureColdStartMetric();
    coldStart = false;

    const tally: Tally = {
      received: event.Records.length,
      rejected: 0,
      duplicates: 0,
      failed: 0,
      heldBack: 0,
      processed: 0,
      completionsNotRecorded: 0,
    };
    const parent = activeTracer?.getSegment();
    const segment = parent?.addNewSubsegment(`## ${context.functionName}`);
    if (segment) {
      activeTracer!.setSegment(segment);
      activeTracer!.annotateColdStart();
      activeTracer!.addServiceNameAnnotation();
    }
    try {
      const outcomes = await runBatch(
        event,
        context,
        { logger, metrics, lambdaContext: context },
        idempotency,
        tally,
      );
      return await processPartialResponse(
        event,
        async (record: KinesisStreamRecord) => {
          const outcome = outcomes.get(record);
          if (outcome === undefined)
            throw new Error(`record ${record.kinesis.sequenceNumber} has no outcome`);
          if (outcome) throw outcome;
        },
        processor,
        {
          context,
          processInParallel: false,
          throwOnFullBatchFailure: options.throwOnFullBatchFailure ?? true,
        },
      );
    } catch (error) {
      if (segment) activeTracer!.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      segment?.close();
      if (parent) activeTracer!.setSegment(parent);
      if (tally.rejected || tally.failed) logger.warn("batch processed with failures", { ...tally });
      metrics.addMetric("RecordsReceived", MetricUnit.Count, tally.received);
      metrics.addMetric("RecordsRejected", MetricUnit.Count, tally.rejected);
      metrics.addMetric("EventsDuplicate", MetricUnit.Count, tally.duplicates);
      metrics.addMetric("EventsFailed", MetricUnit.Count, tally.failed);
      metrics.addMetric("EventsHeldBack", MetricUnit.Count, tally.heldBack);
      metrics.addMetric("EventsProcessed", MetricUnit.Count, tally.processed);
      metrics.addMetric("CompletionsNotRecorded", MetricUnit.Count, tally.completionsNotRecorded);
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };

  /** Steps 1-6: the outcome of every record, `null` for processed or skipped as a duplicate. */
  async function runBatch(
    event: KinesisStreamEvent,
    context: Context,
    invocation: Invocation,
    idempotency: ResolvedIdempotency | undefined,
    tally: Tally,
  ): Promise<Map<KinesisStreamRecord, Error | null>> {
    const { logger } = invocation;
    const outcomes = new Map<KinesisStreamRecord, Error | null>();
    const fail = (streamEvent: StreamEvent, error: Error) => {
      outcomes.set(streamEvent.record, error);
      tally.failed++;
      if (error instanceof HeldBackError) tally.heldBack++;
      logFailed(logger, streamEvent, error);
    };

    // 1, 2: decode, validate, one leader per id in stream order.
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

    // 3: claim the ids not known to be completed in this environment.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expiresAt = nowSeconds + (idempotency?.expiresAfterSeconds ?? 0);
    const keys = new Map<StreamEvent, string>();
    let claims = new Map<string, ClaimOutcome>();
    if (idempotency) {
      for (const streamEvent of leaders.values())
        keys.set(streamEvent, idempotencyKey(idempotency, streamEvent.envelope.id));
      const unknown = [...keys.values()].filter((key) => !idempotency.completed.has(key, nowSeconds));
      const owners = new Map([...keys].map(([streamEvent, key]) => [key, recordOwner(streamEvent.record)]));
      if (unknown.length) {
        try {
          claims = await idempotency.store.claim(
            unknown,
            Date.now() + context.getRemainingTimeInMillis(),
            expiresAt,
            owners,
          );
        } catch (error) {
          claims = new Map(unknown.map((key) => [key, asError(error)]));
        }
      }
    }

    // 3, 4: outcomes of the claims, in stream order, holding back the keys of failed events.
    const blocked = new Map<string, StreamEvent>();
    const runnable: StreamEvent[] = [];
    const claimed: StreamEvent[] = [];
    for (const streamEvent of leaders.values()) {
      const key = keys.get(streamEvent);
      const claim = key === undefined ? "claimed" : (claims.get(key) ?? "completed");
      if (claim === "completed") {
        outcomes.set(streamEvent.record, null);
        tally.duplicates++;
        if (key !== undefined) idempotency!.completed.add(key, expiresAt);
        continue;
      }
      if (claim === "claimed") claimed.push(streamEvent);
      const blocker = perKeyOrder ? blocked.get(keyOf(streamEvent)) : undefined;
      if (claim !== "claimed") {
        fail(
          streamEvent,
          claim === "in-progress"
            ? new EventInProgressError(
                `event ${streamEvent.envelope.id} is being processed by another invocation; it will be retried`,
              )
            : claim,
        );
      } else if (blocker) {
        fail(streamEvent, heldBack(streamEvent, blocker));
      } else {
        runnable.push(streamEvent);
        continue;
      }
      if (perKeyOrder && !blocked.has(keyOf(streamEvent))) blocked.set(keyOf(streamEvent), streamEvent);
    }

    // 5: the effects.
    let failures: Map<StreamEvent, Error>;
    try {
      failures = runnable.length ? await effect(runnable, invocation) : new Map();
    } catch (error) {
      failures = new Map(runnable.map((streamEvent) => [streamEvent, asError(error)]));
    }
    for (const streamEvent of runnable) {
      const error = failures.get(streamEvent);
      if (error) fail(streamEvent, error);
      else {
        outcomes.set(streamEvent.record, null);
        tally.processed++;
      }
    }

    // 6: settle the claims.
    if (idempotency && claimed.length) {
      const done = claimed
        .filter((streamEvent) => outcomes.get(streamEvent.record) === null)
        .map((e) => keys.get(e)!);
      const given = claimed
        .filter((streamEvent) => outcomes.get(streamEvent.record))
        .map((e) => keys.get(e)!);
      const [notRecorded, notReleased] = await Promise.all([
        settle(() => idempotency.store.complete(done, expiresAt), done),
        settle(() => idempotency.store.release(given), given),
      ]);
      // Not-recorded ones too: their effect happened, so this environment skips them if delivered again.
      for (const key of done) idempotency.completed.add(key, expiresAt);
      if (notRecorded.size) {
        tally.completionsNotRecorded += notRecorded.size;
        logger.error(
          "events processed but not marked completed: a delivery after their in-progress expiry repeats them",
          {
            keys: [...notRecorded.keys()],
            error: [...notRecorded.values()][0],
          },
        );
      }
      if (notReleased.size) {
        // The claims then lapse at their in-progress expiry; retries before that are reported again.
        logger.warn("could not release the idempotency records of failed events", {
          keys: [...notReleased.keys()],
          error: [...notReleased.values()][0],
        });
      }
    }

    for (const follower of followers) {
      const leaderOutcome = outcomes.get(leaders.get(follower.envelope.id)!.record);
      outcomes.set(follower.record, leaderOutcome ?? null);
      if (leaderOutcome) tally.failed++;
      else tally.duplicates++;
    }
    return outcomes;
  }
}

async function settle(
  write: () => Promise<Map<string, Error>>,
  keys: readonly string[],
): Promise<Map<string, Error>> {
  if (!keys.length) return new Map();
  try {
    return await write();
  } catch (error) {
    return new Map(keys.map((key) => [key, asError(error)]));
  }
}

function heldBack(streamEvent: StreamEvent, blocker: StreamEvent): HeldBackError {
  return new HeldBackError(
    `event ${streamEvent.envelope.id} not processed: event ${blocker.envelope.id} of partition key ${keyOf(blocker)}, earlier in the stream, failed and must take effect first`,
  );
}

/**
 * A handler that processes one event at a time. A record that does not decode or validate, or whose
 * `processEvent` throws, is reported in `batchItemFailures`; with `processInParallel: false`, so are
 * the later events of a partition key after one of its events failed (they are not run).
 */
export function createRecordHandler(options: RecordHandlerOptions): StreamHandler {
  const ordered = !options.processInParallel;
  return streamHandler(options, ordered, async (events, invocation) => {
    const failures = new Map<StreamEvent, Error>();
    const run = async (streamEvent: StreamEvent) => {
      try {
        await options.processEvent(streamEvent, invocation);
      } catch (error) {
        failures.set(streamEvent, asError(error));
      }
    };
    if (!ordered) {
      await forEachWithConcurrency(events, options.concurrency ?? 16, run);
      return failures;
    }
    const blocked = new Map<string, StreamEvent>();
    for (const streamEvent of events) {
      const blocker = blocked.get(keyOf(streamEvent));
      if (blocker) {
        failures.set(streamEvent, heldBack(streamEvent, blocker));
        continue;
      }
      await run(streamEvent);
      if (failures.has(streamEvent)) blocked.set(keyOf(streamEvent), streamEvent);
    }
    return failures;
  });
}

/**
 * A handler that processes the whole batch in one step, for APIs that take many events per call:
 * `processEvents` gets the claimed events in stream order and returns the ones that failed.
 */
export function createBatchHandler(options: BatchHandlerOptions): StreamHandler {
  return streamHandler(options, options.perKeyOrder, async (events, invocation) => {
    const given = new Set(events);
    const failures = new Map<StreamEvent, Error>();
    for (const failure of await options.processEvents(events, invocation)) {
      if (!given.has(failure.event)) {
        throw new UnknownEventFailureError(
          `processEvents reported a failure for event ${failure.event.envelope.id}, which it was not given`,
        );
      }
      if (!failures.has(failure.event)) failures.set(failure.event, asError(failure.error));
    }
    return failures;
  });
}

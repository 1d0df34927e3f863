import { PutEventsCommand, type PersonalizeEventsClient } from "@aws-sdk/client-personalize-events";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  createBatchHandler,
  env,
  forEachWithConcurrency,
  HeldBackError,
  type EventFailure,
  type StreamEvent,
  type IdempotencyOptions,
  type Observability,
  type StreamHandler,
} from "../../../runtime/consumer-kit";
import { serviceLength } from "../../../platform/contract";
import { chunkByLimits, groupBy } from "../../../runtime/batching";
import type { BackoffOptions } from "../../../runtime/retry";
import { interactionEvents } from "../../interactions/contract";
import {
  PersonalizeLimits,
  PersonalizeLimitError,
  personalizeEvents,
  sendInCalls,
  toPutEventsEntry,
  type PutEventsEntry,
} from "./personalize";

export interface InteractionsUpdateOptions {
  /** @default the module's Personalize Events client */
  readonly client?: PersonalizeEventsClient;
  /** The event tracker's id. @default `PERSONALIZE_TRACKING_ID` */
  readonly trackingId?: string;
  /** Backoff of throttled calls. @default runtime/retry.ts defaults */
  readonly retry?: BackoffOptions;
  /** user+session groups sent at once. @default 16 */
  readonly concurrency?: number;
  readonly idempotency?: IdempotencyOptions;
  readonly observability?: Partial<Observability>;
}

/**
 * interactions-update: keeps Personalize's interactions current through the event tracker.
 *
 * A batch is one step (`createBatchHandler`): PutEvents takes up to ten events of one user and
 * session, so each user's events are cut into runs of one session and sent in calls of at most
 * ten, one call after the other in stream order; users go out concurrently. Duplicates are skipped
 * by envelope id before any call.
 */
export function createInteractionsUpdateHandler(options: InteractionsUpdateOptions = {}): StreamHandler {
  const client = options.client ?? personalizeEvents;
  return createBatchHandler({
    contract: interactionEvents,
    serviceName: "interactions-update",
    // Per user (the partition key), events reach Personalize in stream order.
    perKeyOrder: true,
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.observability ? { observability: options.observability } : {}),
    async processEvents(events, { metrics }) {
      const trackingId = options.trackingId ?? env("PERSONALIZE_TRACKING_ID");
      if (serviceLength(trackingId) > PersonalizeLimits.idLength) {
        throw new PersonalizeLimitError(`trackingId is longer than ${PersonalizeLimits.idLength} characters`);
      }
      const failures: EventFailure[] = [];
      const entries: PutEventsEntry[] = [];
      let skipped = 0;
      for (const event of events) {
        try {
          const entry = toPutEventsEntry(event);
          if (entry) entries.push(entry);
          else skipped++;
        } catch (error) {
          failures.push({ event, error: error as Error });
        }
      }
      // Per user, in stream order: a user's calls go one after the other, so Personalize receives
      // each user's events in the order they happened (found by npm run local: with the calls of
      // two sessions of one user in flight at once, the later session's events could arrive first).
      // Users go out concurrently. Once a call of a user fails, that user's later events are not
      // sent and fail too (held back), so that they are delivered again after it.
      const calls = { count: 0 };
      await forEachWithConcurrency(
        groupBy(entries, (entry) => entry.userId).values(),
        options.concurrency ?? 16,
        async (ofUser) => {
          let blocker: StreamEvent | undefined;
          for (const run of sessionRuns(ofUser)) {
            for (const chunk of chunkByLimits(run, () => 0, { maxCount: PersonalizeLimits.eventsPerCall })) {
              if (blocker) {
                const first = blocker;
                failures.push(...chunk.map(({ event }) => ({ event, error: heldBack(event, first) })));
                continue;
              }
              const { userId, sessionId } = chunk[0]!;
              const failed = await sendInCalls(
                chunk,
                (batch) =>
                  client.send(
                    new PutEventsCommand({
                      trackingId,
                      userId,
                      sessionId,
                      eventList: batch.map((entry) => entry.personalizeEvent),
                    }),
                  ),
                { operation: "PutEvents", calls, ...(options.retry ? { retry: options.retry } : {}) },
              );
              failures.push(...failed.map(({ entry, error }) => ({ event: entry.event, error })));
              if (failed.length) blocker = failed[0]!.entry.event;
            }
          }
        },
      );
      metrics.addMetric("PersonalizeCalls", MetricUnit.Count, calls.count);
      metrics.addMetric("EventsSkipped", MetricUnit.Count, skipped);
      return failures;
    },
  });
}

export const handler = createInteractionsUpdateHandler();

/** A user's entries cut into runs of one session, in stream order: one PutEvents call names one session. */
function sessionRuns(entries: readonly PutEventsEntry[]): PutEventsEntry[][] {
  const runs: PutEventsEntry[][] = [];
  for (const entry of entries) {
    const run = runs[runs.length - 1];
    if (run && run[0]!.sessionId === entry.sessionId) run.push(entry);
    else runs.push([entry]);
  }
  return runs;
}

function heldBack(event: StreamEvent, blocker: StreamEvent): HeldBackError {
  return new HeldBackError(
    `event ${event.envelope.id} not sent: event ${blocker.envelope.id} of the same user, earlier in the stream, failed and must reach Personalize first`,
  );
}

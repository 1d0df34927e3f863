import { PutEventsCommand, type PersonalizeEventsClient } from "@aws-sdk/client-personalize-events";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  createBatchHandler,
  env,
  forEachWithConcurrency,
  type EventFailure,
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
 * session, so events are grouped by userId+sessionId and sent in calls of at most ten, in stream
 * order within a group. Groups go out concurrently: events carry their own `sentAt`, so nothing
 * depends on the order between users. Duplicates are skipped by envelope id before any call.
 */
export function createInteractionsUpdateHandler(options: InteractionsUpdateOptions = {}): StreamHandler {
  const client = options.client ?? personalizeEvents;
  return createBatchHandler({
    contract: interactionEvents,
    serviceName: "interactions-update",
    // Events carry their own sentAt: nothing depends on the order in which they reach Personalize.
    perKeyOrder: false,
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
      // JSON keeps "a|b" + "c" apart from "a" + "b|c".
      const groups = groupBy(entries, (entry) => JSON.stringify([entry.userId, entry.sessionId]));
      const calls = { count: 0 };
      await forEachWithConcurrency(groups.values(), options.concurrency ?? 16, async (group) => {
        for (const chunk of chunkByLimits(group, () => 0, { maxCount: PersonalizeLimits.eventsPerCall })) {
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
        }
      });
      metrics.addMetric("PersonalizeCalls", MetricUnit.Count, calls.count);
      metrics.addMetric("EventsSkipped", MetricUnit.Count, skipped);
      return failures;
    },
  });
}

export const handler = createInteractionsUpdateHandler();

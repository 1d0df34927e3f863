import { PutItemsCommand, type PersonalizeEventsClient } from "@aws-sdk/client-personalize-events";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  createBatchHandler,
  env,
  type EventFailure,
  type IdempotencyOptions,
  type Observability,
  type StreamHandler,
} from "../../../runtime/consumer-kit";
import type { BackoffOptions } from "../../../runtime/retry";
import { episodeEvents } from "../../podcasts/contract";
import { songEvents } from "../../songs/contract";
import { PersonalizeLimits, personalizeEvents, putInKeyOrder, toItem, type KeyedEntry } from "./personalize";
import type { Item } from "@aws-sdk/client-personalize-events";

export interface ItemsUpdateOptions {
  /** @default the module's Personalize Events client */
  readonly client?: PersonalizeEventsClient;
  /** The Items dataset. @default `PERSONALIZE_ITEMS_DATASET_ARN` */
  readonly datasetArn?: string;
  /** Backoff of throttled calls. @default runtime/retry.ts defaults */
  readonly retry?: BackoffOptions;
  readonly idempotency?: IdempotencyOptions;
  readonly observability?: Partial<Observability>;
}

/**
 * items-update (subscriptions songs-update and podcasts-update): keeps the Items dataset of the
 * merged catalogue current with PutItems. One function serves both streams; the contract of each
 * event is chosen by its type (`song.*` or `episode.*`), so no per-subscription setting is needed.
 *
 * Order matters per item (the last write wins), so PutItems calls go one after the other in stream
 * order, never with two writes of one item in a call, and a write that fails holds back the later
 * writes of its item (see `putInKeyOrder`).
 */
export function createItemsUpdateHandler(options: ItemsUpdateOptions = {}): StreamHandler {
  const client = options.client ?? personalizeEvents;
  return createBatchHandler({
    contract: [songEvents, episodeEvents],
    serviceName: "items-update",
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.observability ? { observability: options.observability } : {}),
    async processEvents(events, { metrics }) {
      const datasetArn = options.datasetArn ?? env("PERSONALIZE_ITEMS_DATASET_ARN");
      const failures: EventFailure[] = [];
      const entries: KeyedEntry<Item>[] = [];
      let skipped = 0;
      for (const event of events) {
        try {
          const entry = toItem(event);
          if (entry) entries.push(entry);
          else skipped++;
        } catch (error) {
          failures.push({ event, error: error as Error });
        }
      }
      const calls = { count: 0 };
      failures.push(
        ...(await putInKeyOrder(
          entries,
          PersonalizeLimits.itemsPerCall,
          (items) => client.send(new PutItemsCommand({ datasetArn, items: [...items] })),
          { operation: "PutItems", calls, ...(options.retry ? { retry: options.retry } : {}) },
        )),
      );
      metrics.addMetric("PersonalizeCalls", MetricUnit.Count, calls.count);
      metrics.addMetric("EventsSkipped", MetricUnit.Count, skipped);
      return failures;
    },
  });
}

export const handler = createItemsUpdateHandler();

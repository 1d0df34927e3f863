import type { PersonalizeEventsClient } from "@aws-sdk/client-personalize-events";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  createBatchHandler,
  env,
  type EventFailure,
  type IdempotencyOptions,
  type Observability,
  type StreamEvent,
  type StreamHandler,
} from "../../../runtime/consumer-kit";
import type { Contract } from "../../../platform/contract";
import type { BackoffOptions } from "../../../runtime/retry";
import { personalizeEvents, putInKeyOrder, type KeyedEntry } from "./personalize";

export interface CatalogueWriterOptions {
  /** @default the module's Personalize Events client */
  readonly client?: PersonalizeEventsClient;
  /** The dataset written to. @default the handler's dataset environment variable */
  readonly datasetArn?: string;
  /** Backoff of throttled calls. @default runtime/retry.ts defaults */
  readonly retry?: BackoffOptions;
  readonly idempotency?: IdempotencyOptions;
  readonly observability?: Partial<Observability>;
}

/** What differs between the Items and Users writers. */
export interface CatalogueWriter<T> {
  readonly contract: Contract | readonly Contract[];
  readonly serviceName: string;
  /** Environment variable holding the dataset ARN. */
  readonly datasetVariable: string;
  readonly operation: string;
  readonly perCall: number;
  /** The record to write for an event; undefined when the event carries too little to write one. */
  toEntry(event: StreamEvent): KeyedEntry<T> | undefined;
  send(client: PersonalizeEventsClient, datasetArn: string, records: readonly T[]): Promise<unknown>;
}

/**
 * A handler keeping a Personalize catalogue dataset (Items, Users) current. Order matters per key
 * (the last write wins), so calls go one after the other in stream order, never with two writes
 * of one key in a call, and a write that fails holds back the later writes of its key
 * (`putInKeyOrder`). Events too partial to form a whole record are skipped and counted in the
 * `EventsSkipped` metric: PutItems/PutUsers replace the whole record, so sending a partial update
 * would blank the columns it does not carry; the nightly bulk import brings those changes.
 */
export function createCatalogueWriter<T>(
  writer: CatalogueWriter<T>,
  options: CatalogueWriterOptions = {},
): StreamHandler {
  const client = options.client ?? personalizeEvents;
  return createBatchHandler({
    contract: writer.contract,
    serviceName: writer.serviceName,
    perKeyOrder: true,
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.observability ? { observability: options.observability } : {}),
    async processEvents(events, { metrics }) {
      const datasetArn = options.datasetArn ?? env(writer.datasetVariable);
      const failures: EventFailure[] = [];
      const entries: KeyedEntry<T>[] = [];
      let skipped = 0;
      for (const event of events) {
        try {
          const entry = writer.toEntry(event);
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
          writer.perCall,
          (records) => writer.send(client, datasetArn, records),
          { operation: writer.operation, calls, ...(options.retry ? { retry: options.retry } : {}) },
        )),
      );
      metrics.addMetric("PersonalizeCalls", MetricUnit.Count, calls.count);
      metrics.addMetric("EventsSkipped", MetricUnit.Count, skipped);
      return failures;
    },
  });
}

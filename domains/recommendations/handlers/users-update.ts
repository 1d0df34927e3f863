import { PutUsersCommand, type PersonalizeEventsClient, type User } from "@aws-sdk/client-personalize-events";
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
import { userEvents } from "../../users/contract";
import { PersonalizeLimits, personalizeEvents, putInKeyOrder, toUser, type KeyedEntry } from "./personalize";

export interface UsersUpdateOptions {
  /** @default the module's Personalize Events client */
  readonly client?: PersonalizeEventsClient;
  /** The Users dataset. @default `PERSONALIZE_USERS_DATASET_ARN` */
  readonly datasetArn?: string;
  /** Backoff of throttled calls. @default runtime/retry.ts defaults */
  readonly retry?: BackoffOptions;
  readonly idempotency?: IdempotencyOptions;
  readonly observability?: Partial<Observability>;
}

/**
 * users-update: keeps the Users dataset current with PutUsers.
 *
 * Order matters per user (the last write wins), so PutUsers calls go one after the other in stream
 * order, never with two writes of one user in a call, and a write that fails holds back the later
 * writes of its user (see `putInKeyOrder`).
 */
export function createUsersUpdateHandler(options: UsersUpdateOptions = {}): StreamHandler {
  const client = options.client ?? personalizeEvents;
  return createBatchHandler({
    contract: userEvents,
    serviceName: "users-update",
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.observability ? { observability: options.observability } : {}),
    async processEvents(events, { metrics }) {
      const datasetArn = options.datasetArn ?? env("PERSONALIZE_USERS_DATASET_ARN");
      const failures: EventFailure[] = [];
      const entries: KeyedEntry<User>[] = [];
      let skipped = 0;
      for (const event of events) {
        try {
          const entry = toUser(event);
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
          PersonalizeLimits.usersPerCall,
          (users) => client.send(new PutUsersCommand({ datasetArn, users: [...users] })),
          { operation: "PutUsers", calls, ...(options.retry ? { retry: options.retry } : {}) },
        )),
      );
      metrics.addMetric("PersonalizeCalls", MetricUnit.Count, calls.count);
      metrics.addMetric("EventsSkipped", MetricUnit.Count, skipped);
      return failures;
    },
  });
}

export const handler = createUsersUpdateHandler();

import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import { MetricUnit, type Metrics } from "@aws-lambda-powertools/metrics";
import {
  createBatchHandler,
  env,
  forEachWithConcurrency,
  traced,
  type IdempotencyOptions,
  type Observability,
  type StreamHandler,
} from "../../../runtime/consumer-kit";
import type { Envelope } from "../../../platform/contract";
import { chunkByLimits } from "../../../runtime/batching";
import { interactionEvents } from "../../interactions/contract";

/** API Gateway WebSocket message payloads are at most 128 KiB. */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/** What a subscriber receives: the events of one batch (several messages when they exceed 128 KiB). */
export interface LiveFeedMessage {
  readonly events: readonly Envelope[];
}

export interface LiveFeedOptions {
  /** @default a client on `WEBSOCKET_ENDPOINT`, created on the first invocation */
  readonly managementApi?: ApiGatewayManagementApiClient;
  /** @default the module's DynamoDB document client */
  readonly documents?: DynamoDBDocumentClient;
  /** @default `CONNECTIONS_TABLE` */
  readonly connectionsTable?: string;
  /** Connections posted to at once. @default 50 */
  readonly concurrency?: number;
  readonly idempotency?: IdempotencyOptions;
  readonly observability?: Partial<Observability>;
}

const documentsClient = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})));
let managementApiClient: ApiGatewayManagementApiClient | undefined;

/**
 * live-feed (Analytics, push-without-replay): pushes every interaction to the dashboards connected
 * to the live feed's WebSocket API, as `{ "events": [...] }` messages, one batch at a time.
 *
 * Delivery is at most once, by design. A subscriber receives an event only if it is connected when
 * the event's batch is pushed; a failed post is logged and counted (`PostsFailed`) but never fails
 * the batch, so nothing is retried for the subscribers and they cannot replay. A subscriber that is
 * gone (410) is removed from the connections table. Only records that fail the contract are reported
 * as failures (the kit's doing), so they reach the mapping's failure destination like everywhere
 * else; the kit's idempotency keeps the events the mapping delivers again after such a failure from
 * being pushed twice.
 */
export function createLiveFeed(options: LiveFeedOptions = {}): StreamHandler {
  const documents = options.documents ?? documentsClient;
  const concurrency = options.concurrency ?? 50;
  return createBatchHandler({
    contract: interactionEvents,
    serviceName: "live-feed",
    perKeyOrder: false,
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.observability ? { observability: options.observability } : {}),
    async processEvents(events, { logger, metrics }) {
      const managementApi = options.managementApi ?? (managementApiClient ??= createManagementApi());
      const table = options.connectionsTable ?? env("CONNECTIONS_TABLE");
      const messages = toMessages(
        events.map((event) => event.envelope),
        logger,
      );
      const tally = { delivered: 0, failed: 0, gone: 0, connections: 0 };
      if (!messages.length) return [];
      try {
        for await (const page of paginateScan(
          { client: documents },
          {
            TableName: table,
            ProjectionExpression: "connectionId",
            // Expired items linger until DynamoDB's TTL sweep; their connections are closed anyway.
            FilterExpression: "attribute_not_exists(#ttl) OR #ttl > :now",
            ExpressionAttributeNames: { "#ttl": "ttl" },
            ExpressionAttributeValues: { ":now": Math.floor(Date.now() / 1000) },
          },
        )) {
          const connectionIds = (page.Items ?? []).map((item) => String(item.connectionId));
          tally.connections += connectionIds.length;
          await forEachWithConcurrency(connectionIds, concurrency, (connectionId) =>
            push(connectionId, messages, { managementApi, documents, table, logger, tally }),
          );
        }
      } catch (error) {
        // Not a reason to fail the batch either: without replay a retry would only push stale events.
        logger.error("could not list the live feed's connections; the batch's remaining pushes are dropped", {
          error: error as Error,
        });
        metrics.addMetric("ConnectionScanFailed", MetricUnit.Count, 1);
      }
      report(metrics, tally);
      return [];
    },
  });
}

interface PushContext {
  readonly managementApi: ApiGatewayManagementApiClient;
  readonly documents: DynamoDBDocumentClient;
  readonly table: string;
  readonly logger: Logger;
  readonly tally: { delivered: number; failed: number; gone: number };
}

async function push(
  connectionId: string,
  messages: readonly Uint8Array[],
  context: PushContext,
): Promise<void> {
  const { managementApi, documents, table, logger, tally } = context;
  for (const data of messages) {
    try {
      await managementApi.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      tally.delivered++;
    } catch (error) {
      if (error instanceof GoneException || (error as { name?: string }).name === "GoneException") {
        tally.gone++;
        await documents
          .send(new DeleteCommand({ TableName: table, Key: { connectionId } }))
          .catch((deleteError: unknown) =>
            logger.warn("could not delete a gone connection", { connectionId, error: deleteError as Error }),
          );
        return;
      }
      tally.failed++;
      logger.warn("could not post to a connection; its messages are dropped", {
        connectionId,
        error: error as Error,
      });
      return;
    }
  }
}

/** The batch's events as messages of at most 128 KiB each, in stream order. */
export function toMessages(envelopes: readonly Envelope[], logger?: Logger): Uint8Array[] {
  // `{"events":[` + `]}` around the events, one comma between two.
  const overhead = Buffer.byteLength(JSON.stringify({ events: [] }));
  const sized = envelopes.flatMap((envelope) => {
    const bytes = Buffer.byteLength(JSON.stringify(envelope)) + 1;
    if (bytes + overhead <= MAX_MESSAGE_BYTES) return [{ envelope, bytes }];
    logger?.warn("event too large for a WebSocket message; not pushed", { eventId: envelope.id, bytes });
    return [];
  });
  return chunkByLimits(sized, (entry) => entry.bytes, {
    maxCount: Number.MAX_SAFE_INTEGER,
    maxBytes: MAX_MESSAGE_BYTES - overhead,
  }).map((chunk) =>
    Buffer.from(JSON.stringify({ events: chunk.map((entry) => entry.envelope) } satisfies LiveFeedMessage)),
  );
}

function createManagementApi(): ApiGatewayManagementApiClient {
  // https://{api-id}.execute-api.{region}.amazonaws.com/{stage}
  return traced(new ApiGatewayManagementApiClient({ endpoint: env("WEBSOCKET_ENDPOINT") }));
}

function report(
  metrics: Metrics,
  tally: { delivered: number; failed: number; gone: number; connections: number },
) {
  metrics.addMetric("Connections", MetricUnit.Count, tally.connections);
  metrics.addMetric("PostsDelivered", MetricUnit.Count, tally.delivered);
  metrics.addMetric("PostsFailed", MetricUnit.Count, tally.failed);
  metrics.addMetric("ConnectionsGone", MetricUnit.Count, tally.gone);
}

export const handler = createLiveFeed();

import { FirehoseClient, PutRecordBatchCommand } from "@aws-sdk/client-firehose";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  createBatchHandler,
  env,
  traced,
  type EventFailure,
  type IdempotencyOptions,
  type Observability,
  type StreamEvent,
  type StreamHandler,
} from "../../../runtime/consumer-kit";
import { chunkByLimits } from "../../../runtime/batching";
import { sendWithRetries, type BackoffOptions, type PartialResult } from "../../../runtime/retry";
import { interactionEvents } from "../../interactions/contract";

/** PutRecordBatch limits (docs/aws-facts.md#firehose-and-personalize). */
export const FirehoseLimits = {
  recordsPerCall: 500,
  bytesPerCall: 4 * 1024 * 1024,
  bytesPerRecord: 1000 * 1024,
} as const;

/** One interaction as indexed in OpenSearch: the envelope's fields and the payload's, side by side. */
export interface InteractionDocument {
  readonly eventId: string;
  readonly type: string;
  readonly source: string;
  readonly time: string;
  readonly dataversion: number;
  readonly userId: string;
  readonly itemId: string;
  readonly itemType: string;
  readonly sessionId: string;
  readonly occurredAt: string;
  readonly device?: string;
  readonly playedMs?: number;
  readonly positionMs?: number;
  readonly [field: string]: unknown;
}

/** Firehose refused one entry of a PutRecordBatch call. */
export class FirehoseEntryError extends Error {
  override readonly name = "FirehoseEntryError";
  constructor(
    readonly errorCode: string,
    message: string | undefined,
  ) {
    super(`Firehose refused the record: ${errorCode}${message ? `: ${message}` : ""}`);
  }
}

/** The document is larger than one Firehose record may be; resending cannot help. */
export class OversizedDocumentError extends Error {
  override readonly name = "OversizedDocumentError";
}

export interface InteractionsIngestorOptions {
  /** @default the module's Firehose client */
  readonly client?: FirehoseClient;
  /** @default `DELIVERY_STREAM` */
  readonly deliveryStreamName?: string;
  /** Attempts and backoff of the entries Firehose refuses. @default runtime/retry.ts defaults (5 attempts) */
  readonly retry?: BackoffOptions;
  readonly idempotency?: IdempotencyOptions;
  readonly observability?: Partial<Observability>;
}

const firehose = traced(new FirehoseClient({}));

/**
 * interactions-ingestor (Analytics, filtered subscription): writes each interaction the event
 * source mapping's filter let through (plays of 30 s or more, likes, follows) to the Firehose
 * delivery stream that indexes them in OpenSearch, one JSON document per record.
 *
 * - Every record is decoded and validated by the kit; one that fails its contract is reported
 *   alone and reaches the mapping's failure destination.
 * - Documents go out with PutRecordBatch in calls of at most 500 records and 4 MiB (records of at
 *   most 1,000 KiB); entries Firehose refuses (`FailedPutCount`, per-entry `ErrorCode`) are resent
 *   alone with backoff, and those still refused after the last attempt are reported as failures of
 *   exactly their Kinesis records.
 * - Duplicates are dropped by the kit's idempotency on the envelope id. It is needed: Firehose
 *   delivers at least once and the OpenSearch destination lets Firehose choose each document's
 *   `_id`, so a resent event would be indexed twice rather than overwrite itself.
 */
export function createInteractionsIngestor(options: InteractionsIngestorOptions = {}): StreamHandler {
  const client = options.client ?? firehose;
  return createBatchHandler({
    contract: interactionEvents,
    serviceName: "interactions-ingestor",
    perKeyOrder: false,
    ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    ...(options.observability ? { observability: options.observability } : {}),
    async processEvents(events, { metrics }) {
      const deliveryStreamName = options.deliveryStreamName ?? env("DELIVERY_STREAM");
      const failures: EventFailure[] = [];
      const entries: { event: StreamEvent; data: Uint8Array }[] = [];
      for (const event of events) {
        const data = Buffer.from(toJsonLine(toDocument(event)), "utf8");
        if (data.byteLength > FirehoseLimits.bytesPerRecord) {
          failures.push({
            event,
            error: new OversizedDocumentError(
              `event ${event.envelope.id}: document is ${data.byteLength} bytes, more than the ${FirehoseLimits.bytesPerRecord} a Firehose record may be`,
            ),
          });
        } else {
          entries.push({ event, data });
        }
      }

      let calls = 0;
      const batches = chunkByLimits(entries, (entry) => entry.data.byteLength, {
        maxCount: FirehoseLimits.recordsPerCall,
        maxBytes: FirehoseLimits.bytesPerCall,
      });
      for (const batch of batches) {
        const result = await sendWithRetries<(typeof entries)[number], Error>(
          batch,
          async (pending): Promise<PartialResult<Error>> => {
            const output = await client.send(
              new PutRecordBatchCommand({
                DeliveryStreamName: deliveryStreamName,
                Records: pending.map((entry) => ({ Data: entry.data })),
              }),
            );
            return { failed: refusedEntries(output.FailedPutCount, output.RequestResponses, pending.length) };
          },
          options.retry,
        );
        calls += result.calls;
        for (const { entry, error } of result.unsent) failures.push({ event: entry.event, error });
      }
      metrics.addMetric("FirehoseCalls", MetricUnit.Count, calls);
      metrics.addMetric("DocumentsDelivered", MetricUnit.Count, events.length - failures.length);
      return failures;
    },
  });
}

/** The indexes Firehose refused, with their errors; every entry when it says some failed but not which. */
function refusedEntries(
  failedPutCount: number | undefined,
  responses: readonly { ErrorCode?: string; ErrorMessage?: string }[] | undefined,
  sent: number,
): { index: number; error: Error }[] {
  if (!failedPutCount) return [];
  if (!responses || responses.length !== sent) {
    const error = new FirehoseEntryError(
      "UnknownEntry",
      `${failedPutCount} records failed without per-entry results`,
    );
    return Array.from({ length: sent }, (_, index) => ({ index, error }));
  }
  return responses.flatMap((response, index) =>
    response.ErrorCode
      ? [{ index, error: new FirehoseEntryError(response.ErrorCode, response.ErrorMessage) }]
      : [],
  );
}

/**
 * The OpenSearch document of an interaction: envelope fields (the id as `eventId`) and the payload's
 * fields at the top level. Payload fields come first so that a payload field can never shadow an
 * envelope field; later contract versions' fields flow through unchanged.
 */
export function toDocument(event: StreamEvent): InteractionDocument {
  const { id, type, source, time, dataversion, data } = event.envelope;
  return { ...data, eventId: id, type, source, time, dataversion } as InteractionDocument;
}

/**
 * One document per line: OpenSearch indexes each Firehose record as one document, and the
 * newline keeps the S3 backup (failed or all documents) readable as JSON Lines.
 */
export function toJsonLine(document: InteractionDocument): string {
  return `${JSON.stringify(document)}\n`;
}

export const handler = createInteractionsIngestor();

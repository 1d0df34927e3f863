import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { z } from "zod";
import type { Envelope } from "../platform/contract";
import type { DomainDeclaration } from "../platform/declarations";
import { env } from "./env";
import { defaultObservability, type Observability } from "./observability";
import { OUTBOX_KIND } from "../platform/outbox";
import { outboxEventsSchema, outboxItemSchema } from "./outbox";
import { Publisher } from "./publisher";

/**
 * The outbox relay: a Lambda function on the service table's DynamoDB stream that publishes every
 * event of every outbox item (`runtime/outbox.ts`) to its product's Kinesis stream through the
 * Publisher (contract validation, envelope, batched PutRecords, resend of failed entries).
 *
 * - Ids: each event is published with the envelope the service wrote, id and time included, so a
 *   redelivered record publishes the same events with the same ids and consumers (idempotent on
 *   the envelope id) apply them once.
 * - Order per key: events are published in rounds, at most one event per product and partition
 *   key in a round, the next round only after the previous one was written; when an event fails,
 *   the later events of its key in the batch are not published, and their records are reported
 *   failed with it. PutRecords does not order the records of one call, hence the rounds.
 * - Failures: a record whose events are not all published is reported in `batchItemFailures`
 *   (Powertools `BatchProcessor`, DynamoDB Streams); the mapping retries from the first failed
 *   record, bisects, and after its bounded retries keeps the record in the S3 failure destination.
 *   A record that is not an outbox item (a business item's change, a TTL deletion) is skipped; an
 *   outbox item that does not parse fails, so it reaches the failure destination, never silently
 *   dropped.
 */

export interface OutboxRelayOptions<P extends string> {
  /** The domain's publisher, or a function creating it on the first invocation (reads environment). */
  readonly publisher: Publisher<P> | (() => Publisher<P>);
  /** @default the module-scope singletons of `runtime/observability.ts` */
  readonly observability?: Partial<Observability>;
}

export type OutboxRelayHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse>;

/** The invocation is not a DynamoDB stream batch. */
export class UnexpectedStreamEventError extends Error {
  override readonly name = "UnexpectedStreamEventError";
}

/** A stream record holds an outbox item that does not parse: its key, sequence number and the problem. */
export class MalformedOutboxItemError extends Error {
  override readonly name = "MalformedOutboxItemError";
}

/** The event was not published because an earlier event of the same key failed in this batch. */
export class BlockedByEarlierFailureError extends Error {
  override readonly name = "BlockedByEarlierFailureError";
}

/** The Publisher could not write the event after its attempts. */
export class EventNotPublishedError extends Error {
  override readonly name = "EventNotPublishedError";
}

interface RoundItem {
  readonly key: string;
  readonly entry: Entry;
}

interface Entry {
  readonly record: DynamoDBRecord;
  readonly product: string;
  readonly envelope: Envelope;
}

/** The outbox events of one stream record, in order; `undefined` for a record that is not an outbox item. */
export function outboxEntries(
  record: DynamoDBRecord,
): { product: string; envelopes: Envelope[] } | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName === "REMOVE" || !image || image.kind?.S !== OUTBOX_KIND) return undefined;
  const where = `record ${record.dynamodb?.SequenceNumber} (outbox item ${image.pk?.S ?? "without pk"})`;
  const item = outboxItemSchema.safeParse(unmarshall(image as Record<string, AttributeValue>));
  if (!item.success) {
    throw new MalformedOutboxItemError(`${where}: not an outbox item: ${z.prettifyError(item.error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(item.data.events);
  } catch (error) {
    throw new MalformedOutboxItemError(`${where}: events is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const envelopes = outboxEventsSchema.safeParse(parsed);
  if (!envelopes.success) {
    throw new MalformedOutboxItemError(
      `${where}: events are not envelopes: ${z.prettifyError(envelopes.error)}`,
    );
  }
  return { product: item.data.product, envelopes: envelopes.data };
}

function assertStreamBatch(event: DynamoDBStreamEvent): void {
  if (!Array.isArray(event?.Records)) throw new UnexpectedStreamEventError("event has no Records array");
  event.Records.forEach((record, index) => {
    // An empty item identifier in the response would fail the whole batch: refuse up front.
    const sequenceNumber = record?.dynamodb?.SequenceNumber;
    if (typeof sequenceNumber !== "string" || sequenceNumber === "") {
      throw new UnexpectedStreamEventError(
        `Records[${index}] has no dynamodb.SequenceNumber: not a DynamoDB stream batch`,
      );
    }
  });
}

/** Builds the relay handler around a publisher. */
export function createOutboxRelay<P extends string>(options: OutboxRelayOptions<P>): OutboxRelayHandler {
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const { logger, metrics } = { ...defaultObservability, ...options.observability };
  let publisher: Publisher<P> | undefined;

  return async (event, context) => {
    assertStreamBatch(event);
    publisher ??= typeof options.publisher === "function" ? options.publisher() : options.publisher;
    logger.addContext(context);
    const outcomes = new Map<DynamoDBRecord, Error | null>();
    const fail = (record: DynamoDBRecord, error: Error) => {
      if (!outcomes.get(record)) outcomes.set(record, error);
    };
    const tally = { skipped: 0, rejected: 0, published: 0, failed: 0, blocked: 0 };

    // Each key's events in stream order: records of one item arrive in the order of its writes.
    const queues = new Map<string, Entry[]>();
    for (const record of event.Records) {
      outcomes.set(record, null);
      let entries: ReturnType<typeof outboxEntries>;
      try {
        entries = outboxEntries(record);
      } catch (error) {
        tally.rejected++;
        logger.error("outbox item rejected: it is reported failed and will reach the failure destination", {
          sequenceNumber: record.dynamodb?.SequenceNumber,
          error: error as Error,
        });
        fail(record, error as Error);
        continue;
      }
      if (!entries) {
        tally.skipped++;
        continue;
      }
      for (const envelope of entries.envelopes) {
        const key = `${entries.product}#${envelope.partitionkey}`;
        const queue = queues.get(key) ?? [];
        queue.push({ record, product: entries.product, envelope });
        queues.set(key, queue);
      }
    }

    const block = (key: string, cause: Error) => {
      for (const blocked of queues.get(key) ?? []) {
        tally.blocked++;
        fail(
          blocked.record,
          new BlockedByEarlierFailureError(
            `event ${blocked.envelope.id} of ${key} was not published: an earlier event of the same key failed`,
            { cause },
          ),
        );
      }
      queues.delete(key);
    };

    // Rounds of the head of every key's queue: as many as the longest queue.
    while (queues.size) {
      const round = [...queues].map(([key, queue]) => ({ key, entry: queue.shift()! }));
      for (const [key, queue] of queues) if (!queue.length) queues.delete(key);
      const byProduct = new Map<string, RoundItem[]>();
      for (const item of round) {
        byProduct.set(item.entry.product, [...(byProduct.get(item.entry.product) ?? []), item]);
      }
      for (const [product, items] of byProduct) {
        const failures = await publishRound(publisher, product as P, items);
        tally.published += items.length - failures.length;
        for (const { item, error } of failures) {
          tally.failed++;
          logger.error("outbox event not published: its record is reported for retry", {
            sequenceNumber: item.entry.record.dynamodb?.SequenceNumber,
            eventId: item.entry.envelope.id,
            product,
            partitionKey: item.entry.envelope.partitionkey,
            error,
          });
          fail(item.entry.record, error);
          block(item.key, error);
        }
      }
    }

    const counts = {
      OutboxRecordsSkipped: tally.skipped,
      OutboxRecordsRejected: tally.rejected,
      OutboxEventsPublished: tally.published,
      OutboxEventsFailed: tally.failed,
      OutboxEventsBlocked: tally.blocked,
    };
    for (const [metric, count] of Object.entries(counts)) metrics.addMetric(metric, MetricUnit.Count, count);
    metrics.publishStoredMetrics();

    return processPartialResponse(
      event,
      async (record: DynamoDBRecord) => {
        const outcome = outcomes.get(record);
        if (outcome) throw outcome;
      },
      processor,
      { context, processInParallel: false },
    );
  };
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Publishes one round (one event per key) of one product; returns the items that failed. A call
 * that throws (an event that no longer passes its contract, an unknown product) rejects every
 * event of it, so its events are then published one by one and only the bad one fails.
 */
async function publishRound<P extends string>(
  publisher: Publisher<P>,
  product: P,
  items: readonly RoundItem[],
): Promise<{ item: RoundItem; error: Error }[]> {
  try {
    const result = await publisher.publish(
      product,
      items.map(({ entry: { envelope } }) => ({
        id: envelope.id,
        type: envelope.type,
        time: envelope.time,
        data: envelope.data,
      })),
    );
    const failed = new Map(result.failed.map((failure) => [failure.event.id, failure]));
    return items.flatMap((item) => {
      const failure = failed.get(item.entry.envelope.id);
      return failure
        ? [
            {
              item,
              error: new EventNotPublishedError(
                `event ${failure.event.id} was not published to ${product} after ${failure.attempts} attempts: ` +
                  `${failure.errorCode}: ${failure.errorMessage}`,
              ),
            },
          ]
        : [];
    });
  } catch (error) {
    if (items.length === 1) return [{ item: items[0]!, error: asError(error) }];
    const failures: { item: RoundItem; error: Error }[] = [];
    for (const item of items) failures.push(...(await publishRound(publisher, product, [item])));
    return failures;
  }
}

/**
 * The relay's Lambda handler for a domain, from its declaration: publishes its stream products'
 * events to the streams named by the environment variable `OUTBOX_PRODUCT_STREAMS` (a JSON object,
 * product name to stream ARN, set by `components/outbox-relay.ts`), with a module-scope Kinesis client.
 */
export function outboxRelayHandler(
  declaration: Pick<DomainDeclaration, "name" | "products">,
): OutboxRelayHandler {
  const products = Object.fromEntries(
    declaration.products
      .filter((product) => product.kind === "stream")
      .map((product) => [product.name, { contract: product.contract, partitionKey: product.partitionKey }]),
  );
  return createOutboxRelay({
    publisher: () => {
      const streams = parseProductStreams(env("OUTBOX_PRODUCT_STREAMS"));
      const missing = Object.keys(products).filter((product) => !streams[product]);
      if (missing.length) {
        throw new Error(
          `OUTBOX_PRODUCT_STREAMS names no stream for ${missing.join(", ")} of ${declaration.name}`,
        );
      }
      return new Publisher({
        // Small: a call that still throws counts as its entries failing, and the Publisher resends them.
        client: new KinesisClient({ maxAttempts: 2 }),
        domain: declaration,
        streams: Object.fromEntries(
          Object.keys(products).map((product) => [product, { streamArn: streams[product] }]),
        ),
      });
    },
  });
}

const productStreamsSchema = z.record(z.string().min(1), z.string().startsWith("arn:"));

function parseProductStreams(raw: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new Error(`OUTBOX_PRODUCT_STREAMS is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = productStreamsSchema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `OUTBOX_PRODUCT_STREAMS must map product names to stream ARNs: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { envelopeSchema, type Envelope } from "../platform/contract";
import { OUTBOX_KIND, OUTBOX_TTL_ATTRIBUTE } from "../platform/outbox";
import {
  buildEnvelope,
  checkPartitionKey,
  productTarget,
  type EnvelopeTarget,
  type PublishEvent,
} from "./publisher";

/**
 * The transactional outbox (seed 003): a service writes its business item and the events that
 * describe the change in ONE DynamoDB transaction, so an event exists exactly when the change it
 * describes was committed. The relay (`runtime/outbox-relay.ts`), triggered by the table's stream,
 * publishes the events to the products' Kinesis streams with the Publisher.
 *
 * Layout in the service's table (`platform/outbox.ts`: key attributes `pk` / `sk`, TTL attribute
 * `expiresAt`): one outbox item per product and partition key, `pk = outbox#<product>#<partition
 * key>`, `sk = outbox`, put again by every write that has events for that key. DynamoDB Streams guarantees that the records
 * of one item appear in the order of its modifications, so the relay sees each key's events in
 * commit order, and each put's record carries that put's events in its new image: nothing is
 * overwritten before the stream has it. Events of one write for one key share one item (a
 * transaction may not touch an item twice).
 */

/** Items one TransactWriteItems call may write (docs/outbox.md). */
export const MAX_TRANSACTION_ITEMS = 100;
/** DynamoDB's item size limit is 400 KB; the events of one item must leave room for its other attributes. */
export const MAX_OUTBOX_EVENTS_BYTES = 350 * 1024;
/** How long outbox items are kept after the write: longer than a DynamoDB stream's 24 h. @default 7 days */
export const DEFAULT_OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600;

/** An outbox item as stored (and as the relay reads it from the stream's new image). */
export const outboxItemSchema = z.object({
  pk: z.string().min(1),
  sk: z.literal("outbox"),
  kind: z.literal(OUTBOX_KIND),
  product: z.string().min(1),
  partitionKey: z.string().min(1),
  /** JSON array of the envelopes, in the order the service gave them. */
  events: z.string().min(2),
  [OUTBOX_TTL_ATTRIBUTE]: z.number().int().positive(),
});
export type OutboxItem = z.infer<typeof outboxItemSchema>;

/** Parses the `events` attribute of an outbox item: envelopes, at least one. */
export const outboxEventsSchema = z.array(envelopeSchema).min(1);

/** An event the service writes with its change: an event of one of the domain's products. */
export interface OutboxEvent<P extends string = string> extends PublishEvent {
  readonly product: P;
}

export interface OutboxOptions<P extends string> {
  /** A document client (lib-dynamodb) for the table's region. */
  readonly client: DynamoDBDocumentClient;
  /** The table the outbox items go to: the one whose stream the relay reads. */
  readonly tableName: string;
  /** The owning domain; envelopes get `source` `mesh://<domain>/<product>`. */
  readonly domain: string;
  /** The products whose events may be written, by name: contract and partition key field. */
  readonly products: Readonly<Record<P, EnvelopeTarget>>;
  /** @default {@link DEFAULT_OUTBOX_RETENTION_SECONDS} */
  readonly retentionSeconds?: number;
  /** Injected in tests. @default () => new Date() */
  readonly now?: () => Date;
}

export interface OutboxWrite<P extends string> {
  /**
   * The business change: Put, Update, Delete or ConditionCheck items in lib-dynamodb's shape, any
   * tables. They commit together with the events, or none of them does.
   */
  readonly writes: NonNullable<TransactWriteCommandInput["TransactItems"]>;
  /** The events describing the change, in the order consumers should see them. */
  readonly events: OutboxEvent<P> | readonly OutboxEvent<P>[];
  /**
   * Makes a retried call idempotent for 10 minutes (DynamoDB's `ClientRequestToken`): pass the
   * same token, writes and event ids when retrying after a timeout.
   */
  readonly clientRequestToken?: string;
}

export interface OutboxWriteResult {
  /** The envelopes written, in the order given: their ids are the ids consumers will see. */
  readonly events: readonly Envelope[];
}

/** The transaction was cancelled (a condition failed, a conflict); nothing was written. */
export class OutboxWriteError extends Error {
  override readonly name = "OutboxWriteError";
  constructor(
    message: string,
    /** Per transaction item, DynamoDB's cancellation reason code (`None` for items that were fine). */
    readonly reasons: readonly string[],
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Writes business changes and their events atomically. Every event is validated against its
 * product's contract and enveloped before anything is sent, so a bad event fails the call (with
 * the Publisher's `ContractViolationError`) and the change is not written either.
 */
export class Outbox<P extends string = string> {
  private readonly retentionSeconds: number;

  constructor(private readonly options: OutboxOptions<P>) {
    for (const [product, target] of Object.entries<EnvelopeTarget>(options.products)) {
      checkPartitionKey(product, target);
    }
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_OUTBOX_RETENTION_SECONDS;
    if (!Number.isInteger(this.retentionSeconds) || this.retentionSeconds < 24 * 3600) {
      throw new Error(
        `retentionSeconds must be a whole number of at least 86400 (a DynamoDB stream keeps records 24 h), got ${this.retentionSeconds}`,
      );
    }
  }

  /** Writes `writes` and `events` in one TransactWriteItems call. */
  async write(write: OutboxWrite<P>): Promise<OutboxWriteResult> {
    const events = Array.isArray(write.events) ? write.events : [write.events as OutboxEvent<P>];
    if (events.length === 0) {
      throw new Error(
        `outbox write to ${this.options.tableName}: no events (use a plain write for changes without events)`,
      );
    }
    const now = (this.options.now ?? (() => new Date()))();
    const envelopes = events.map((event, index) =>
      buildEnvelope(
        this.options.domain,
        event.product,
        productTarget(this.options.products, event.product, this.options.domain),
        { time: now, ...event },
        index,
      ),
    );

    // One item per product and partition key, its envelopes in the order given.
    const groups = new Map<string, { product: P; partitionKey: string; envelopes: Envelope[] }>();
    envelopes.forEach((envelope, index) => {
      const product = events[index]!.product;
      const pk = `${OUTBOX_KIND}#${product}#${envelope.partitionkey}`;
      const group = groups.get(pk) ?? {
        product,
        partitionKey: envelope.partitionkey,
        envelopes: [] as Envelope[],
      };
      group.envelopes.push(envelope);
      groups.set(pk, group);
    });
    const expiresAt = Math.floor(now.getTime() / 1000) + this.retentionSeconds;
    const outboxItems = [...groups].map(([pk, group]): OutboxItem => {
      const serialised = JSON.stringify(group.envelopes);
      const bytes = Buffer.byteLength(serialised);
      if (bytes > MAX_OUTBOX_EVENTS_BYTES) {
        throw new Error(
          `outbox write to ${this.options.tableName}: the events for ${group.product} key ${group.partitionKey} ` +
            `are ${bytes} bytes, more than the ${MAX_OUTBOX_EVENTS_BYTES} an outbox item may carry; nothing was written`,
        );
      }
      return {
        pk,
        sk: "outbox",
        kind: OUTBOX_KIND,
        product: group.product,
        partitionKey: group.partitionKey,
        events: serialised,
        [OUTBOX_TTL_ATTRIBUTE]: expiresAt,
      };
    });

    const items = [
      ...write.writes,
      ...outboxItems.map((Item) => ({ Put: { TableName: this.options.tableName, Item } })),
    ];
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new Error(
        `outbox write to ${this.options.tableName}: ${write.writes.length} writes and ${outboxItems.length} outbox items ` +
          `are ${items.length} items, more than the ${MAX_TRANSACTION_ITEMS} one transaction may write; nothing was written`,
      );
    }
    try {
      await this.options.client.send(
        new TransactWriteCommand({
          TransactItems: items,
          ...(write.clientRequestToken && { ClientRequestToken: write.clientRequestToken }),
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? "None");
      const failed = reasons
        .map((code, index) => ({ code, index }))
        .filter(({ code }) => code !== "None")
        .map(({ code, index }) =>
          index < write.writes.length
            ? `writes[${index}]: ${code}`
            : `outbox item ${index - write.writes.length}: ${code}`,
        );
      throw new OutboxWriteError(
        `outbox write to ${this.options.tableName} was cancelled, nothing was written: ${failed.join(", ") || error.message}`,
        reasons,
        { cause: error },
      );
    }
    return { events: envelopes };
  }
}

import { randomUUID } from "node:crypto";
import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { z } from "zod";
import {
  ContractViolationError,
  currentVersion,
  envelopeSchema,
  parsePayload,
  type Contract,
  type Envelope,
} from "../platform/contract";
import { chunkByLimits } from "./batching";
import { sendWithRetries, type BackoffOptions } from "./retry";

/** A Kinesis record may carry 1 MiB, data blob and partition key together (docs/aws-facts.md#kinesis-data-streams). */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Records one PutRecords request may carry (docs/aws-facts.md#kinesis-data-streams). */
export const MAX_RECORDS_PER_CALL = 500;
/** Bytes (data + partition keys) one PutRecords request may carry: docs/aws-facts.md#kinesis-data-streams. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;

/** Where a data product's stream is. At least one of the two; both are sent when both are given. */
export interface StreamAddress {
  /** Enough for a stream in the producer's own account. */
  readonly streamName?: string;
  /**
   * Needed for a stream in another account (the stream's resource policy grants the producer's
   * role). The client must be configured for the stream's region: the SDK picks the endpoint from
   * the client's region, not from the ARN.
   */
  readonly streamArn?: string;
}

/** One data product a producer publishes to. */
export interface ProductTarget {
  readonly stream: StreamAddress;
  /** Events are validated against, and labelled with, the contract's current version. */
  readonly contract: Contract;
  /**
   * Payload field whose value, as a string, is the Kinesis partition key (and the envelope's
   * `partitionkey`). Every event type of the contract's current version must declare it.
   */
  readonly partitionKey: string;
}

/** One event as a producer hands it over; the Publisher wraps it in the CloudEvents envelope. */
export interface PublishEvent {
  /** Event type of the product's contract, e.g. `interaction.play`. */
  readonly type: string;
  /** Payload; validated against the contract, and fields the contract does not declare are dropped. */
  readonly data: unknown;
  /**
   * Producer-assigned id that consumers deduplicate on. Pass the same id when publishing the same
   * fact again (e.g. replaying from an outbox). @default crypto.randomUUID()
   */
  readonly id?: string;
  /** When the event happened. @default the time of the `publish` call */
  readonly time?: string | Date;
}

/** An event that could not be written after every attempt. */
export interface FailedEvent {
  /** The envelope exactly as it was sent, so it can be resent or stored as is. */
  readonly event: Envelope;
  /** Per-entry `ErrorCode` of the last attempt, or the name of the error a whole call threw. */
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly attempts: number;
}

export interface PublishResult {
  /** Events Kinesis accepted. */
  readonly published: number;
  /** Events still failing after the last attempt; also handed to the dead-letter sink, if any. */
  readonly failed: readonly FailedEvent[];
  /** PutRecords calls made, retries included. */
  readonly calls: number;
}

export interface PublisherOptions<P extends string> extends BackoffOptions {
  /**
   * Used for PutRecords only. Its own retry strategy (`maxAttempts`, `retryMode`) resends whole
   * calls that throw (throttling, 5xx, network) but never the failed entries of a call that
   * answered HTTP 200; the Publisher resends those. A whole call that still throws after the
   * client's retries counts as every entry of it failing, so the two multiply: keep the client's
   * `maxAttempts` small (2–3; `retryMode: "adaptive"` also rate-limits on throttling).
   */
  readonly client: KinesisClient;
  /** Owning domain; events get `source` `mesh://<domain>/<product>`. */
  readonly domain: string;
  /** Data products by name, the name being the one in `source` and in `publish(product, ...)`. */
  readonly products: Readonly<Record<P, ProductTarget>>;
  /**
   * Receives the events that still fail after the last attempt (they are also returned). If it
   * throws, `publish` rejects with a {@link DeadLetterError} that carries the result.
   */
  readonly deadLetter?: (failed: readonly FailedEvent[]) => Promise<void>;
  /**
   * Largest record (data + partition key) accepted. Raise it only for streams created with a
   * larger `MaxRecordSizeInKiB`. @default 1 MiB
   */
  readonly maxRecordBytes?: number;
  /** Largest PutRecords request (sum of data + partition keys). @default 5 MiB */
  readonly maxRequestBytes?: number;
}

/** An event whose record would exceed the record size limit; nothing of the call was sent. */
export class RecordTooLargeError extends Error {
  override readonly name = "RecordTooLargeError";
  constructor(
    readonly product: string,
    readonly index: number,
    readonly type: string,
    readonly id: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `cannot publish event ${index} (${type}, id ${id}) to ${product}: its record is ${bytes} bytes ` +
        `(data + partition key), more than the ${maxBytes} a Kinesis record may carry; nothing was sent`,
    );
  }
}

/** The dead-letter sink threw; the events it was given are in `result.failed`, not lost. */
export class DeadLetterError extends Error {
  override readonly name = "DeadLetterError";
  constructor(
    readonly result: PublishResult,
    options: { cause: unknown },
  ) {
    super(
      `dead-letter sink failed for ${result.failed.length} events that could not be published; ` +
        `they are in error.result.failed`,
      options,
    );
  }
}

function isoTime(time: string | Date = new Date()): string {
  if (typeof time === "string") return time;
  // "Invalid Date" rather than a RangeError, so that the envelope check names the event.
  return Number.isNaN(time.getTime()) ? String(time) : time.toISOString();
}

interface Prepared {
  readonly envelope: Envelope;
  readonly entry: PutRecordsRequestEntry;
  /** Data + partition key, what both Kinesis size limits count. */
  readonly bytes: number;
}

interface EntryError {
  readonly code: string;
  readonly message: string;
}

/**
 * Publishes events to a domain's data product streams: validates them against the product's
 * contract, wraps them in the CloudEvents envelope and writes them with PutRecords in as few
 * calls as the limits allow, resending only the entries that failed.
 *
 * Order: PutRecords does not guarantee order, and a resent entry lands after entries sent later,
 * so events of one partition key may be stored out of order. Consumers are idempotent on `id`
 * and order by the envelope's `time`, which makes that acceptable and keeps batching possible.
 *
 * Delivery is at least once: a call that times out may have been written and is resent, with
 * the same envelope and `id`.
 */
export class Publisher<P extends string = string> {
  private readonly backoff: BackoffOptions;
  private readonly maxRecordBytes: number;
  private readonly maxRequestBytes: number;

  constructor(private readonly options: PublisherOptions<P>) {
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    if (this.maxRecordBytes > this.maxRequestBytes) {
      throw new Error(
        `maxRecordBytes (${this.maxRecordBytes}) must not exceed maxRequestBytes (${this.maxRequestBytes})`,
      );
    }
    if (
      options.maxAttempts !== undefined &&
      !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)
    ) {
      throw new Error(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    }
    for (const [product, target] of Object.entries<ProductTarget>(options.products)) {
      if (!target.stream.streamName && !target.stream.streamArn) {
        throw new Error(`product ${product}: stream needs a streamName or a streamArn`);
      }
      const version = currentVersion(target.contract);
      for (const [type, schema] of Object.entries(version.events)) {
        if (!(target.partitionKey in schema.shape)) {
          throw new Error(
            `product ${product}: partition key field ${target.partitionKey} is not declared by ` +
              `${type} in ${target.contract.name} v${version.version}`,
          );
        }
      }
    }
    this.backoff = {
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      sleep: options.sleep,
      random: options.random,
    };
  }

  /**
   * Publishes one event or many to `product`. Every event is validated, enveloped, serialised
   * and size-checked before the first call, so a bad event rejects the whole call with nothing
   * sent: {@link ContractViolationError} (zod issues in `issues`) or {@link RecordTooLargeError}.
   *
   * Resolves once every event is written or has failed its last attempt. Failed events are
   * returned in `failed` (and given to the dead-letter sink): check it.
   */
  async publish(product: P, events: PublishEvent | readonly PublishEvent[]): Promise<PublishResult> {
    const target = this.target(product);
    // Array.isArray does not narrow a readonly array out of the union, hence the cast.
    const prepared = (Array.isArray(events) ? events : [events as PublishEvent]).map((event, index) =>
      this.prepare(product, target, event, index),
    );
    if (prepared.length === 0) return { published: 0, failed: [], calls: 0 };

    const address = {
      ...(target.stream.streamName && { StreamName: target.stream.streamName }),
      ...(target.stream.streamArn && { StreamARN: target.stream.streamArn }),
    };
    let calls = 0;
    // Each attempt re-chunks what is still pending, so the failures of several requests are
    // resent together, in as few calls as the limits allow.
    const { unsent } = await sendWithRetries<Prepared, EntryError>(
      prepared,
      async (pending) => {
        const failed: { index: number; error: EntryError }[] = [];
        let offset = 0;
        for (const chunk of chunkByLimits(pending, (p) => p.bytes, {
          maxCount: MAX_RECORDS_PER_CALL,
          maxBytes: this.maxRequestBytes,
        })) {
          calls++;
          failed.push(
            ...(await this.putRecords(address, chunk)).map((f) => ({ ...f, index: offset + f.index })),
          );
          offset += chunk.length;
        }
        return { failed };
      },
      this.backoff,
    );

    const result: PublishResult = {
      published: prepared.length - unsent.length,
      failed: unsent.map(({ entry, error, attempts }) => ({
        event: entry.envelope,
        errorCode: error.code,
        errorMessage: error.message,
        attempts,
      })),
      calls,
    };
    if (result.failed.length && this.options.deadLetter) {
      try {
        await this.options.deadLetter(result.failed);
      } catch (cause) {
        throw new DeadLetterError(result, { cause });
      }
    }
    return result;
  }

  private target(product: P): ProductTarget {
    const target = Object.hasOwn(this.options.products, product) ? this.options.products[product] : undefined;
    if (!target) {
      const known = Object.keys(this.options.products).join(", ");
      throw new Error(
        `unknown product ${product} for domain ${this.options.domain} (expected one of ${known})`,
      );
    }
    return target;
  }

  private prepare(product: string, target: ProductTarget, event: PublishEvent, index: number): Prepared {
    const where = `cannot publish event ${index} (${event.type}) to ${product}`;
    let data: Record<string, unknown>;
    try {
      data = parsePayload(target.contract, event.type, event.data);
    } catch (error) {
      if (!(error instanceof ContractViolationError)) throw error;
      throw new ContractViolationError(`${where}: ${error.message}`, error.issues, { cause: error });
    }
    const key = data[target.partitionKey];
    if (!["string", "number", "bigint", "boolean"].includes(typeof key)) {
      throw new ContractViolationError(`${where}: partition key field ${target.partitionKey} is missing`, [
        { code: "custom", path: [target.partitionKey], message: "partition key is missing", input: key },
      ]);
    }
    const envelope: Envelope = {
      specversion: "1.0",
      id: event.id ?? randomUUID(),
      source: `mesh://${this.options.domain}/${product}`,
      type: event.type,
      time: isoTime(event.time),
      dataversion: currentVersion(target.contract).version,
      partitionkey: String(key),
      data,
    };
    const checked = envelopeSchema.safeParse(envelope);
    if (!checked.success) {
      throw new ContractViolationError(
        `${where}: invalid envelope: ${z.prettifyError(checked.error)}`,
        checked.error.issues,
      );
    }
    const entry = { Data: Buffer.from(JSON.stringify(envelope)), PartitionKey: envelope.partitionkey };
    const bytes = entry.Data.byteLength + Buffer.byteLength(entry.PartitionKey);
    if (bytes > this.maxRecordBytes) {
      throw new RecordTooLargeError(product, index, event.type, envelope.id, bytes, this.maxRecordBytes);
    }
    return { envelope, entry, bytes };
  }

  /** One PutRecords call; returns the entries (indexes into `chunk`) that failed. */
  private async putRecords(
    address: { StreamName?: string; StreamARN?: string },
    chunk: readonly Prepared[],
  ): Promise<{ index: number; error: EntryError }[]> {
    const failAll = (error: EntryError) => chunk.map((_, index) => ({ index, error }));
    try {
      const output = await this.options.client.send(
        new PutRecordsCommand({ ...address, Records: chunk.map((p) => p.entry) }),
      );
      if (!output.FailedRecordCount) return [];
      const records = output.Records ?? [];
      if (records.length !== chunk.length) {
        return failAll({
          code: "UnexpectedResponse",
          message: `PutRecords answered ${records.length} results for ${chunk.length} records`,
        });
      }
      return records.flatMap((record, index) =>
        record.ErrorCode
          ? [{ index, error: { code: record.ErrorCode, message: record.ErrorMessage ?? "" } }]
          : [],
      );
    } catch (error) {
      // Only this call's entries failed; entries of the other calls of the attempt were written.
      return failAll(
        error instanceof Error
          ? { code: error.name, message: error.message }
          : { code: "Error", message: String(error) },
      );
    }
  }
}

import { randomUUID } from "node:crypto";
import { PutRecordsCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { z } from "zod";
import {
  ContractViolationError,
  currentVersion,
  envelopeSchema,
  parsePayload,
  type Contract,
  type Envelope,
} from "../platform/contract";
import { Ordering, type DomainDeclaration } from "../platform/declarations";
import { chunkByLimits } from "./batching";
import { backoffDelay, sleep, type BackoffOptions } from "./retry";

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

/** How long `publish` may take, by default, before what is still unacknowledged comes back failed. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** One event as a producer hands it over; the Publisher wraps it in the CloudEvents envelope. */
export interface PublishEvent {
  /** Event type of the product's contract, e.g. `interaction.play`. */
  readonly type: string;
  /** Payload; validated against the contract, and fields the contract does not declare are dropped. */
  readonly data: unknown;
  /**
   * Producer-assigned id that consumers deduplicate on. Pass the same id when publishing the same
   * fact again (e.g. replaying from an outbox or a dead-letter sink). @default crypto.randomUUID()
   */
  readonly id?: string;
  /** When the event happened. @default the time of the `publish` call */
  readonly time?: string | Date;
}

/** Why an event was not written, in {@link FailedEvent.errorCode} beside the services' own codes. */
export const FailureCode = {
  /** `deadlineMs` passed before Kinesis acknowledged the event. */
  DeadlineExceeded: "DeadlineExceeded",
  /** Per-key order: an earlier event of the same key failed, so this one was not sent. */
  PrecedingEventFailed: "PrecedingEventFailed",
  /** PutRecords answered a different number of results than records sent. */
  UnexpectedResponse: "UnexpectedResponse",
} as const;

/**
 * An event that was not acknowledged. It MAY ALREADY BE IN THE STREAM when `mayBeInStream` is true
 * (a call timed out or its answer was lost after Kinesis wrote it): resend the envelope as it is,
 * with its `id`, and consumers deduplicate the copy.
 */
export interface FailedEvent {
  /** The envelope exactly as it was sent (its `id` is stable), so it can be resent or stored as is. */
  readonly event: Envelope;
  /** Per-entry `ErrorCode` of the last attempt, the name of the error a whole call threw, or a {@link FailureCode}. */
  readonly errorCode: string;
  readonly errorMessage: string;
  /** Times it was sent; 0 when it never was (deadline, or an earlier event of its key failed). */
  readonly attempts: number;
  /** True when some attempt ended without Kinesis saying the entry was refused. */
  readonly mayBeInStream: boolean;
}

export interface PublishResult {
  /** Events Kinesis acknowledged. */
  readonly published: number;
  /**
   * Events not acknowledged after the last attempt or by the deadline; also handed to the
   * dead-letter sink, if any. Some may already be in the stream: see {@link FailedEvent}.
   */
  readonly failed: readonly FailedEvent[];
  /** PutRecords HTTP requests made: the Publisher's resends and the SDK's own retries included. */
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
  /**
   * The producing domain's declaration: `source` is `mesh://<domain>/<product>`, and each
   * product's contract, partition key field and ordering come from it, so producer code cannot
   * disagree with what consumers were promised.
   */
  readonly domain: Pick<DomainDeclaration, "name" | "products">;
  /** Where each product's stream is, by product name; only these products can be published. */
  readonly streams: Readonly<Record<P, StreamAddress>>;
  /**
   * Receives the events that were not acknowledged (they are also returned). If it throws,
   * `publish` rejects with a {@link DeadLetterError} that carries the result.
   */
  readonly deadLetter?: (failed: readonly FailedEvent[]) => Promise<void>;
  /**
   * Time one `publish` call may take: when it passes, the call in flight is aborted and every
   * event not yet acknowledged comes back failed with `DeadlineExceeded`. @default 30 s
   */
  readonly deadlineMs?: number;
  /**
   * Largest record (data + partition key) accepted. Raise it only for streams created with a
   * larger `MaxRecordSizeInKiB`. @default 1 MiB
   */
  readonly maxRecordBytes?: number;
  /** Largest PutRecords request (sum of data + partition keys). @default 5 MiB */
  readonly maxRequestBytes?: number;
}

/** An event that cannot be published; nothing of its `publish` call is sent. */
export interface RejectedEvent {
  readonly index: number;
  readonly type: string;
  readonly id?: string;
  readonly reason: string;
}

function describeRejected(product: string, rejected: readonly RejectedEvent[]): string {
  const lines = rejected.map(
    (event) => `event ${event.index} (${event.type}${event.id ? `, id ${event.id}` : ""}): ${event.reason}`,
  );
  return rejected.length === 1
    ? `cannot publish ${lines[0]} to ${product}; nothing was sent`
    : `cannot publish ${rejected.length} events to ${product}; nothing was sent:\n  - ${lines.join("\n  - ")}`;
}

/** Events whose records would exceed the record size limit, every one named; nothing was sent. */
export class RecordTooLargeError extends Error {
  override readonly name = "RecordTooLargeError";
  constructor(
    readonly product: string,
    readonly events: readonly (RejectedEvent & { readonly bytes: number })[],
    readonly maxBytes: number,
  ) {
    super(describeRejected(product, events));
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

function isoTime(time: string | Date): string {
  if (typeof time === "string") return time;
  // "Invalid Date" rather than a RangeError, so that the envelope check names the event.
  return Number.isNaN(time.getTime()) ? String(time) : time.toISOString();
}

/**
 * An event ready to send. Only the record is kept, not the envelope object it was serialised from,
 * so that a large batch holds one copy of each event; {@link sentEnvelope} reads the envelope back
 * for the few events that fail.
 */
interface Prepared {
  readonly entry: { readonly Data: Buffer; readonly PartitionKey: string };
  /** Data + partition key, what both Kinesis size limits count. */
  readonly bytes: number;
}

/**
 * The envelope exactly as sent. Contracts only declare types JSON carries and no transforms
 * (platform/mesh.ts checks it), so parsing the record gives back the envelope it was made from.
 */
function sentEnvelope(prepared: Prepared): Envelope {
  return JSON.parse(prepared.entry.Data.toString("utf8")) as Envelope;
}

interface EntryError {
  readonly code: string;
  readonly message: string;
  /** The call ended without a per-entry answer: the entry may have been written. */
  readonly uncertain: boolean;
}

/** An event on its way: how often it was sent and how the last attempt ended. */
interface InFlight {
  readonly prepared: Prepared;
  attempts: number;
  mayBeInStream: boolean;
  error?: EntryError;
}

interface ProductTarget {
  readonly stream: { StreamName?: string; StreamARN?: string };
  readonly contract: Contract;
  readonly partitionKey: string;
  readonly ordering: Ordering;
}

/**
 * Publishes events to a domain's data product streams: validates them against the product's
 * contract, wraps them in the CloudEvents envelope and writes them with PutRecords in as few
 * calls as the limits allow, resending only the entries that failed, within a deadline.
 *
 * Order follows the product's declared `ordering`. PutRecords does not guarantee order within a
 * call, and a resent entry lands after entries sent later, so:
 * - `per-key`: each call carries at most one event per partition key, and a key's next event is
 *   sent only once the previous one is acknowledged. If an event fails for good, the later events
 *   of its key in the same `publish` are not sent (`PrecedingEventFailed`). Concurrent `publish`
 *   calls for one product are queued, so order holds across calls too.
 * - `none`: every pending event goes in every attempt, in as few calls as possible.
 *
 * Delivery is at least once: a call that times out may have been written and is resent with the
 * same envelope and `id`; an event returned failed may be in the stream (`mayBeInStream`).
 */
export class Publisher<P extends string = string> {
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private readonly deadlineMs: number;
  private readonly maxRecordBytes: number;
  private readonly maxRequestBytes: number;
  private readonly targets = new Map<string, ProductTarget>();
  /** Per-key products: the tail of the queue of `publish` calls, which run one after another. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: PublisherOptions<P>) {
    this.maxRecordBytes = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.maxAttempts = options.maxAttempts ?? 5;
    if (this.maxRecordBytes > this.maxRequestBytes) {
      throw new Error(
        `maxRecordBytes (${this.maxRecordBytes}) must not exceed maxRequestBytes (${this.maxRequestBytes})`,
      );
    }
    if (!(Number.isInteger(this.maxAttempts) && this.maxAttempts >= 1)) {
      throw new Error(`maxAttempts must be a positive integer, got ${options.maxAttempts}`);
    }
    if (!(Number.isFinite(this.deadlineMs) && this.deadlineMs > 0)) {
      throw new Error(`deadlineMs must be a positive number of milliseconds, got ${options.deadlineMs}`);
    }
    const domain = options.domain.name;
    for (const [name, stream] of Object.entries<StreamAddress>(options.streams)) {
      const streamed = options.domain.products.filter((p) => p.kind !== "at-rest");
      const product = streamed.find((p) => p.name === name);
      if (!product) {
        const known = streamed.map((p) => p.name).join(", ");
        throw new Error(`streams.${name}: domain ${domain} declares no product ${name} (known: ${known})`);
      }
      if (!stream.streamName && !stream.streamArn) {
        throw new Error(`streams.${name}: needs a streamName or a streamArn`);
      }
      const version = currentVersion(product.contract);
      for (const [type, schema] of Object.entries(version.events)) {
        if (!(product.partitionKey in schema.shape)) {
          throw new Error(
            `product ${name}: partition key field ${product.partitionKey} is not declared by ` +
              `${type} in ${product.contract.name} v${version.version}`,
          );
        }
      }
      this.targets.set(name, {
        stream: {
          ...(stream.streamName && { StreamName: stream.streamName }),
          ...(stream.streamArn && { StreamARN: stream.streamArn }),
        },
        contract: product.contract,
        partitionKey: product.partitionKey,
        ordering: product.ordering ?? Ordering.PerKey,
      });
    }
    this.backoff = {
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      random: options.random,
    };
  }

  /**
   * Publishes one event or many to `product`. Every event is validated, enveloped, serialised
   * and size-checked before the first call; if any is bad, the call rejects naming every bad
   * event, with nothing sent: {@link ContractViolationError} (zod issues in `issues`, their paths
   * starting with the event's index) or {@link RecordTooLargeError}.
   *
   * Resolves once every event is acknowledged, has failed its last attempt, or the deadline has
   * passed. Failed events are returned in `failed` (and given to the dead-letter sink): check it.
   */
  async publish(product: P, events: PublishEvent | readonly PublishEvent[]): Promise<PublishResult> {
    const target = this.target(product);
    // Array.isArray does not narrow a readonly array out of the union, hence the cast.
    const prepared = this.prepareAll(
      product,
      target,
      Array.isArray(events) ? events : [events as PublishEvent],
    );
    if (prepared.length === 0) return { published: 0, failed: [], calls: 0 };
    if (target.ordering === Ordering.None) return this.finish(await this.send(target, prepared));
    const previous = this.queues.get(product) ?? Promise.resolve();
    const run = previous.then(() => this.send(target, prepared));
    const tail = run.catch(() => undefined);
    this.queues.set(product, tail);
    try {
      return this.finish(await run);
    } finally {
      if (this.queues.get(product) === tail) this.queues.delete(product);
    }
  }

  private async finish(result: PublishResult): Promise<PublishResult> {
    if (result.failed.length && this.options.deadLetter) {
      try {
        await this.options.deadLetter(result.failed);
      } catch (cause) {
        throw new DeadLetterError(result, { cause });
      }
    }
    return result;
  }

  /** Attempts until every event is acknowledged or failed, within the deadline. */
  private async send(target: ProductTarget, prepared: readonly Prepared[]): Promise<PublishResult> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.deadlineMs);
    const expired = new Promise<"expired">((resolve) =>
      deadline.signal.addEventListener("abort", () => resolve("expired"), { once: true }),
    );
    let pending: InFlight[] = prepared.map((p) => ({ prepared: p, attempts: 0, mayBeInStream: false }));
    const failed: FailedEvent[] = [];
    /** Records `event` as failed; its envelope as sent. */
    const fail = (event: InFlight, code: string, message: string): Envelope => {
      const envelope = sentEnvelope(event.prepared);
      failed.push({
        event: envelope,
        errorCode: code,
        errorMessage: message,
        attempts: event.attempts,
        mayBeInStream: event.mayBeInStream,
      });
      return envelope;
    };
    let published = 0;
    let calls = 0;
    try {
      while (pending.length) {
        const retrying = pending.filter((event) => event.attempts > 0);
        if (retrying.length) {
          const attempt = Math.max(...retrying.map((event) => event.attempts));
          await Promise.race([(this.options.sleep ?? sleep)(backoffDelay(attempt, this.backoff)), expired]);
        }
        if (deadline.signal.aborted) break;
        const round = target.ordering === Ordering.PerKey ? firstOfEachKey(pending) : pending;
        const outcome = await this.sendRound(target, round, deadline.signal, expired);
        calls += outcome.calls;
        const finished = new Set<InFlight>();
        for (const event of round) {
          const error = outcome.errors.get(event);
          event.attempts++;
          if (!error) {
            published++;
            finished.add(event);
            continue;
          }
          event.error = error;
          event.mayBeInStream ||= error.uncertain;
          if (event.attempts < this.maxAttempts && !deadline.signal.aborted) continue;
          const { id } = fail(event, error.code, error.message);
          finished.add(event);
          if (target.ordering !== Ordering.PerKey) continue;
          for (const later of pending) {
            if (
              finished.has(later) ||
              later.prepared.entry.PartitionKey !== event.prepared.entry.PartitionKey
            )
              continue;
            fail(
              later,
              FailureCode.PrecedingEventFailed,
              `not sent: event ${id} of partition key ${later.prepared.entry.PartitionKey} failed before it`,
            );
            finished.add(later);
          }
        }
        pending = pending.filter((event) => !finished.has(event));
      }
    } finally {
      clearTimeout(timer);
    }
    for (const event of pending) {
      fail(
        event,
        FailureCode.DeadlineExceeded,
        `not acknowledged within the ${this.deadlineMs} ms deadline` +
          (event.error ? ` (last error: ${event.error.code}: ${event.error.message})` : ""),
      );
    }
    return { published, failed, calls };
  }

  /** One attempt at `round`, in as few calls as the limits allow; the errors of entries that failed. */
  private async sendRound(
    target: ProductTarget,
    round: readonly InFlight[],
    signal: AbortSignal,
    expired: Promise<"expired">,
  ): Promise<{ errors: Map<InFlight, EntryError>; calls: number }> {
    const errors = new Map<InFlight, EntryError>();
    let calls = 0;
    for (const chunk of chunkByLimits(round, (event) => event.prepared.bytes, {
      maxCount: MAX_RECORDS_PER_CALL,
      maxBytes: this.maxRequestBytes,
    })) {
      if (signal.aborted) {
        const error = {
          code: FailureCode.DeadlineExceeded,
          message: "not sent before the deadline",
          uncertain: false,
        };
        for (const event of chunk) errors.set(event, error);
        continue;
      }
      const answer = await this.putRecords(target, chunk, signal, expired);
      calls += answer.requests;
      answer.failed.forEach((error, index) => error && errors.set(chunk[index]!, error));
    }
    return { errors, calls };
  }

  private target(product: P): ProductTarget {
    const target = this.targets.get(product);
    if (!target) {
      const known = [...this.targets.keys()].join(", ");
      throw new Error(
        `unknown product ${product} for domain ${this.options.domain.name} (expected one of ${known})`,
      );
    }
    return target;
  }

  /** Every event prepared, or one error naming every event that cannot be. */
  private prepareAll(product: string, target: ProductTarget, events: readonly PublishEvent[]): Prepared[] {
    const invalid: (RejectedEvent & { readonly issues: readonly z.core.$ZodIssue[] })[] = [];
    const tooLarge: (RejectedEvent & { readonly bytes: number })[] = [];
    const now = new Date().toISOString();
    const prepared = events.flatMap((event, index): Prepared[] => {
      const outcome = this.prepare(product, target, event, now);
      if ("issues" in outcome) {
        invalid.push({ index, type: event.type, id: event.id, ...outcome });
        return [];
      }
      if (outcome.bytes > this.maxRecordBytes) {
        tooLarge.push({
          index,
          type: event.type,
          id: sentEnvelope(outcome).id,
          bytes: outcome.bytes,
          reason:
            `its record is ${outcome.bytes} bytes (data + partition key), more than the ` +
            `${this.maxRecordBytes} a Kinesis record may carry`,
        });
      }
      return [outcome];
    });
    if (invalid.length) {
      throw new ContractViolationError(
        describeRejected(
          product,
          [...invalid, ...tooLarge].sort((a, b) => a.index - b.index),
        ),
        invalid.flatMap((event) =>
          event.issues.map((issue) => ({ ...issue, path: [event.index, ...issue.path] })),
        ),
      );
    }
    if (tooLarge.length) throw new RecordTooLargeError(product, tooLarge, this.maxRecordBytes);
    return prepared;
  }

  private prepare(
    product: string,
    target: ProductTarget,
    event: PublishEvent,
    now: string,
  ): Prepared | { reason: string; issues: readonly z.core.$ZodIssue[] } {
    const envelope = envelopeOf(this.options.domain.name, product, target, event, now);
    if ("issues" in envelope) return envelope;
    const entry = { Data: Buffer.from(JSON.stringify(envelope)), PartitionKey: envelope.partitionkey };
    return { entry, bytes: entry.Data.byteLength + Buffer.byteLength(entry.PartitionKey) };
  }

  /**
   * One PutRecords call, aborted when the deadline passes: per entry of `chunk`, its error or
   * undefined, and the HTTP requests it took (the SDK's retries included).
   */
  private async putRecords(
    target: ProductTarget,
    chunk: readonly InFlight[],
    signal: AbortSignal,
    expired: Promise<"expired">,
  ): Promise<{ failed: (EntryError | undefined)[]; requests: number }> {
    const failAll = (error: EntryError) => chunk.map(() => error);
    const command = new PutRecordsCommand({ ...target.stream, Records: chunk.map((e) => e.prepared.entry) });
    let requests = 0;
    // Inside the SDK's retry loop, so each HTTP attempt is counted.
    command.middlewareStack.add(
      (next) => (args) => {
        requests++;
        return next(args);
      },
      { step: "deserialize", name: "meshCountPutRecordsRequests" },
    );
    try {
      // The race also bounds a request handler that ignores the abort signal.
      const output = await Promise.race([
        this.options.client.send(command, { abortSignal: signal }),
        expired,
      ]);
      if (output === "expired") {
        return {
          failed: failAll({
            code: FailureCode.DeadlineExceeded,
            message: `PutRecords did not answer within the ${this.deadlineMs} ms deadline`,
            uncertain: true,
          }),
          requests: Math.max(requests, 1),
        };
      }
      requests = Math.max(requests, output.$metadata?.attempts ?? 1);
      if (!output.FailedRecordCount) return { failed: [], requests };
      const records = output.Records ?? [];
      if (records.length !== chunk.length) {
        return {
          failed: failAll({
            code: FailureCode.UnexpectedResponse,
            message: `PutRecords answered ${records.length} results for ${chunk.length} records`,
            uncertain: true,
          }),
          requests,
        };
      }
      return {
        failed: records.map((record) =>
          record.ErrorCode
            ? { code: record.ErrorCode, message: record.ErrorMessage ?? "", uncertain: false }
            : undefined,
        ),
        requests,
      };
    } catch (error) {
      // Only this call's entries failed; entries of the other calls of the attempt were written.
      const attempts = (error as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts;
      return {
        failed: failAll(
          error instanceof Error
            ? {
                code: signal.aborted ? FailureCode.DeadlineExceeded : error.name,
                message: error.message,
                uncertain: true,
              }
            : { code: "Error", message: String(error), uncertain: true },
        ),
        requests: Math.max(requests, attempts ?? 1),
      };
    }
  }
}

/** The earliest pending event of each partition key, in order. */
function firstOfEachKey(pending: readonly InFlight[]): InFlight[] {
  const seen = new Set<string>();
  return pending.filter((event) => {
    const key = event.prepared.entry.PartitionKey!;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What an envelope is built from: the product's contract and its partition key field. */
export interface EnvelopeTarget {
  readonly contract: Contract;
  readonly partitionKey: string;
}

/** The target of `product` in a domain's product map; throws naming the known products. */
export function productTarget<T>(products: Readonly<Record<string, T>>, product: string, domain: string): T {
  const target = Object.hasOwn(products, product) ? products[product] : undefined;
  if (!target) {
    const known = Object.keys(products).join(", ");
    throw new Error(`unknown product ${product} for domain ${domain} (expected one of ${known})`);
  }
  return target;
}

/** Throws unless every event type of the contract's current version declares the partition key field. */
export function checkPartitionKey(product: string, target: EnvelopeTarget): void {
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

/**
 * The CloudEvents envelope of one event, as the Publisher builds it: the payload validated against
 * the contract's current version, the partition key read from it, id and time assigned when not
 * given. Throws {@link ContractViolationError} naming the event's `index` and type. Used by the
 * Outbox to envelope events when they are written.
 */
export function buildEnvelope(
  domain: string,
  product: string,
  target: EnvelopeTarget,
  event: PublishEvent,
  index: number,
): Envelope {
  const envelope = envelopeOf(domain, product, target, event);
  if (!("issues" in envelope)) return envelope;
  throw new ContractViolationError(
    `cannot publish event ${index} (${event.type}) to ${product}: ${envelope.reason}`,
    envelope.issues,
  );
}

/**
 * The CloudEvents envelope around `data`, a payload already validated against the contract's
 * current version, with no check of its own: the one place an envelope's fields are assigned.
 */
export function wrapEnvelope(
  domain: string,
  product: string,
  target: EnvelopeTarget,
  event: PublishEvent,
  data: Record<string, unknown>,
  /** The time of an event that does not give one: the publish call's. */
  now: string = new Date().toISOString(),
): Envelope {
  return {
    specversion: "1.0",
    id: event.id ?? randomUUID(),
    source: `mesh://${domain}/${product}`,
    type: event.type,
    time: event.time === undefined ? now : isoTime(event.time),
    dataversion: currentVersion(target.contract).version,
    partitionkey: String(data[target.partitionKey]),
    data,
  };
}

/**
 * The envelope fields a producer's input decides. The others are valid by construction: `data` is
 * what `parsePayload` returned, `type` one it accepted, `source` and `dataversion` come from the
 * declaration and its contract.
 */
const producerFields = envelopeSchema.pick({ id: true, time: true, partitionkey: true });

/** The envelope of one event, or why it cannot be built. */
function envelopeOf(
  domain: string,
  product: string,
  target: EnvelopeTarget,
  event: PublishEvent,
  now?: string,
): Envelope | { reason: string; issues: readonly z.core.$ZodIssue[] } {
  let data: Record<string, unknown>;
  try {
    data = parsePayload(target.contract, event.type, event.data);
  } catch (error) {
    if (!(error instanceof ContractViolationError)) throw error;
    return { reason: error.message, issues: error.issues };
  }
  const key = data[target.partitionKey];
  if (!["string", "number", "bigint", "boolean"].includes(typeof key)) {
    return {
      reason: `partition key field ${target.partitionKey} is missing`,
      issues: [
        { code: "custom", path: [target.partitionKey], message: "partition key is missing", input: key },
      ],
    };
  }
  const envelope = wrapEnvelope(domain, product, target, event, data, now);
  const checked = producerFields.safeParse(envelope);
  if (!checked.success) {
    return { reason: `invalid envelope: ${z.prettifyError(checked.error)}`, issues: checked.error.issues };
  }
  return envelope;
}

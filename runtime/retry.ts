export interface BackoffOptions {
  /** Attempts in all, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** Injected in tests; @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected in tests; @default Math.random */
  readonly random?: () => number;
  /**
   * Whether an entry's error may pass on a later attempt; entries whose error may not are returned
   * at once, unsent, instead of being resent. @default every error is retried
   */
  readonly retryable?: (error: unknown) => boolean;
}

/**
 * Whether a later attempt of a failed AWS call may succeed: throttling, server errors and errors
 * without an HTTP answer (timeouts, resets) may; a refusal of the request itself (validation, a
 * missing resource, no permission) never will, and is not retried.
 */
export function isRetryable(error: unknown): boolean {
  const e = error as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  } | null;
  if (!e || typeof e !== "object") return false;
  if (e.$retryable) return true;
  if (RETRYABLE_ERRORS.has(e.name ?? "")) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === undefined || status === 429 || status >= 500;
}

/** Error names (and per-entry error codes) that mean "try again later". */
const RETRYABLE_ERRORS = new Set([
  "ThrottlingException",
  "TooManyRequestsException",
  "ResourceInUseException",
  "ServiceUnavailableException",
  "InternalFailure",
  "InternalServerError",
  "ProvisionedThroughputExceededException",
]);

/** Whether a per-entry error code of a batch API (Firehose, Kinesis) may pass on a later attempt. */
export const isRetryableCode = (code: string): boolean => RETRYABLE_ERRORS.has(code);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "Full jitter" capped exponential backoff: a uniform delay in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseDelayMs ?? 100;
  const cap = options.maxDelayMs ?? 5000;
  return Math.floor((options.random ?? Math.random)() * Math.min(cap, base * 2 ** attempt));
}

/** What one call did with the entries it was given: the indexes (into that call's entries) that failed. */
export interface PartialResult<E> {
  readonly failed: readonly { readonly index: number; readonly error: E }[];
}

export interface Unsent<T, E> {
  readonly entry: T;
  /** The error of the last attempt. */
  readonly error: E;
  readonly attempts: number;
}

/**
 * Sends entries with a batch API that can fail per entry (Kinesis PutRecords, Firehose
 * PutRecordBatch, ...), resending only the failed entries with backoff until they succeed or the
 * attempts run out. Returns what could not be sent, with the last error of each; never drops one.
 * A call that throws counts as every entry of that call failing with the thrown error.
 */
export async function sendWithRetries<T, E = unknown>(
  entries: readonly T[],
  send: (batch: readonly T[]) => Promise<PartialResult<E>>,
  options: BackoffOptions = {},
): Promise<{ unsent: Unsent<T, E>[]; calls: number }> {
  const maxAttempts = options.maxAttempts ?? 5;
  let pending: { entry: T; error?: E }[] = entries.map((entry) => ({ entry }));
  const unsent: Unsent<T, E>[] = [];
  let calls = 0;
  for (let attempt = 0; attempt < maxAttempts && pending.length; attempt++) {
    if (attempt > 0) await (options.sleep ?? sleep)(backoffDelay(attempt, options));
    const batch = pending.map((p) => p.entry);
    calls++;
    let result: PartialResult<E>;
    try {
      result = await send(batch);
    } catch (error) {
      result = { failed: batch.map((_, index) => ({ index, error: error as E })) };
    }
    const failed = result.failed.map(({ index, error }) => ({
      entry: batch[index]!,
      error,
      attempts: attempt + 1,
    }));
    const final = failed.filter((f) => options.retryable && !options.retryable(f.error));
    unsent.push(...final.map((f) => ({ entry: f.entry, error: f.error as E, attempts: f.attempts })));
    pending = failed.filter((f) => !final.includes(f));
  }
  unsent.push(...pending.map((p) => ({ entry: p.entry, error: p.error as E, attempts: maxAttempts })));
  return { unsent, calls };
}

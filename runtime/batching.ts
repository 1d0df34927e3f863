/** Limits of one batched call: how many entries and how many bytes it may carry. */
export interface BatchLimits {
  readonly maxCount: number;
  /** @default Infinity */
  readonly maxBytes?: number;
}

export class OversizedEntryError extends Error {
  override readonly name = "OversizedEntryError";
  constructor(
    readonly index: number,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`entry ${index} is ${bytes} bytes, more than the ${maxBytes} bytes one call may carry`);
  }
}

/**
 * Splits entries, in order, into the fewest consecutive batches that respect both limits.
 * An entry larger than `maxBytes` on its own can never be sent: it throws rather than being
 * dropped, so the caller decides (refuse the event, send it to a dead-letter sink).
 */
export function chunkByLimits<T>(
  entries: readonly T[],
  sizeOf: (entry: T) => number,
  limits: BatchLimits,
): T[][] {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = sizeOf(entry);
    if (size > maxBytes) throw new OversizedEntryError(index, size, maxBytes);
    if (current.length === limits.maxCount || bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  });
  if (current.length) batches.push(current);
  return batches;
}

/** Groups entries by key, keeping first-seen key order and entry order within a key. */
export function groupBy<T>(entries: readonly T[], keyOf: (entry: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const entry of entries) {
    const key = keyOf(entry);
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return groups;
}

import type { Contract } from "./contract";

/**
 * The vocabulary a domain team writes its declaration in (`domains/<name>/index.ts`).
 * Declarations are plain data; `parseMeshConfig` checks them against each other and the stack
 * config, and everything the platform deploys is derived from the parsed result.
 */

export const Classification = {
  Public: "public",
  Internal: "internal",
  Confidential: "confidential",
  Pii: "pii",
} as const;
export type Classification = (typeof Classification)[keyof typeof Classification];

export const AccessPattern = {
  /** Standard polling consumer sharing the shard's 2 MiB/s read; can replay from any point in retention. */
  SharedReplay: "shared-replay",
  /** A registered stream consumer with its own 2 MiB/s per shard, pushed over HTTP/2; can replay. */
  EnhancedFanOut: "enhanced-fan-out",
  /** Standard consumer whose event source mapping drops records that match none of its filters. */
  Filtered: "filtered",
  /** Relayed to WebSocket clients as it arrives; at-most-once, no replay. */
  PushWithoutReplay: "push-without-replay",
} as const;
export type AccessPattern = (typeof AccessPattern)[keyof typeof AccessPattern];

export const StartingPosition = {
  TrimHorizon: "TRIM_HORIZON",
  Latest: "LATEST",
  AtTimestamp: "AT_TIMESTAMP",
} as const;
export type StartingPosition = (typeof StartingPosition)[keyof typeof StartingPosition];

/** How the publisher writes the events of one partition key (see `runtime/publisher.ts`). */
export const Ordering = {
  /** A later event of a key is never written before an earlier one: for products whose consumers
   * apply state (an update written before the creation it follows would be overwritten by it). */
  PerKey: "per-key",
  /** Events are batched freely and a resent event may land after later ones of its key: for
   * append-only facts that consumers order by the envelope's `time`. */
  None: "none",
} as const;
export type Ordering = (typeof Ordering)[keyof typeof Ordering];

export type Capacity =
  | { readonly mode: "on-demand" }
  | {
      readonly mode: "provisioned";
      /** Declared peak write throughput in MiB/s. */
      readonly writeMiBps: number;
      /** Declared peak write rate in records/s. */
      readonly writeRecordsPerSecond: number;
    };

export interface StreamProductDeclaration {
  readonly kind: "stream";
  /** Unique within the domain; lower-case words joined by hyphens. */
  readonly name: string;
  readonly description: string;
  readonly contract: Contract;
  /** A top-level payload field present and required in every event type of the current version. */
  readonly partitionKey: string;
  /** @default "per-key": safe for consumers that apply state; declare "none" for append-only facts */
  readonly ordering?: Ordering;
  /** @default the stack's `mesh:defaultRetentionHours` */
  readonly retentionHours?: number;
  readonly capacity: Capacity;
  readonly classification: Classification;
  readonly tags?: Readonly<Record<string, string>>;
  /** Also keep the events at rest: landed from the stream into the product's table (Firehose). */
  readonly atRest?: AtRestOptions;
}

/** The partition every at-rest table can use: the UTC date of the event's `time`. */
export const EVENT_DATE = "event_date";

/** How a product is kept at rest: a Parquet table in S3, catalogued in Glue, shared through Lake Formation. */
export interface AtRestOptions {
  /** Event types of the current contract version whose payloads become rows. @default all of them */
  readonly eventTypes?: readonly string[];
  /**
   * Partition columns, in order: `event_date` or required, non-pii payload fields of every stored
   * event type (contract field names). @default ["event_date"]
   */
  readonly partitionBy?: readonly string[];
}

/**
 * A product kept only at rest: a table its domain's own pipelines fill (from its store, next to
 * the stream products). Its columns come from the contract, like a stream product's.
 */
export interface AtRestProductDeclaration {
  readonly kind: "at-rest";
  /** Unique within the domain (stream and at-rest products share one namespace). */
  readonly name: string;
  readonly description: string;
  readonly contract: Contract;
  readonly classification: Classification;
  readonly tags?: Readonly<Record<string, string>>;
  readonly atRest?: AtRestOptions;
}

export type ProductDeclaration = StreamProductDeclaration | AtRestProductDeclaration;

/** A condition on one payload field, translated to a Lambda event filter pattern. */
export type FieldCondition =
  | { readonly equals: string | number | boolean }
  | { readonly anyOf: readonly (string | number)[] }
  | { readonly prefix: string }
  | { readonly numeric: readonly [">" | ">=" | "<" | "<=" | "=", number] }
  | { readonly exists: boolean };

/** One filter: an event is kept when its type is listed (if given) and every condition holds. */
export interface FilterRule {
  readonly eventTypes?: readonly string[];
  /** Payload field path (dots for nested fields) to condition. */
  readonly where?: Readonly<Record<string, FieldCondition>>;
}

export type Access =
  | { readonly pattern: typeof AccessPattern.SharedReplay }
  | { readonly pattern: typeof AccessPattern.EnhancedFanOut }
  | { readonly pattern: typeof AccessPattern.Filtered; readonly filters: readonly FilterRule[] }
  | { readonly pattern: typeof AccessPattern.PushWithoutReplay };

/** Event source mapping settings; every field has a safe default (see `platform/mesh.ts`). */
export interface DeliveryOptions {
  /** @default "TRIM_HORIZON" */
  readonly startingPosition?: StartingPosition;
  /** ISO timestamp, required with AT_TIMESTAMP (replay from a point in time). */
  readonly startingTimestamp?: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 1 */
  readonly batchingWindowSeconds?: number;
  /** @default 5 */
  readonly maxRetryAttempts?: number;
  /** @default 21600 (6 h) */
  readonly maxRecordAgeSeconds?: number;
  /** @default 1 */
  readonly parallelizationFactor?: number;
  /** @default true */
  readonly bisectOnError?: boolean;
  /**
   * Timeout of the consuming function. Every invocation the mapping may make for one batch must fit
   * in `maxRecordAgeSeconds`, or the records expire before their retries run. @default 60
   */
  readonly timeoutSeconds?: number;
}

export interface SubscriptionDeclaration {
  /** @default "stream" */
  readonly kind?: "stream";
  /** Unique within the consuming domain; names the function, its role and its mapping. */
  readonly name: string;
  /** `<domain>/<product>` of the product subscribed to. */
  readonly product: string;
  /** Path of the handler module, relative to the domain's folder (exports `handler`). */
  readonly handler: string;
  readonly access: Access;
  readonly delivery?: DeliveryOptions;
}

/**
 * Reading a product at rest, through the central catalog: Lake Formation grants on its table (to
 * the consumer's account) and a resource link in the consumer's account.
 */
export interface AtRestSubscriptionDeclaration {
  readonly kind: "at-rest";
  /** Unique within the consuming domain (stream and at-rest subscriptions share one namespace). */
  readonly name: string;
  /** `<domain>/<product>` of a product at rest (an at-rest product or a stream's at-rest copy). */
  readonly product: string;
  /** Table columns to read (snake_case, as in the table). @default every column it may read */
  readonly columns?: readonly string[];
  /**
   * Read the columns the contract marks as personal data. Only for products classified `pii`;
   * without it those columns are withheld. @default false
   */
  readonly includePii?: boolean;
}

export interface DomainDeclaration {
  /** Unique in the mesh; also the unit name a team's stack selects with `mesh:units`. */
  readonly name: string;
  readonly description: string;
  readonly owner: { readonly team: string; readonly contact: string };
  /** Alias of the account (a key of `mesh:accounts`) the domain deploys into. */
  readonly account: string;
  readonly products: readonly ProductDeclaration[];
  readonly subscriptions: readonly (SubscriptionDeclaration | AtRestSubscriptionDeclaration)[];
}

export function defineDomain(domain: DomainDeclaration): DomainDeclaration {
  return domain;
}

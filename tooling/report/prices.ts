/**
 * The one price table the plan's cost estimate uses. Dated list prices, not a quote.
 *
 * The figures are the us-east-1 (N. Virginia) list prices: they were not fetched from AWS when this
 * was written (no network in the build), but taken from the pricing pages named in `source` as
 * known at `asOf`, with the on-demand figures cross-checked against the AWS Big Data Blog post
 * "Kinesis On-demand Advantage saves 60%+ on streaming costs" (2026-03-09, us-east-1 prices).
 * The mesh runs in eu-west-1, where list prices are typically a little higher: re-check every
 * figure on the pricing pages (or with the AWS Price List API) before using an estimate for a
 * budget, and update `asOf` when you do.
 *
 * On-demand figures are On-demand Standard; On-demand Advantage (account-level commitment of
 * 25 MiB/s) is priced differently and is not modelled.
 */
export const kinesisPrices = {
  /** The region the mesh deploys to and the estimate is for. */
  region: "eu-west-1",
  /** The region the figures below are list prices of. */
  pricedRegion: "us-east-1",
  currency: "USD",
  asOf: "2026-11-21",
  source:
    "https://aws.amazon.com/kinesis/data-streams/pricing/ (Provisioned and On-demand Standard tabs); " +
    "https://aws.amazon.com/kms/pricing/",
  caveat:
    "us-east-1 list prices used for eu-west-1, recalled rather than fetched: re-check on the AWS pricing pages before budgeting.",
  provisioned: {
    /** Per shard-hour. */
    shardHour: 0.015,
    /** Per million PUT payload units (each record counts one unit per started 25 KB). */
    putPayloadUnitsPerMillion: 0.014,
    /** Extended retention (beyond 24 h, up to 7 days), per shard-hour. */
    extendedRetentionShardHour: 0.02,
    /** Long-term retention (beyond 7 days), per GB-month stored. */
    longTermRetentionGbMonth: 0.023,
    /** Enhanced fan-out, per consumer-shard-hour. */
    efoConsumerShardHour: 0.015,
    /** Enhanced fan-out data retrievals, per GB. */
    efoGbRetrieved: 0.013,
  },
  onDemand: {
    /** Per stream-hour (On-demand Standard). */
    streamHour: 0.04,
    /** Data in, per GB written (each record rounded up to 1 KB). */
    gbWritten: 0.08,
    /** Data out by standard consumers, per GB read. */
    gbRead: 0.04,
    /** Enhanced fan-out data retrievals, per GB (no consumer-shard-hour charge on demand). */
    efoGbRetrieved: 0.05,
    /** Extended retention (beyond 24 h, up to 7 days), per GB-month stored. */
    extendedRetentionGbMonth: 0.1,
    /** Long-term retention (beyond 7 days), per GB-month stored. */
    longTermRetentionGbMonth: 0.023,
  },
  kms: {
    /** A customer-managed key, per month. */
    keyMonth: 1,
    /**
     * Each of a key's first two rotations adds this per month; later rotations add nothing
     * (https://aws.amazon.com/kms/pricing/). Yearly automatic rotation reaches the cap in two years.
     */
    rotationMonth: 1,
    /** Rotations that are billed, at most. */
    billedRotations: 2,
    /** Per 10,000 API requests (symmetric keys). */
    per10kRequests: 0.03,
  },
} as const;

/** A price table of the same shape, e.g. re-checked eu-west-1 figures passed to `streamCosts`. */
export type PriceTable = {
  readonly region: string;
  readonly pricedRegion: string;
  readonly currency: string;
  readonly asOf: string;
  readonly source: string;
  readonly caveat: string;
  readonly provisioned: { readonly [K in keyof (typeof kinesisPrices)["provisioned"]]: number };
  readonly onDemand: { readonly [K in keyof (typeof kinesisPrices)["onDemand"]]: number };
  readonly kms: { readonly [K in keyof (typeof kinesisPrices)["kms"]]: number };
};

/**
 * List prices of what a domain pays for its data at rest while idle, for `atRestCosts`. Like
 * `kinesisPrices`: us-east-1 (N. Virginia) list prices recalled from the pricing pages named in
 * `source` as known at `asOf`, not fetched (no network in the build), applied to eu-west-1 where
 * they are typically a little higher. Re-check every figure before budgeting.
 */
export const atRestPrices = {
  region: "eu-west-1",
  pricedRegion: "us-east-1",
  currency: "USD",
  asOf: "2026-12-03",
  source:
    "https://aws.amazon.com/rds/aurora/pricing/ (Serverless v2, Aurora Standard); " +
    "https://aws.amazon.com/firehose/pricing/; https://aws.amazon.com/s3/pricing/; " +
    "https://aws.amazon.com/glue/pricing/ (Data Catalog); https://aws.amazon.com/dynamodb/pricing/on-demand/; " +
    "https://aws.amazon.com/secrets-manager/pricing/; https://aws.amazon.com/kms/pricing/",
  caveat:
    "us-east-1 list prices used for eu-west-1, recalled rather than fetched: re-check on the AWS pricing pages before budgeting.",
  aurora: {
    /** Aurora Serverless v2, Aurora Standard configuration, per ACU-hour. */
    acuHour: 0.12,
    /** Aurora Standard storage, per GB-month. */
    storageGbMonth: 0.1,
  },
  firehose: {
    /** Ingestion (Kinesis Data Streams or Direct PUT source), per GB, first 500 TB a month. */
    ingestionGb: 0.029,
    /** Ingestion is billed per record rounded up to this many bytes. */
    ingestionRecordRoundingBytes: 5 * 1024,
    /** Record format conversion (JSON to Parquet), per GB converted. */
    formatConversionGb: 0.018,
    /** Dynamic partitioning, per GB delivered. */
    dynamicPartitioningGb: 0.02,
  },
  s3: {
    /** S3 Standard, first 50 TB, per GB-month. */
    standardGbMonth: 0.023,
  },
  glue: {
    /** Data Catalog objects (databases, tables, partitions, connections) stored free each month. */
    freeObjects: 1_000_000,
    /** Per 100,000 objects beyond the free ones, per month. */
    per100kObjectsMonth: 1,
  },
  dynamodb: {
    /** On-demand (Standard table class) storage, per GB-month beyond the first 25 GB of the account. */
    storageGbMonth: 0.25,
    /** Continuous backups (point-in-time recovery), per GB-month. */
    pitrGbMonth: 0.2,
  },
  secretsManager: {
    /** Per secret-month (Aurora's managed master password is one). */
    secretMonth: 0.4,
  },
  kms: kinesisPrices.kms,
} as const;

export type AtRestPriceTable = typeof atRestPrices;

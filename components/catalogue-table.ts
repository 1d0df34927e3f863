import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { OUTBOX_TABLE_KEYS, OUTBOX_TTL_ATTRIBUTE } from "../platform/outbox";

export const StreamViewType = {
  NewImage: "NEW_IMAGE",
  NewAndOldImages: "NEW_AND_OLD_IMAGES",
} as const;
export type StreamViewType = (typeof StreamViewType)[keyof typeof StreamViewType];

export interface CatalogueTableArgs {
  /** Physical table name. */
  readonly tableName: string;
  /** The domain's customer-managed key: table, indexes, stream and backups are encrypted with it. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /**
   * What each stream record carries. The outbox relay reads new images only.
   * @default NEW_IMAGE
   */
  readonly streamViewType?: StreamViewType;
  /** Deletion protection on, protect and retain (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A catalogue service's own store, shaped for the transactional outbox (`platform/outbox.ts`):
 * string keys `pk` / `sk`, on-demand capacity, point-in-time recovery (which the Glue DynamoDB
 * export connector also needs), SSE with the domain's key, TTL on `expiresAt` for outbox items, and
 * a stream the outbox relay reads.
 */
export function createCatalogueTable(
  name: string,
  args: CatalogueTableArgs,
  opts: pulumi.CustomResourceOptions,
): aws.dynamodb.Table {
  return new aws.dynamodb.Table(
    name,
    {
      name: args.tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: OUTBOX_TABLE_KEYS.partition,
      rangeKey: OUTBOX_TABLE_KEYS.sort,
      attributes: [
        { name: OUTBOX_TABLE_KEYS.partition, type: "S" },
        { name: OUTBOX_TABLE_KEYS.sort, type: "S" },
      ],
      ttl: { attributeName: OUTBOX_TTL_ATTRIBUTE, enabled: true },
      streamEnabled: true,
      streamViewType: args.streamViewType ?? StreamViewType.NewImage,
      serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: args.protect ?? false,
      tags: { ...args.tags },
    },
    args.protect ? pulumi.mergeOptions(opts, { protect: true, retainOnDelete: true }) : opts,
  );
}

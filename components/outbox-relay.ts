import * as pulumi from "@pulumi/pulumi";
import { STREAM_WRITE_ACTIONS, type Statement } from "../platform/iam";
import { DeliveryDefaults, type Delivery } from "../platform/mesh";
import { outboxFilterPattern } from "../platform/outbox";
import { iteratorAgeThresholdMs } from "../platform/sizing";
import { TagKeys } from "../platform/tags";
import { FAILURE_RETENTION_DAYS } from "./consumer-domain";
import { sid } from "./kms";
import { MeshFunction } from "./lambda";
import { SecureBucket } from "./secure-bucket";
import { createStreamMapping } from "./stream-mapping";

export const OUTBOX_RELAY_TYPE = "mesh:outbox:OutboxRelay";

/** DynamoDB Streams keeps records 24 hours (docs/outbox.md). */
export const DYNAMODB_STREAM_RETENTION_HOURS = 24;

/** A product the relay publishes to: a stream of the relay's own domain. */
export interface RelayedProduct {
  /** Product name, as in the outbox items and the Publisher (`song-events`). */
  readonly name: string;
  /** `<domain>/<product>`: the stream must still carry this `mesh:product` tag to be written. */
  readonly ref: string;
  readonly streamArn: pulumi.Input<string>;
  /** The product's key: the relay may generate data keys with it only through Kinesis for that stream. */
  readonly keyArn: pulumi.Input<string>;
}

export interface OutboxRelayArgs {
  /** Physical function and role name (`mesh-songs-outbox-relay`). */
  readonly functionName: string;
  /** Absolute path of the relay's handler module, given by the domain (it compiles in the contracts). */
  readonly entry: string;
  readonly accountId: string;
  readonly region: string;
  /** The table holding the outbox items; its name labels the alarms. */
  readonly tableName: string;
  readonly tableArn: pulumi.Input<string>;
  readonly tableStreamArn: pulumi.Input<string>;
  /** The domain's key: it encrypts the table (so the stream) and the failure bucket. */
  readonly dataKeyArn: pulumi.Input<string>;
  readonly products: readonly RelayedProduct[];
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Overrides of the mesh's mapping defaults. @default DeliveryDefaults */
  readonly delivery?: Partial<Delivery>;
  /** Protect and retain the failure bucket (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The outbox relay of one table: a function (`runtime/outbox-relay.ts`) on the table's DynamoDB
 * stream, filtered to outbox items, with the mesh's safe mapping (bounded retries and age, bisect,
 * partial batch responses, an S3 failure destination) and a role that may read exactly that
 * table's stream and write exactly the given products' streams.
 */
export class OutboxRelay extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly failureBucketName: pulumi.Output<string>;

  constructor(name: string, args: OutboxRelayArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider) {
      throw new Error(`OutboxRelay ${name}: a provider for account ${args.accountId} is required`);
    }
    if (args.products.length === 0) {
      throw new Error(`OutboxRelay ${name}: no products to publish to`);
    }
    super(OUTBOX_RELAY_TYPE, name, {}, opts);

    const failures = new SecureBucket(
      `${name}-failures`,
      {
        kmsKeyArn: args.dataKeyArn,
        expireAfterDays: FAILURE_RETENTION_DAYS,
        protect: args.protect,
        tags: args.tags,
      },
      { parent: this },
    );
    const fn = new MeshFunction(
      name,
      {
        functionName: args.functionName,
        roleName: args.functionName,
        entry: args.entry,
        description: `Publishes the outbox items of ${args.tableName} to ${args.products.map((p) => p.ref).join(", ")}`,
        accountId: args.accountId,
        region: args.region,
        environment: {
          OUTBOX_PRODUCT_STREAMS: pulumi.jsonStringify(
            Object.fromEntries(args.products.map((product) => [product.name, product.streamArn])),
          ),
        },
        statements: relayStatements(args, failures.arn),
        tags: args.tags,
      },
      { parent: this },
    );
    createStreamMapping(name, {
      functionArn: fn.arn,
      functionName: fn.functionName,
      eventSourceArn: args.tableStreamArn,
      delivery: { ...DeliveryDefaults, ...args.delivery },
      failureBucketArn: failures.arn,
      filterPatterns: [outboxFilterPattern()],
      source: `the ${args.tableName} table's stream`,
      reader: args.functionName,
      iteratorAgeThresholdMs: iteratorAgeThresholdMs(DYNAMODB_STREAM_RETENTION_HOURS),
      alarmTopicArn: args.alarmTopicArn,
      tags: args.tags,
      parent: this,
      dependsOn: [fn.rolePolicy],
    });

    this.functionName = fn.functionName;
    this.roleArn = fn.roleArn;
    this.failureBucketName = failures.bucketName;
    this.registerOutputs({
      functionName: this.functionName,
      roleArn: this.roleArn,
      failureBucketName: this.failureBucketName,
    });
  }
}

/** @internal Read exactly the table's stream; write exactly the products' streams; keep failures. */
function relayStatements(args: OutboxRelayArgs, failureBucketArn: pulumi.Output<string>): Statement[] {
  const via = (service: string) => ({ "kms:ViaService": `${service}.${args.region}.amazonaws.com` });
  return [
    {
      Sid: "ReadTableStream",
      Effect: "Allow",
      Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
      Resource: args.tableStreamArn,
    },
    {
      // Scoped as the DynamoDB guide's Lambda example scopes it: this table's streams only.
      Sid: "ListTableStreams",
      Effect: "Allow",
      Action: "dynamodb:ListStreams",
      Resource: pulumi.interpolate`${args.tableArn}/stream/*`,
    },
    {
      Sid: "DecryptTableStream",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: args.dataKeyArn,
      Condition: { StringEquals: via("dynamodb") },
    },
    ...args.products.flatMap((product): Statement[] => [
      {
        Sid: sid(`publish ${product.ref}`),
        Effect: "Allow",
        Action: [...STREAM_WRITE_ACTIONS],
        Resource: product.streamArn,
        // ABAC: a stream re-tagged to another product stops accepting the relay's writes.
        Condition: { StringEquals: { [`aws:ResourceTag/${TagKeys.Product}`]: product.ref } },
      },
      {
        Sid: sid(`encrypt ${product.ref}`),
        Effect: "Allow",
        Action: "kms:GenerateDataKey",
        Resource: product.keyArn,
        Condition: {
          StringEquals: { ...via("kinesis"), "kms:EncryptionContext:aws:kinesis:arn": product.streamArn },
        },
      },
    ]),
    {
      Sid: "KeepFailedBatches",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: pulumi.interpolate`${failureBucketArn}/*`,
    },
    { Sid: "ListFailureBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: failureBucketArn },
    {
      Sid: "EncryptFailedBatches",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: args.dataKeyArn,
      Condition: { StringEquals: via("s3") },
    },
  ];
}

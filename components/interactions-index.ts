import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRoot, policyDocument, serviceTrust, type Statement } from "../platform/iam";
import { SecureBucket } from "./secure-bucket";

export const INTERACTIONS_INDEX_TYPE = "mesh:analytics:InteractionsIndex";

/** OpenSearch settings the component does not make configurable. */
export const OpenSearchSettings = {
  engineVersion: "OpenSearch_2.19",
  /** TLS 1.2 or later with forward secrecy; the newest value the provider documents. */
  tlsSecurityPolicy: "Policy-Min-TLS-1-2-PFS-2023-10",
  /** Smallest gp3 volume OpenSearch accepts. */
  minEbsVolumeGb: 10,
} as const;

/** How Firehose delivers to the index (docs/aws-facts.md#firehose-and-personalize). */
export const DeliverySettings = {
  indexName: "interactions",
  indexRotationPeriod: "OneDay",
  /** Dashboards want fresh data: flush every minute or every 5 MB, whichever comes first. */
  bufferingIntervalSeconds: 60,
  bufferingSizeMb: 5,
  /** The service default, inside the 0–7,200 s range; then the documents go to the backup bucket. */
  retryDurationSeconds: 300,
  s3BackupMode: "FailedDocumentsOnly",
  backupPrefix: "interactions/",
  logRetentionDays: 30,
} as const;

export interface InteractionsIndexArgs {
  /** The account the index lives in: trusted by the admin role, bounds the Firehose trust, part of the domain's ARN. */
  readonly accountId: string;
  /** The region the index lives in (domain ARN, KMS `kms:ViaService` conditions). */
  readonly region: string;
  /** The domain's customer-managed data key: the index at rest, the delivery stream and the backup bucket. */
  readonly dataKeyArn: pulumi.Input<string>;
  /** Where the alarms notify. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Protect and retain the OpenSearch domain and the backup bucket (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** Instance type of the data nodes. @default "t3.small.search" */
  readonly instanceType?: string;
  /** Data nodes: 1, or an even number (two zones) or a multiple of 3 (three zones). @default 1 */
  readonly instanceCount?: number;
  /** gp3 volume of each data node, in GiB (at least 10). @default 20 */
  readonly ebsVolumeGb?: number;
  /** IAM role made the fine-grained access control master user. @default none: a role assumable from the account is created */
  readonly adminRoleArn?: pulumi.Input<string>;
  /** Name of the OpenSearch domain (3–28 lower-case letters, digits, hyphens). @default the component name */
  readonly domainName?: string;
  /** Days failed documents are kept in the backup bucket. @default 30 */
  readonly backupExpireAfterDays?: number;
}

/**
 * Interactions indexed for dashboards: a Direct PUT Firehose delivery stream (the ingestor Lambda
 * writes to it with PutRecordBatch) delivering into an OpenSearch domain with fine-grained access
 * control, encrypted with the domain's data key, with failed documents kept in a backup bucket,
 * delivery logs, and alarms on delivery and cluster health.
 *
 * With fine-grained access control the IAM access policy is not enough: once, after the first
 * deployment, the admin role maps the delivery role (`deliveryRoleArn`) to an OpenSearch role with
 * write permission on `interactions-*` through the security API (`_plugins/_security/api/rolesmapping`).
 * The AWS provider does not manage that mapping; until it exists, deliveries fail with 403 and the
 * documents land in the backup bucket.
 */
export class InteractionsIndex extends pulumi.ComponentResource {
  public readonly deliveryStreamName: pulumi.Output<string>;
  public readonly deliveryStreamArn: pulumi.Output<string>;
  public readonly domainEndpoint: pulumi.Output<string>;
  public readonly domainArn: pulumi.Output<string>;
  /** The role Firehose delivers with: to be mapped to an OpenSearch backend role (see the class doc). */
  public readonly deliveryRoleArn: pulumi.Output<string>;
  /** The fine-grained access control master user. */
  public readonly adminRoleArn: pulumi.Output<string>;

  constructor(name: string, args: InteractionsIndexArgs, opts: pulumi.ComponentResourceOptions) {
    const prefix = `InteractionsIndex ${name}`;
    if (!opts.provider) {
      throw new Error(`${prefix}: a provider for account ${args.accountId} is required`);
    }
    const domainName = args.domainName ?? name;
    if (!/^[a-z][a-z0-9-]{2,27}$/.test(domainName)) {
      throw new Error(
        `${prefix}: domain name ${domainName} must be 3 to 28 lower-case letters, digits or hyphens, starting with a letter`,
      );
    }
    const instanceCount = args.instanceCount ?? 1;
    const zones = availabilityZones(instanceCount);
    if (zones === undefined) {
      throw new Error(
        `${prefix}: instanceCount must be 1, an even number or a multiple of 3 (it is ${instanceCount})`,
      );
    }
    const ebsVolumeGb = args.ebsVolumeGb ?? 20;
    if (!Number.isInteger(ebsVolumeGb) || ebsVolumeGb < OpenSearchSettings.minEbsVolumeGb) {
      throw new Error(
        `${prefix}: ebsVolumeGb must be a whole number of at least ${OpenSearchSettings.minEbsVolumeGb} (it is ${ebsVolumeGb})`,
      );
    }
    super(INTERACTIONS_INDEX_TYPE, name, {}, opts);

    const tags = args.tags;
    const stateful: pulumi.CustomResourceOptions = args.protect
      ? { parent: this, protect: true, retainOnDelete: true }
      : { parent: this };
    // Built rather than read from the domain: the domain's own access policy must name it.
    const ownArn = `arn:aws:es:${args.region}:${args.accountId}:domain/${domainName}`;

    const deliveryRole = new aws.iam.Role(
      `${name}-delivery-role`,
      {
        description: `Firehose delivery of interactions into OpenSearch domain ${domainName}`,
        assumeRolePolicy: serviceTrust("firehose.amazonaws.com", args.accountId),
        maxSessionDuration: 3600,
        tags: { ...tags },
      },
      { parent: this },
    );
    const adminRoleArn =
      args.adminRoleArn !== undefined
        ? pulumi.output(args.adminRoleArn)
        : new aws.iam.Role(
            `${name}-admin`,
            {
              description: `Master user of OpenSearch domain ${domainName} (fine-grained access control)`,
              assumeRolePolicy: policyDocument([
                {
                  Effect: "Allow",
                  Principal: { AWS: accountRoot(args.accountId) },
                  Action: "sts:AssumeRole",
                },
              ]),
              maxSessionDuration: 3600,
              tags: { ...tags },
            },
            { parent: this },
          ).arn;

    const domain = new aws.opensearch.Domain(
      `${name}-domain`,
      {
        domainName,
        engineVersion: OpenSearchSettings.engineVersion,
        clusterConfig: {
          instanceType: args.instanceType ?? "t3.small.search",
          instanceCount,
          zoneAwarenessEnabled: zones > 1,
          ...(zones > 1 ? { zoneAwarenessConfig: { availabilityZoneCount: zones } } : {}),
        },
        ebsOptions: { ebsEnabled: true, volumeType: "gp3", volumeSize: ebsVolumeGb },
        encryptAtRest: { enabled: true, kmsKeyId: args.dataKeyArn },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: {
          enforceHttps: true,
          tlsSecurityPolicy: OpenSearchSettings.tlsSecurityPolicy,
        },
        advancedSecurityOptions: {
          enabled: true,
          internalUserDatabaseEnabled: false,
          masterUserOptions: { masterUserArn: adminRoleArn },
        },
        softwareUpdateOptions: { autoSoftwareUpdateEnabled: true },
        accessPolicies: policyDocument([
          {
            Sid: "FirehoseIndexes",
            Effect: "Allow",
            Principal: { AWS: deliveryRole.arn },
            Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"],
            Resource: `${ownArn}/*`,
          },
          {
            Sid: "AdminManages",
            Effect: "Allow",
            Principal: { AWS: adminRoleArn },
            Action: "es:ESHttp*",
            Resource: `${ownArn}/*`,
          },
        ]),
        tags: { ...tags },
      },
      stateful,
    );

    const backup = new SecureBucket(
      `${name}-backup`,
      {
        kmsKeyArn: args.dataKeyArn,
        expireAfterDays: args.backupExpireAfterDays ?? 30,
        protect: args.protect ?? false,
        tags,
      },
      { parent: this },
    );

    // Not encrypted with the data key: CloudWatch Logs needs a key policy grant to its service
    // principal, and delivery errors name documents without holding them.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-delivery-logs`,
      {
        name: `/aws/kinesisfirehose/${domainName}`,
        retentionInDays: DeliverySettings.logRetentionDays,
        tags: { ...tags },
      },
      { parent: this },
    );
    const destinationLog = new aws.cloudwatch.LogStream(
      `${name}-destination-log`,
      { logGroupName: logGroup.name, name: "DestinationDelivery" },
      { parent: this },
    );
    const backupLog = new aws.cloudwatch.LogStream(
      `${name}-backup-log`,
      { logGroupName: logGroup.name, name: "BackupDelivery" },
      { parent: this },
    );

    const deliveryPolicy = new aws.iam.RolePolicy(
      `${name}-delivery-policy`,
      {
        role: deliveryRole.name,
        policy: policyDocument(
          deliveryStatements({
            domainArn: domain.arn,
            bucketArn: backup.arn,
            dataKeyArn: args.dataKeyArn,
            region: args.region,
            logStreamArns: [destinationLog.arn, backupLog.arn],
          }),
        ),
      },
      { parent: this },
    );

    const deliveryStream = new aws.kinesis.FirehoseDeliveryStream(
      `${name}-delivery`,
      {
        destination: "opensearch",
        // Direct PUT: the ingestor writes with PutRecordBatch, so Firehose encrypts at rest itself.
        serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: args.dataKeyArn },
        opensearchConfiguration: {
          domainArn: domain.arn,
          indexName: DeliverySettings.indexName,
          indexRotationPeriod: DeliverySettings.indexRotationPeriod,
          roleArn: deliveryRole.arn,
          bufferingInterval: DeliverySettings.bufferingIntervalSeconds,
          bufferingSize: DeliverySettings.bufferingSizeMb,
          retryDuration: DeliverySettings.retryDurationSeconds,
          s3BackupMode: DeliverySettings.s3BackupMode,
          s3Configuration: {
            bucketArn: backup.arn,
            roleArn: deliveryRole.arn,
            kmsKeyArn: args.dataKeyArn,
            prefix: DeliverySettings.backupPrefix,
            cloudwatchLoggingOptions: {
              enabled: true,
              logGroupName: logGroup.name,
              logStreamName: backupLog.name,
            },
          },
          cloudwatchLoggingOptions: {
            enabled: true,
            logGroupName: logGroup.name,
            logStreamName: destinationLog.name,
          },
        },
        tags: { ...tags },
      },
      // Firehose checks at creation that its role can describe the domain and write the bucket.
      { parent: this, dependsOn: [deliveryPolicy] },
    );

    createAlarms(name, {
      deliveryStreamName: deliveryStream.name,
      domainName: domain.domainName,
      accountId: args.accountId,
      ebsVolumeGb,
      alarmTopicArn: args.alarmTopicArn,
      tags,
      parent: this,
    });

    this.deliveryStreamName = deliveryStream.name;
    this.deliveryStreamArn = deliveryStream.arn;
    this.domainEndpoint = domain.endpoint;
    this.domainArn = domain.arn;
    this.deliveryRoleArn = deliveryRole.arn;
    this.adminRoleArn = adminRoleArn;
    this.registerOutputs({
      deliveryStreamName: this.deliveryStreamName,
      deliveryStreamArn: this.deliveryStreamArn,
      domainEndpoint: this.domainEndpoint,
      domainArn: this.domainArn,
      deliveryRoleArn: this.deliveryRoleArn,
      adminRoleArn: this.adminRoleArn,
    });
  }
}

/** Zones a domain of `instanceCount` data nodes spreads over; undefined when none fits. */
export function availabilityZones(instanceCount: number): 1 | 2 | 3 | undefined {
  if (!Number.isInteger(instanceCount) || instanceCount < 1) return undefined;
  if (instanceCount === 1) return 1;
  if (instanceCount % 3 === 0) return 3;
  if (instanceCount % 2 === 0) return 2;
  return undefined;
}

/** Threshold of the DataFreshness alarm: two full rounds of buffering and retrying. */
export const DATA_FRESHNESS_THRESHOLD_SECONDS =
  2 * (DeliverySettings.bufferingIntervalSeconds + DeliverySettings.retryDurationSeconds);

/** FreeStorageSpace (MiB, per node) below which a node is about to block writes: a quarter of its volume. */
export const freeStorageThresholdMiB = (ebsVolumeGb: number): number => (ebsVolumeGb * 1024) / 4;

interface DeliveryStatementsArgs {
  readonly domainArn: pulumi.Input<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly dataKeyArn: pulumi.Input<string>;
  readonly region: string;
  readonly logStreamArns: readonly pulumi.Input<string>[];
}

/**
 * @internal What Firehose needs to deliver to OpenSearch and back up to S3
 * (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html), scoped to this
 * component's domain, bucket, key and log streams. No statement needs Resource "*".
 */
export function deliveryStatements(args: DeliveryStatementsArgs): Statement[] {
  const objects = pulumi.interpolate`${args.bucketArn}/*`;
  return [
    {
      Sid: "IndexIntoDomain",
      Effect: "Allow",
      Action: [
        "es:DescribeDomain",
        "es:DescribeDomains",
        "es:DescribeDomainConfig",
        "es:ESHttpPost",
        "es:ESHttpPut",
        "es:ESHttpGet",
      ],
      Resource: [args.domainArn, pulumi.interpolate`${args.domainArn}/*`],
    },
    {
      Sid: "LocateBackupBucket",
      Effect: "Allow",
      Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      Resource: args.bucketArn,
    },
    {
      Sid: "WriteFailedDocuments",
      Effect: "Allow",
      Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
      Resource: objects,
    },
    {
      Sid: "EncryptBackupsThroughS3",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: args.dataKeyArn,
      Condition: {
        StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` },
        // The bucket's ARN with an S3 Bucket Key (SecureBucket turns it on), the object's without.
        StringLike: { "kms:EncryptionContext:aws:s3:arn": pulumi.all([args.bucketArn, objects]) },
      },
    },
    {
      Sid: "WriteDeliveryLogs",
      Effect: "Allow",
      Action: "logs:PutLogEvents",
      Resource: [...args.logStreamArns],
    },
  ];
}

interface AlarmArgs {
  readonly deliveryStreamName: pulumi.Output<string>;
  readonly domainName: pulumi.Output<string>;
  readonly accountId: string;
  readonly ebsVolumeGb: number;
  readonly alarmTopicArn: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
  readonly parent: pulumi.Resource;
}

/** @internal Delivery (Firehose) and cluster (OpenSearch) health. */
function createAlarms(name: string, args: AlarmArgs): void {
  const alarm = (
    suffix: string,
    metric: Pick<
      aws.cloudwatch.MetricAlarmArgs,
      | "namespace"
      | "dimensions"
      | "metricName"
      | "statistic"
      | "period"
      | "comparisonOperator"
      | "threshold"
      | "treatMissingData"
      | "alarmDescription"
    >,
  ) =>
    new aws.cloudwatch.MetricAlarm(
      `${name}-${suffix}`,
      {
        evaluationPeriods: 1,
        alarmActions: [args.alarmTopicArn],
        okActions: [args.alarmTopicArn],
        tags: { ...args.tags },
        ...metric,
      },
      { parent: args.parent },
    );
  const firehose = { namespace: "AWS/Firehose", dimensions: { DeliveryStreamName: args.deliveryStreamName } };
  const cluster = {
    namespace: "AWS/ES",
    dimensions: { DomainName: args.domainName, ClientId: args.accountId },
  };

  // Success is the share of delivered documents per attempt; no traffic, no datapoints.
  alarm("delivery-failing", {
    ...firehose,
    metricName: "DeliveryToAmazonOpenSearchService.Success",
    statistic: "Minimum",
    period: 300,
    comparisonOperator: "LessThanThreshold",
    threshold: 1,
    treatMissingData: "notBreaching",
    alarmDescription:
      "Firehose failed to index interactions into OpenSearch; failed documents go to the backup bucket.",
  });
  alarm("delivery-stale", {
    ...firehose,
    metricName: "DeliveryToAmazonOpenSearchService.DataFreshness",
    statistic: "Maximum",
    period: 300,
    comparisonOperator: "GreaterThanThreshold",
    threshold: DATA_FRESHNESS_THRESHOLD_SECONDS,
    treatMissingData: "notBreaching",
    alarmDescription: `The oldest interaction waiting in Firehose is older than ${DATA_FRESHNESS_THRESHOLD_SECONDS} s: dashboards are behind.`,
  });
  alarm("cluster-red", {
    ...cluster,
    metricName: "ClusterStatus.red",
    statistic: "Maximum",
    period: 60,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    treatMissingData: "missing",
    alarmDescription:
      "A primary shard of the interactions index is unassigned: some documents cannot be indexed or read.",
  });
  alarm("free-storage-low", {
    ...cluster,
    metricName: "FreeStorageSpace",
    statistic: "Minimum",
    period: 60,
    comparisonOperator: "LessThanOrEqualToThreshold",
    threshold: freeStorageThresholdMiB(args.ebsVolumeGb),
    treatMissingData: "missing",
    alarmDescription: `A data node has a quarter or less of its ${args.ebsVolumeGb} GiB left; OpenSearch blocks writes when it runs out.`,
  });
}

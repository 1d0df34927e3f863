import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployRoleArn, type StackConfig } from "../platform/config";
import { contractJsonSchema, currentVersion } from "../platform/contract";
import { AccessPattern } from "../platform/declarations";
import {
  accountRoot,
  crossAccountRole,
  EFO_CONSUMER_ACTIONS,
  EFO_STREAM_ACTIONS,
  policyDocument,
  STREAM_AUDIT_ACTIONS,
  STREAM_RECORD_READ_ACTIONS,
  STREAM_RECORD_WRITE_ACTIONS,
  unitRoleTrust,
  STREAM_READ_ACTIONS,
  STREAM_WRITE_ACTIONS,
  type Statement,
} from "../platform/iam";
import { Names, type Domain, type Product, type Subscription } from "../platform/mesh";
import { iteratorAgeThresholdMs, requiredShards } from "../platform/sizing";
import { TagKeys, unitTags } from "../platform/tags";
import { BREAK_GLASS_ROLE_NAME, createMeshKey, sid } from "./kms";

export const STREAMING_DOMAIN_TYPE = "mesh:streaming:StreamingDomain";

export interface StreamingDomainArgs {
  /** The producing domain, as parsed by `parseMeshConfig`. */
  readonly domain: Domain;
  /** Every subscription in the mesh to this domain's products: the only principals granted read. */
  readonly subscriptions: readonly Subscription[];
  readonly config: StackConfig;
  /** The platform's auditor role, granted stream metadata (never records). */
  readonly auditorRoleArn: pulumi.Input<string>;
  /** Where the streams' alarms notify. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /**
   * Roles of the domain's own infrastructure that write its products too (an outbox relay), by
   * ARN; they may not exist yet. Only these and the producer role write. @default []
   */
  readonly writerRoleArns?: readonly string[];
}

/** What other units need of a product: consumers read the stream and decrypt with the key. */
export interface PublishedProduct {
  readonly streamArn: pulumi.Output<string>;
  readonly streamName: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;
  /** Registered enhanced fan-out consumers, by subscription ref. */
  readonly efoConsumerArns: pulumi.Output<Record<string, string>>;
}

/**
 * A producer domain's data in motion: for each stream data product, a KMS-encrypted Kinesis stream,
 * its key and resource policy (assembled from every subscription, so nobody else may read), the
 * contract in a Glue Schema Registry, enhanced fan-out registrations, alarms, and one producer role.
 */
export class StreamingDomain extends pulumi.ComponentResource {
  /** Products by ref (`<domain>/<product>`). */
  public readonly products: Record<string, PublishedProduct>;
  public readonly producerRoleArn: pulumi.Output<string>;

  constructor(name: string, args: StreamingDomainArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider) {
      throw new Error(
        `StreamingDomain ${name}: a provider for account ${args.domain.accountAlias} is required`,
      );
    }
    if (args.domain.products.length === 0) {
      throw new Error(`StreamingDomain ${name}: domain ${args.domain.name} declares no data products`);
    }
    for (const subscription of args.subscriptions) {
      if (subscription.product.domain !== args.domain.name) {
        throw new Error(
          `StreamingDomain ${name}: ${subscription.ref} subscribes to ${subscription.product.ref}, not a product of ${args.domain.name}`,
        );
      }
    }
    super(STREAMING_DOMAIN_TYPE, name, {}, opts);

    const { domain, config } = args;
    const tags = unitTags(config, domain.name);
    const stateful: pulumi.CustomResourceOptions = config.protectStateful
      ? { parent: this, protect: true, retainOnDelete: true }
      : { parent: this };

    const producerRole = new aws.iam.Role(
      `${name}-producer`,
      {
        name: domain.producerRoleName,
        description: `Publishes ${domain.name}'s data products; assumable by the domain's own services`,
        // Only the domain's own services (roles tagged mesh:domain=<domain>) may publish.
        assumeRolePolicy: unitRoleTrust(domain.accountId, domain.name),
        maxSessionDuration: 3600,
        tags,
      },
      { parent: this },
    );

    const registry = new aws.glue.Registry(
      `${name}-schemas`,
      {
        registryName: Names.schemaRegistry(domain.name),
        description: `Contracts of ${domain.name}'s data products`,
        tags,
      },
      { parent: this },
    );

    const created = domain.products.map((product) =>
      createProduct(`${name}-${product.name}`, {
        product,
        subscriptions: args.subscriptions.filter((s) => s.product.ref === product.ref),
        landingRoleArn: domain.atRestProducts.find((p) => p.stream?.ref === product.ref)?.landingRoleArn,
        config,
        tags,
        producerRoleArn: producerRole.arn,
        writerRoleArns: args.writerRoleArns ?? [],
        auditorRoleArn: args.auditorRoleArn,
        alarmTopicArn: args.alarmTopicArn,
        registry,
        parent: this,
        stateful,
      }),
    );

    new aws.iam.RolePolicy(
      `${name}-producer-policy`,
      {
        role: producerRole.name,
        policy: policyDocument([
          {
            Sid: "PublishToOwnProducts",
            Effect: "Allow",
            Action: [...STREAM_WRITE_ACTIONS],
            Resource: created.map((c) => c.stream.arn),
            // ABAC: a stream re-tagged away from this domain stops accepting its writes.
            Condition: { StringEquals: { [`aws:ResourceTag/${TagKeys.Domain}`]: domain.name } },
          },
          {
            Sid: "EncryptThroughKinesis",
            Effect: "Allow",
            Action: "kms:GenerateDataKey",
            Resource: created.map((c) => c.key.arn),
            Condition: { StringEquals: { "kms:ViaService": `kinesis.${config.region}.amazonaws.com` } },
          },
        ]),
      },
      { parent: this },
    );

    this.products = Object.fromEntries(
      created.map((c) => [
        c.product.ref,
        {
          streamArn: c.stream.arn,
          streamName: c.stream.name,
          keyArn: c.key.arn,
          efoConsumerArns: pulumi
            .all(
              c.consumers.map(({ subscription, consumer }) =>
                consumer.arn.apply((arn) => [subscription.ref, arn] as const),
              ),
            )
            .apply((entries) => Object.fromEntries(entries)),
        },
      ]),
    );
    this.producerRoleArn = producerRole.arn;
    this.registerOutputs({ products: this.products, producerRoleArn: this.producerRoleArn });
  }
}

interface ProductArgs {
  readonly product: Product;
  readonly subscriptions: readonly Subscription[];
  /** The domain's own Firehose role landing the product at rest, when it is kept at rest. */
  readonly landingRoleArn?: string;
  readonly config: StackConfig;
  readonly tags: Record<string, string>;
  readonly producerRoleArn: pulumi.Output<string>;
  /** Roles of the domain's own infrastructure that write too (named, created later). */
  readonly writerRoleArns: readonly string[];
  readonly auditorRoleArn: pulumi.Input<string>;
  readonly alarmTopicArn: pulumi.Input<string>;
  readonly registry: aws.glue.Registry;
  readonly parent: pulumi.Resource;
  readonly stateful: pulumi.CustomResourceOptions;
}

/** @internal */
function createProduct(name: string, args: ProductArgs) {
  const { product, subscriptions, config, parent } = args;
  // The mesh's own tags last: a declared tag can never replace one that ABAC or governance reads.
  const tags = {
    ...product.tags,
    ...args.tags,
    [TagKeys.Product]: product.ref,
    [TagKeys.Classification]: product.classification,
  };
  const deployer = deployRoleArn(config, product.accountAlias);
  // Who reads records: the subscriptions, and the domain's own landing of the product at rest.
  const readers = [
    ...subscriptions,
    ...(args.landingRoleArn
      ? [{ ref: `${product.ref} (at rest)`, roleArn: args.landingRoleArn, accountId: product.accountId }]
      : []),
  ];
  const viaKinesis = {
    "kms:ViaService": `kinesis.${config.region}.amazonaws.com`,
    "kms:EncryptionContext:aws:kinesis:arn": product.streamArn,
  };

  const key = createMeshKey(
    `${name}-key`,
    {
      description: `Encrypts the ${product.ref} stream`,
      accountId: product.accountId,
      // Administered by the deploy role (and the documented break-glass role), used by nobody else
      // in the account: IAM policies of the account cannot grant its use.
      administrators: [deployer, `arn:aws:iam::${product.accountId}:role/${BREAK_GLASS_ROLE_NAME}`],
      grants: [
        {
          // Creating or re-encrypting the stream with this key; no Decrypt, so never the records.
          Sid: "DeployerEncryptsStream",
          Effect: "Allow",
          Principal: { AWS: accountRoot(product.accountId) },
          Action: "kms:GenerateDataKey",
          Resource: "*",
          Condition: { ArnEquals: { "aws:PrincipalArn": deployer }, StringEquals: viaKinesis },
        },
        {
          Sid: "ProducerEncrypts",
          Effect: "Allow",
          Principal: { AWS: args.producerRoleArn },
          Action: "kms:GenerateDataKey",
          Resource: "*",
          Condition: { StringEquals: viaKinesis },
        },
        // The domain's own writers (an outbox relay) are created after the key: matched by name.
        ...(args.writerRoleArns.length
          ? [
              {
                Sid: "DomainWritersEncrypt",
                Effect: "Allow",
                Principal: { AWS: accountRoot(product.accountId) },
                Action: "kms:GenerateDataKey",
                Resource: "*",
                Condition: {
                  ArnEquals: { "aws:PrincipalArn": [...args.writerRoleArns] },
                  StringEquals: viaKinesis,
                },
              } satisfies Statement,
            ]
          : []),
        // The landing role is named, not created, here (DataProductDomain creates it after the
        // stream), so it is matched by aws:PrincipalArn like a consumer's role.
        ...readers.map((subscription): Statement => {
          const grant = crossAccountRole(subscription.roleArn, subscription.accountId, config.organizationId);
          return {
            Sid: sid(`decrypt ${subscription.ref}`),
            Effect: "Allow",
            Principal: grant.Principal,
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: {
              ...grant.Condition,
              StringEquals: { ...grant.Condition!.StringEquals, ...viaKinesis },
            },
          };
        }),
      ],
      tags,
    },
    args.stateful,
  );
  new aws.kms.Alias(
    `${name}-key-alias`,
    { name: Names.keyAlias(product.domain, product.name), targetKeyId: key.keyId },
    { parent },
  );

  const standardConsumers = subscriptions.filter(
    (s) => s.access.pattern !== AccessPattern.EnhancedFanOut,
  ).length;
  const stream = new aws.kinesis.Stream(
    `${name}-stream`,
    {
      name: product.streamName,
      retentionPeriod: product.retentionHours,
      ...(product.capacity.mode === "provisioned"
        ? {
            shardCount: requiredShards(product.capacity, standardConsumers),
            streamModeDetails: { streamMode: "PROVISIONED" },
          }
        : { streamModeDetails: { streamMode: "ON_DEMAND" } }),
      encryptionType: "KMS",
      kmsKeyId: key.arn,
      enforceConsumerDeletion: false,
      tags,
    },
    args.stateful,
  );

  // One policy per stream, written only here: Kinesis replaces the whole policy on each write.
  new aws.kinesis.ResourcePolicy(
    `${name}-stream-policy`,
    {
      resourceArn: stream.arn,
      policy: policyDocument([
        ...subscriptions.map((subscription): Statement => ({
          Sid: sid(`read ${subscription.ref}`),
          Effect: "Allow",
          ...crossAccountRole(subscription.roleArn, subscription.accountId, config.organizationId),
          Action: [
            ...(subscription.access.pattern === AccessPattern.EnhancedFanOut
              ? EFO_STREAM_ACTIONS
              : STREAM_READ_ACTIONS),
          ],
          Resource: stream.arn,
        })),
        {
          Sid: "PlatformAudit",
          Effect: "Allow",
          ...crossAccountRole(args.auditorRoleArn, config.accounts.platform!.id, config.organizationId),
          Action: [...STREAM_AUDIT_ACTIONS],
          Resource: stream.arn,
        },
        // Inside the producer's account too, whatever IAM policies say: records are read only by
        // declared consumers and written only by the producer role.
        onlyPrincipals("OnlyDeclaredConsumersRead", [...STREAM_RECORD_READ_ACTIONS], stream.arn, [
          ...subscriptions
            .filter((s) => s.access.pattern !== AccessPattern.EnhancedFanOut)
            .map((s) => s.roleArn),
          ...(args.landingRoleArn ? [args.landingRoleArn] : []),
        ]),
        onlyPrincipals("OnlyTheProducerWrites", [...STREAM_RECORD_WRITE_ACTIONS], stream.arn, [
          args.producerRoleArn,
          ...args.writerRoleArns,
        ]),
      ]),
    },
    { parent },
  );

  // Enhanced fan-out consumers are registered here, in the stream's account: registration is not
  // an action a stream's resource policy can share, and the 20-per-stream limit is checked centrally.
  const consumers = subscriptions
    .filter((subscription) => subscription.access.pattern === AccessPattern.EnhancedFanOut)
    .map((subscription) => {
      const consumerName = `${name}-${subscription.domain}-${subscription.name}`;
      const consumer = new aws.kinesis.StreamConsumer(
        `${consumerName}-consumer`,
        { name: subscription.efoConsumerName!, streamArn: stream.arn, tags },
        { parent },
      );
      // Ordered after the consumer: a policy on a consumer that is not ACTIVE is rejected.
      new aws.kinesis.ResourcePolicy(
        `${consumerName}-consumer-policy`,
        {
          resourceArn: consumer.arn,
          policy: policyDocument([
            {
              Sid: sid(`subscribe ${subscription.ref}`),
              Effect: "Allow",
              ...crossAccountRole(subscription.roleArn, subscription.accountId, config.organizationId),
              Action: [...EFO_CONSUMER_ACTIONS],
              Resource: consumer.arn,
            },
            onlyPrincipals("OnlyItsSubscriberReads", ["kinesis:SubscribeToShard"], consumer.arn, [
              subscription.roleArn,
            ]),
          ]),
        },
        { parent, dependsOn: [consumer] },
      );
      return { subscription, consumer };
    });

  const version = currentVersion(product.contract);
  new aws.glue.Schema(
    `${name}-schema`,
    {
      schemaName: product.streamName,
      registryArn: args.registry.arn,
      dataFormat: "JSON",
      compatibility: "BACKWARD",
      description: `${product.description} (contract version ${version.version})`,
      schemaDefinition: JSON.stringify(contractJsonSchema(product.contract, version)),
      tags,
    },
    { parent },
  );

  const alarm = (
    suffix: string,
    metric: Partial<aws.cloudwatch.MetricAlarmArgs> &
      Pick<aws.cloudwatch.MetricAlarmArgs, "metricName" | "statistic" | "threshold" | "alarmDescription">,
  ) =>
    new aws.cloudwatch.MetricAlarm(
      `${name}-${suffix}`,
      {
        namespace: "AWS/Kinesis",
        dimensions: { StreamName: stream.name },
        comparisonOperator: "GreaterThanThreshold",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: "notBreaching",
        alarmActions: [args.alarmTopicArn],
        okActions: [args.alarmTopicArn],
        tags,
        ...metric,
      },
      { parent },
    );
  alarm("write-throttled", {
    metricName: "WriteProvisionedThroughputExceeded",
    statistic: "Sum",
    threshold: 0,
    alarmDescription: `Writes to ${product.ref} are throttled: the stream needs more capacity or the partition key is hot.`,
  });
  // Half the retention: records older than that are at risk of expiring before every consumer reads them.
  alarm("iterator-age", {
    metricName: "GetRecords.IteratorAgeMilliseconds",
    statistic: "Maximum",
    threshold: iteratorAgeThresholdMs(product.retentionHours),
    alarmDescription: `A consumer of ${product.ref} is behind by more than half the ${product.retentionHours} h retention.`,
  });

  return { product, key, stream, consumers };
}

/**
 * Denies `actions` on `resource` to every principal but `allowed` (none: to everyone). A Deny in
 * the resource policy overrides any IAM policy of any account, the producer's included.
 */
function onlyPrincipals(
  sidName: string,
  actions: readonly string[],
  resource: pulumi.Input<string>,
  allowed: readonly pulumi.Input<string>[],
): Statement {
  return {
    Sid: sidName,
    Effect: "Deny",
    Principal: { AWS: "*" },
    Action: actions,
    Resource: resource,
    ...(allowed.length && { Condition: { ArnNotEquals: { "aws:PrincipalArn": pulumi.all([...allowed]) } } }),
  };
}

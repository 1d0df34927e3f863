import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import type { StackConfig } from "../platform/config";
import { AccessPattern } from "../platform/declarations";
import { filterPattern } from "../platform/filters";
import {
  EFO_CONSUMER_ACTIONS,
  EFO_STREAM_ACTIONS,
  STREAM_READ_ACTIONS,
  type Statement,
} from "../platform/iam";
import { Names, type Domain, type Subscription } from "../platform/mesh";
import { iteratorAgeThresholdMs } from "../platform/sizing";
import { TagKeys, unitTags } from "../platform/tags";
import { sid } from "./kms";
import { MeshFunction } from "./lambda";
import { PushChannel } from "./push-channel";
import { SecureBucket } from "./secure-bucket";
import { createStreamMapping } from "./stream-mapping";
import type { PublishedProduct } from "./streaming-domain";
import type { HandlerWiring } from "./wiring";

export const CONSUMER_DOMAIN_TYPE = "mesh:consumer:ConsumerDomain";

/** Days the failure destination keeps failed batches for replay. */
export const FAILURE_RETENTION_DAYS = 14;

export interface ConsumerDomainArgs {
  /** The consuming domain, as parsed by `parseMeshConfig`. */
  readonly domain: Domain;
  readonly config: StackConfig;
  /** What each subscribed product's producer published, by product ref. */
  readonly products: Readonly<Record<string, PublishedProduct>>;
  /** The domain's customer-managed key: failure destination and tables are encrypted with it. */
  readonly dataKeyArn: pulumi.Input<string>;
  readonly alarmTopicArn: pulumi.Input<string>;
  /** The account's API Gateway logging setting: required when the domain has a push subscription. */
  readonly apiGatewayLogging?: pulumi.Resource;
  /** Environment and permissions of each handler's own calls, by subscription name. */
  readonly handlers?: Readonly<Record<string, HandlerWiring>>;
  /** Folder holding the domain folders; handler paths are relative to `<root>/<domain>`.
   * @default the repository's `domains/` */
  readonly domainsRoot?: string;
}

/**
 * A consumer domain's data in motion: for each subscription, a function running the domain's
 * handler with a role that may read exactly the subscribed stream, and an event source mapping
 * with bounded retries and age, bisection, partial batch responses and an S3 failure destination
 * that keeps the failed records for replay. Shared per domain: the failure bucket and the
 * idempotency table. Push subscriptions also get a WebSocket API.
 */
export class ConsumerDomain extends pulumi.ComponentResource {
  /** Function names by subscription name. */
  public readonly functionNames: Record<string, pulumi.Output<string>>;
  public readonly failureBucketName: pulumi.Output<string>;
  /** WebSocket URLs of push subscriptions, by subscription name. */
  public readonly pushEndpoints: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: ConsumerDomainArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider) {
      throw new Error(
        `ConsumerDomain ${name}: a provider for account ${args.domain.accountAlias} is required`,
      );
    }
    if (args.domain.subscriptions.length === 0) {
      throw new Error(`ConsumerDomain ${name}: domain ${args.domain.name} declares no subscriptions`);
    }
    for (const subscription of args.domain.subscriptions) {
      if (!args.products[subscription.product.ref]) {
        throw new Error(
          `ConsumerDomain ${name}: no published product ${subscription.product.ref} for ${subscription.ref}`,
        );
      }
    }
    const unknownWiring = Object.keys(args.handlers ?? {}).filter(
      (key) => !args.domain.subscriptions.some((s) => s.name === key),
    );
    if (unknownWiring.length) {
      throw new Error(
        `ConsumerDomain ${name}: handler wiring for unknown subscriptions ${unknownWiring.join(", ")}`,
      );
    }
    super(CONSUMER_DOMAIN_TYPE, name, {}, opts);

    const { domain, config } = args;
    const tags = unitTags(config, domain.name);
    const protect = config.protectStateful;
    const longestAge = Math.max(...domain.subscriptions.map((s) => s.delivery.maxRecordAgeSeconds));

    const failures = new SecureBucket(
      `${name}-failures`,
      { kmsKeyArn: args.dataKeyArn, expireAfterDays: FAILURE_RETENTION_DAYS, protect, tags },
      { parent: this },
    );
    const idempotency = new aws.dynamodb.Table(
      `${name}-idempotency`,
      {
        name: Names.idempotencyTable(domain.name),
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: [{ name: "id", type: "S" }],
        ttl: { attributeName: "expiration", enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: args.dataKeyArn },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: protect,
        tags,
      },
      protect ? { parent: this, protect: true, retainOnDelete: true } : { parent: this },
    );
    const dataKeyUse: Statement = {
      Sid: "UseDomainDataKey",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: args.dataKeyArn,
    };

    const functionNames: Record<string, pulumi.Output<string>> = {};
    const pushEndpoints: Record<string, pulumi.Output<string>> = {};
    for (const subscription of domain.subscriptions) {
      const published = args.products[subscription.product.ref]!;
      const wiring = args.handlers?.[subscription.name] ?? {};
      const push =
        subscription.access.pattern === AccessPattern.PushWithoutReplay
          ? new PushChannel(
              `${name}-${subscription.name}-push`,
              {
                namePrefix: subscription.roleName,
                accountId: domain.accountId,
                region: config.region,
                tokenSha256: requirePushToken(config, subscription),
                protect,
                dataKeyArn: args.dataKeyArn,
                alarmTopicArn: args.alarmTopicArn,
                apiGatewayLogging: requireApiGatewayLogging(args, subscription.ref),
                tags,
              },
              { parent: this },
            )
          : undefined;
      if (push) pushEndpoints[subscription.name] = push.endpoint;

      const fn = new MeshFunction(
        `${name}-${subscription.name}`,
        {
          functionName: subscription.roleName,
          roleName: subscription.roleName,
          entry: join(
            args.domainsRoot ?? join(__dirname, "..", "domains"),
            domain.name,
            subscription.handler,
          ),
          description: `${subscription.ref}: ${subscription.access.pattern} consumer of ${subscription.product.ref}`,
          accountId: domain.accountId,
          region: config.region,
          timeoutSeconds: subscription.delivery.timeoutSeconds,
          environment: {
            IDEMPOTENCY_TABLE: idempotency.name,
            // Records stay deduplicated at least as long as the mapping may still deliver them.
            IDEMPOTENCY_TTL_SECONDS: String(longestAge),
            ...push?.broadcasterEnvironment,
            ...wiring.environment,
          },
          statements: [
            ...readStatements(subscription, published, config),
            {
              Sid: "DeduplicateOnEventId",
              Effect: "Allow",
              Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
              Resource: idempotency.arn,
            },
            {
              Sid: "KeepFailedBatches",
              Effect: "Allow",
              Action: ["s3:PutObject"],
              Resource: pulumi.interpolate`${failures.arn}/*`,
            },
            { Sid: "ListFailureBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: failures.arn },
            dataKeyUse,
            ...(push?.broadcasterStatements ?? []),
            ...(wiring.statements ?? []),
          ],
          tags,
        },
        { parent: this },
      );
      functionNames[subscription.name] = fn.functionName;

      createStreamMapping(`${name}-${subscription.name}`, {
        functionArn: fn.arn,
        functionName: fn.functionName,
        eventSourceArn:
          subscription.access.pattern === AccessPattern.EnhancedFanOut
            ? published.efoConsumerArns.apply((arns) => efoConsumerArn(arns, subscription))
            : published.streamArn,
        delivery: subscription.delivery,
        failureBucketArn: failures.arn,
        filterPatterns:
          subscription.access.pattern === AccessPattern.Filtered
            ? subscription.access.filters.map((rule) => JSON.stringify(filterPattern(rule)))
            : undefined,
        source: subscription.product.ref,
        reader: subscription.ref,
        iteratorAgeThresholdMs: iteratorAgeThresholdMs(subscription.product.retentionHours),
        alarmTopicArn: args.alarmTopicArn,
        tags,
        parent: this,
        dependsOn: [fn.rolePolicy],
      });
    }

    this.functionNames = functionNames;
    this.failureBucketName = failures.bucketName;
    this.pushEndpoints = pushEndpoints;
    this.registerOutputs({
      functionNames: this.functionNames,
      failureBucketName: this.failureBucketName,
      pushEndpoints: this.pushEndpoints,
    });
  }
}

function requirePushToken(config: StackConfig, subscription: Subscription): string {
  if (!config.pushTokenSha256) {
    throw new Error(
      `${subscription.ref} is a push subscription: set mesh:pushTokenSha256 in the stack config`,
    );
  }
  return config.pushTokenSha256;
}

function efoConsumerArn(arns: Record<string, string>, subscription: Subscription): string {
  const arn = arns[subscription.ref];
  if (!arn) {
    throw new Error(
      `${subscription.product.ref} has no registered consumer for ${subscription.ref}: deploy its producer first`,
    );
  }
  return arn;
}

/**
 * Reads of exactly the subscribed stream (or its registered consumer) and decryption with the
 * producer's key only through Kinesis for that stream. The stream's ABAC tag must still name the
 * product: a stream re-tagged to another product stops being readable.
 */
function readStatements(
  subscription: Subscription,
  published: PublishedProduct,
  config: StackConfig,
): Statement[] {
  const product = subscription.product;
  const onlyThisProduct = { StringEquals: { [`aws:ResourceTag/${TagKeys.Product}`]: product.ref } };
  const efo = subscription.access.pattern === AccessPattern.EnhancedFanOut;
  return [
    {
      Sid: sid(`read ${product.ref}`),
      Effect: "Allow",
      Action: [...(efo ? EFO_STREAM_ACTIONS : STREAM_READ_ACTIONS)],
      Resource: published.streamArn,
      Condition: onlyThisProduct,
    },
    ...(efo
      ? [
          {
            Sid: sid(`subscribe ${product.ref}`),
            Effect: "Allow" as const,
            Action: [...EFO_CONSUMER_ACTIONS],
            Resource: published.efoConsumerArns.apply((arns) => efoConsumerArn(arns, subscription)),
            // The registered consumer carries its stream's product tag: re-tagged, it stops serving.
            Condition: onlyThisProduct,
          },
        ]
      : []),
    {
      Sid: sid(`decrypt ${product.ref}`),
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: published.keyArn,
      Condition: {
        StringEquals: {
          "kms:ViaService": `kinesis.${config.region}.amazonaws.com`,
          "kms:EncryptionContext:aws:kinesis:arn": product.streamArn,
        },
      },
    },
  ];
}

function requireApiGatewayLogging(args: ConsumerDomainArgs, ref: string): pulumi.Resource {
  if (!args.apiGatewayLogging) {
    throw new Error(`${ref}: a push subscription needs its account's ApiGatewayLogging (apiGatewayLogging)`);
  }
  return args.apiGatewayLogging;
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument } from "../platform/iam";
import { createMeshKey } from "./kms";

export const ALARM_TOPIC_TYPE = "mesh:ops:AlarmTopic";

export interface AlarmTopicArgs {
  /** The account the topic lives in (CloudWatch alarms publish only within their account). */
  readonly accountId: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Protect and retain the key (prod). @default false */
  readonly protect?: boolean;
  /**
   * Roles that administer the topic's key without using it (the account's deploy role and
   * break-glass role): only CloudWatch and EventBridge use it, to publish alarms.
   */
  readonly keyAdministrators: readonly string[];
  /**
   * Who receives the alarms: a label (`owner`, `platform`) to an email address or https URL. Email
   * and https endpoints confirm their subscription before SNS delivers to them (docs/aws-facts.md#sns).
   */
  readonly subscribers: Readonly<Record<string, string>>;
}

/**
 * Where a domain's alarms go: an SNS topic encrypted with a customer-managed key that CloudWatch
 * and EventBridge may use (the AWS-managed SNS key does not let them publish), subscribed by the
 * domain's owner and, when configured, the platform team.
 */
export class AlarmTopic extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: AlarmTopicArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider)
      throw new Error(`AlarmTopic ${name}: a provider for account ${args.accountId} is required`);
    super(ALARM_TOPIC_TYPE, name, {}, opts);
    const cloudwatch = {
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
    };
    // EventBridge rules of the account (failed Glue job runs) notify the same topic.
    const events = {
      Principal: { Service: "events.amazonaws.com" },
      Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
    };
    const key = createMeshKey(
      `${name}-key`,
      {
        description: `Encrypts alarm notifications of ${name}`,
        accountId: args.accountId,
        administrators: args.keyAdministrators,
        grants: [
          {
            Sid: "CloudWatchPublishes",
            Effect: "Allow",
            ...cloudwatch,
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
          },
          {
            Sid: "EventBridgePublishes",
            Effect: "Allow",
            ...events,
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
          },
        ],
        tags: args.tags,
      },
      args.protect ? { parent: this, protect: true, retainOnDelete: true } : { parent: this },
    );
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { kmsMasterKeyId: key.arn, tags: { ...args.tags } },
      { parent: this },
    );
    new aws.sns.TopicPolicy(
      `${name}-policy`,
      {
        arn: topic.arn,
        policy: policyDocument([
          {
            Sid: "CloudWatchAlarms",
            Effect: "Allow",
            ...cloudwatch,
            Action: "sns:Publish",
            Resource: topic.arn,
          },
          { Sid: "EventBridgeRules", Effect: "Allow", ...events, Action: "sns:Publish", Resource: topic.arn },
        ]),
      },
      { parent: this },
    );
    const subscribers = Object.entries(args.subscribers);
    if (!subscribers.length)
      throw new pulumi.ResourceError(`AlarmTopic ${name}: alarms must reach someone`, this);
    for (const [label, endpoint] of subscribers) {
      new aws.sns.TopicSubscription(
        `${name}-${label}`,
        { topic: topic.arn, protocol: endpoint.startsWith("https://") ? "https" : "email", endpoint },
        { parent: this },
      );
    }
    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}

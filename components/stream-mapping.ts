import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Delivery } from "../platform/mesh";

export interface StreamMappingArgs {
  /** The function the mapping invokes. */
  readonly functionArn: pulumi.Input<string>;
  readonly functionName: pulumi.Input<string>;
  /** A Kinesis stream, a registered enhanced fan-out consumer, or a DynamoDB stream. */
  readonly eventSourceArn: pulumi.Input<string>;
  readonly delivery: Delivery;
  /** Bucket that keeps the records of batches that failed every retry, for replay. */
  readonly failureBucketArn: pulumi.Input<string>;
  /** Lambda filter patterns (JSON), at most 5. @default none: every record */
  readonly filterPatterns?: readonly string[];
  /** What is read, for alarm descriptions (`songs/song-events`). */
  readonly source: string;
  /** Who reads it, for alarm descriptions (`analytics/live-feed`). */
  readonly reader: string;
  /** Iterator age (ms) past which the reader is late: half the source's retention. */
  readonly iteratorAgeThresholdMs: number;
  readonly alarmTopicArn: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
  readonly parent: pulumi.Resource;
  /** The function's role policy: the mapping fails to create until the role may read the source. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * @internal The one way the mesh maps a stream to a function: bounded retries and record age,
 * bisection, partial batch responses, an S3 failure destination (the only one that receives the
 * records themselves), event-count metrics; and its alarms on iterator age, function errors and
 * records sent to the failure destination.
 */
export function createStreamMapping(name: string, args: StreamMappingArgs): aws.lambda.EventSourceMapping {
  const { delivery } = args;
  const mapping = new aws.lambda.EventSourceMapping(
    `${name}-mapping`,
    {
      functionName: args.functionArn,
      eventSourceArn: args.eventSourceArn,
      startingPosition: delivery.startingPosition,
      startingPositionTimestamp: delivery.startingTimestamp,
      batchSize: delivery.batchSize,
      maximumBatchingWindowInSeconds: delivery.batchingWindowSeconds,
      parallelizationFactor: delivery.parallelizationFactor,
      maximumRetryAttempts: delivery.maxRetryAttempts,
      maximumRecordAgeInSeconds: delivery.maxRecordAgeSeconds,
      bisectBatchOnFunctionError: delivery.bisectOnError,
      functionResponseTypes: ["ReportBatchItemFailures"],
      destinationConfig: { onFailure: { destinationArn: args.failureBucketArn } },
      filterCriteria: args.filterPatterns
        ? { filters: args.filterPatterns.map((pattern) => ({ pattern })) }
        : undefined,
      metricsConfig: { metrics: ["EventCount"] },
      tags: { ...args.tags },
    },
    { parent: args.parent, dependsOn: args.dependsOn },
  );

  const common = {
    comparisonOperator: "GreaterThanThreshold",
    period: 60,
    treatMissingData: "notBreaching",
    alarmActions: [args.alarmTopicArn],
    okActions: [args.alarmTopicArn],
    tags: { ...args.tags },
  };
  const parent = { parent: args.parent };
  new aws.cloudwatch.MetricAlarm(
    `${name}-iterator-age`,
    {
      ...common,
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensions: { FunctionName: args.functionName },
      statistic: "Maximum",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: args.iteratorAgeThresholdMs,
      alarmDescription: `${args.reader} is behind ${args.source} by more than half its retention.`,
    },
    parent,
  );
  new aws.cloudwatch.MetricAlarm(
    `${name}-errors`,
    {
      ...common,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: args.functionName },
      statistic: "Sum",
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      threshold: 0,
      alarmDescription: `${args.reader}'s function fails whole invocations.`,
    },
    parent,
  );
  new aws.cloudwatch.MetricAlarm(
    `${name}-failed-records`,
    {
      ...common,
      namespace: "AWS/Lambda",
      metricName: "OnFailureDestinationDeliveredEventCount",
      dimensions: { EventSourceMappingUUID: mapping.uuid },
      statistic: "Sum",
      evaluationPeriods: 1,
      threshold: 0,
      alarmDescription: `Records of ${args.source} failed ${args.reader} and were kept in the failure bucket for replay.`,
    },
    parent,
  );
  return mapping;
}

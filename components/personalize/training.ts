import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountRoot, policyDocument, serviceTrust, type Statement } from "../../platform/iam";
import { createMeshKey } from "../kms";
import { MeshFunction } from "../lambda";
import { SecureBucket } from "../secure-bucket";
import { trainingDefinition, type TrainingDatasets } from "./training-definition";

export const PERSONALIZE_TRAINING_TYPE = "mesh:recommendations:PersonalizeTraining";

const GATE_ENTRY = path.join(__dirname, "../../runtime/personalize/metrics-gate.ts");

export interface PersonalizeTrainingServingArgs {
  readonly solutionArn: pulumi.Input<string>;
  /** Physical name of the campaign the pipeline creates and updates. */
  readonly campaignName: string;
  /**
   * GetSolutionMetrics key compared between the new and the served version.
   * @default "normalized_discounted_cumulative_gain_at_10"
   */
  readonly metric?: string;
  /** How much lower the new version may score and still be served. @default 0.01 */
  readonly margin?: number;
  /** @default 1 */
  readonly minProvisionedTps?: number;
  /** @default true */
  readonly enableMetadataWithRecommendations?: boolean;
}

export interface PersonalizeTrainingArgs {
  /** Physical name prefix of the pipeline's resources (`mesh-recommendations`). */
  readonly physicalName: string;
  readonly accountId: string;
  readonly region: string;
  readonly datasetArns: { readonly [K in keyof TrainingDatasets]: pulumi.Input<string> };
  /**
   * The Glue job that writes the three datasets into the bucket. Without it the run starts at the
   * imports (the merge job is declared by the data-at-rest pipelines; until it exists, the files
   * are put in the bucket by other means).
   * @default no merge step
   */
  readonly mergeJobName?: pulumi.Input<string>;
  /** Train and serve (prod). @default imports only */
  readonly serving?: PersonalizeTrainingServingArgs;
  /** EventBridge Scheduler expression. @default "cron(0 3 ? * SUN *)" (weekly, Sunday 03:00 UTC) */
  readonly schedule?: string;
  /** Topic the failure alarms notify. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** Protect and retain the datasets bucket (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The Personalize training loop, outside `pulumi up`: a Step Functions state machine started on a
 * schedule that runs the merge job, imports the datasets from a secure bucket, and in prod trains
 * a solution version and serves it when its metrics are not worse (`training-definition.ts`).
 * Failed, timed-out and aborted runs alarm. Personalize reads the bucket through its own role,
 * the bucket policy and the key policy; the state machine's role holds exactly the calls it makes.
 */
export class PersonalizeTraining extends pulumi.ComponentResource {
  public readonly stateMachineArn: pulumi.Output<string>;
  public readonly bucketName: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;
  /** Absent without `serving`. */
  public readonly campaignArn?: string;

  constructor(name: string, args: PersonalizeTrainingArgs, opts: pulumi.ComponentResourceOptions) {
    super(PERSONALIZE_TRAINING_TYPE, name, {}, opts);
    const parent = { parent: this };
    const { accountId, region } = args;
    const arnOf = (resource: string) => `arn:aws:personalize:${region}:${accountId}:${resource}`;
    const importRoleName = `${args.physicalName}-personalize-import`;
    const importRoleArn = `arn:aws:iam::${accountId}:role/${importRoleName}`;
    const machineName = `${args.physicalName}-training`;
    const machineArn = `arn:aws:states:${region}:${accountId}:stateMachine:${machineName}`;
    const logGroupName = `/aws/vendedlogs/states/${machineName}`;
    const fromThisAccount = { StringEquals: { "aws:SourceAccount": accountId } };

    const key = createMeshKey(
      `${name}-key`,
      {
        description: `${args.physicalName}: Personalize datasets, training runs and their logs`,
        accountId,
        grants: [
          {
            Sid: "PersonalizeReadsDatasets",
            Effect: "Allow",
            Principal: { Service: "personalize.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:DescribeKey"],
            Resource: "*",
            Condition: fromThisAccount,
          },
          {
            Sid: "ImportRoleReadsDatasets",
            Effect: "Allow",
            Principal: { AWS: accountRoot(accountId) },
            Action: ["kms:Decrypt", "kms:DescribeKey"],
            Resource: "*",
            Condition: { ArnEquals: { "aws:PrincipalArn": importRoleArn } },
          },
          {
            Sid: "StepFunctionsEncryptsRuns",
            Effect: "Allow",
            Principal: { Service: "states.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "*",
            Condition: { StringEquals: { "kms:EncryptionContext:aws:states:stateMachineArn": machineArn } },
          },
          {
            Sid: "LogsEncryptRunLogs",
            Effect: "Allow",
            Principal: { Service: `logs.${region}.amazonaws.com` },
            Action: [
              "kms:Encrypt",
              "kms:Decrypt",
              "kms:ReEncrypt*",
              "kms:GenerateDataKey*",
              "kms:DescribeKey",
            ],
            Resource: "*",
            Condition: {
              ArnEquals: {
                "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:log-group:${logGroupName}`,
              },
            },
          },
        ],
        tags: args.tags,
      },
      // The datasets bucket cannot be read without it.
      args.protect ? { parent: this, protect: true, retainOnDelete: true } : parent,
    );

    const bucket = new SecureBucket(
      `${name}-datasets`,
      {
        kmsKeyArn: key.arn,
        protect: args.protect,
        tags: args.tags,
        // Personalize reads the datasets as its service principal, for this account only.
        statements: (bucketArn) => [
          {
            Sid: "PersonalizeReadsDatasets",
            Effect: "Allow",
            Principal: { Service: "personalize.amazonaws.com" },
            Action: ["s3:GetObject", "s3:ListBucket"],
            Resource: [bucketArn, pulumi.interpolate`${bucketArn}/*`],
            Condition: fromThisAccount,
          },
        ],
      },
      parent,
    );

    const importRole = new aws.iam.Role(
      `${name}-import-role`,
      {
        name: importRoleName,
        description: "Amazon Personalize reads the training datasets",
        assumeRolePolicy: serviceTrust("personalize.amazonaws.com", accountId),
        tags: { ...args.tags },
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-import-policy`,
      {
        role: importRole.name,
        policy: policyDocument([
          { Sid: "ListDatasets", Effect: "Allow", Action: "s3:ListBucket", Resource: bucket.arn },
          {
            Sid: "ReadDatasets",
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: pulumi.interpolate`${bucket.arn}/*`,
          },
          { Sid: "DecryptDatasets", Effect: "Allow", Action: "kms:Decrypt", Resource: key.arn },
        ]),
      },
      parent,
    );

    const serving = args.serving;
    const gate = serving
      ? new MeshFunction(
          `${name}-metrics-gate`,
          {
            functionName: `${args.physicalName}-metrics-gate`,
            roleName: `${args.physicalName}-metrics-gate`,
            entry: GATE_ENTRY,
            description: "Training pipeline: is the new solution version not worse than the served one?",
            accountId,
            region,
            statements: [],
            timeoutSeconds: 10,
            memoryMb: 128,
            tags: args.tags,
          },
          parent,
        )
      : undefined;
    const campaignArn = serving ? arnOf(`campaign/${serving.campaignName}`) : undefined;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: logGroupName, retentionInDays: 90, kmsKeyId: key.arn, tags: { ...args.tags } },
      parent,
    );

    const machineRole = new aws.iam.Role(
      `${name}-machine-role`,
      {
        name: `${machineName}-machine`,
        description: "The Personalize training state machine",
        assumeRolePolicy: serviceTrust("states.amazonaws.com", accountId),
        tags: { ...args.tags },
      },
      parent,
    );
    const datasetArns = Object.values(args.datasetArns);
    const statements: Statement[] = [
      {
        Sid: "ImportDatasets",
        Effect: "Allow",
        Action: "personalize:CreateDatasetImportJob",
        Resource: [...datasetArns, arnOf("dataset-import-job/*")],
      },
      {
        Sid: "FollowImports",
        Effect: "Allow",
        Action: "personalize:DescribeDatasetImportJob",
        Resource: arnOf("dataset-import-job/*"),
      },
      {
        Sid: "PassImportRole",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: importRole.arn,
        Condition: { StringEquals: { "iam:PassedToService": "personalize.amazonaws.com" } },
      },
      {
        // Vended log delivery has no resource-level permissions.
        Sid: "DeliverRunLogs",
        Effect: "Allow",
        Action: [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ],
        Resource: "*",
      },
      {
        Sid: "EncryptRuns",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: key.arn,
        Condition: { StringEquals: { "kms:EncryptionContext:aws:states:stateMachineArn": machineArn } },
      },
      {
        Sid: "TraceRuns",
        Effect: "Allow",
        Action: [
          "xray:PutTraceSegments",
          "xray:PutTelemetryRecords",
          "xray:GetSamplingRules",
          "xray:GetSamplingTargets",
        ],
        Resource: "*",
      },
    ];
    if (args.mergeJobName !== undefined) {
      statements.push({
        Sid: "RunMergeJob",
        Effect: "Allow",
        Action: ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
        Resource: pulumi.interpolate`arn:aws:glue:${region}:${accountId}:job/${args.mergeJobName}`,
      });
    }
    if (serving && gate && campaignArn) {
      const solutionArn = pulumi.output(serving.solutionArn);
      statements.push(
        {
          Sid: "Train",
          Effect: "Allow",
          Action: "personalize:CreateSolutionVersion",
          Resource: solutionArn,
        },
        {
          Sid: "FollowTrainings",
          Effect: "Allow",
          Action: ["personalize:DescribeSolutionVersion", "personalize:GetSolutionMetrics"],
          Resource: pulumi.interpolate`${solutionArn}/*`,
        },
        {
          Sid: "ServeVersions",
          Effect: "Allow",
          Action: [
            "personalize:CreateCampaign",
            "personalize:UpdateCampaign",
            "personalize:DescribeCampaign",
          ],
          Resource: [campaignArn, pulumi.interpolate`${solutionArn}/*`],
        },
        { Sid: "CompareMetrics", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: gate.arn },
      );
    }
    const machinePolicy = new aws.iam.RolePolicy(
      `${name}-machine-policy`,
      { role: machineRole.name, policy: policyDocument(statements) },
      parent,
    );

    const definition = pulumi
      .all([
        args.datasetArns.users,
        args.datasetArns.items,
        args.datasetArns.interactions,
        bucket.bucketName,
        importRole.arn,
        args.mergeJobName,
        serving?.solutionArn,
        gate?.arn,
      ])
      .apply(([users, items, interactions, bucketName, importRoleArn, mergeJobName, solutionArn, gateArn]) =>
        JSON.stringify(
          trainingDefinition({
            datasetArns: { users, items, interactions },
            bucketName,
            importRoleArn,
            mergeJobName,
            serving:
              serving && solutionArn && gateArn && campaignArn
                ? {
                    solutionArn,
                    campaignName: serving.campaignName,
                    campaignArn,
                    gateFunctionArn: gateArn,
                    metric: serving.metric ?? "normalized_discounted_cumulative_gain_at_10",
                    margin: serving.margin ?? 0.01,
                    minProvisionedTps: serving.minProvisionedTps ?? 1,
                    enableMetadataWithRecommendations: serving.enableMetadataWithRecommendations ?? true,
                  }
                : undefined,
          }),
        ),
      );

    const machine = new aws.sfn.StateMachine(
      `${name}-machine`,
      {
        name: machineName,
        type: "STANDARD",
        roleArn: machineRole.arn,
        definition,
        loggingConfiguration: {
          level: "ERROR",
          includeExecutionData: false,
          logDestination: pulumi.interpolate`${logGroup.arn}:*`,
        },
        encryptionConfiguration: {
          type: "CUSTOMER_MANAGED_KMS_KEY",
          kmsKeyId: key.arn,
          kmsDataKeyReusePeriodSeconds: 300,
        },
        tracingConfiguration: { enabled: true },
        tags: { ...args.tags },
      },
      { parent: this, dependsOn: [machinePolicy] },
    );

    const schedulerRole = new aws.iam.Role(
      `${name}-scheduler-role`,
      {
        name: `${machineName}-scheduler`,
        description: "EventBridge Scheduler starts the Personalize training runs",
        assumeRolePolicy: serviceTrust("scheduler.amazonaws.com", accountId),
        tags: { ...args.tags },
      },
      parent,
    );
    const schedulerPolicy = new aws.iam.RolePolicy(
      `${name}-scheduler-policy`,
      {
        role: schedulerRole.name,
        policy: policyDocument([
          { Sid: "StartRuns", Effect: "Allow", Action: "states:StartExecution", Resource: machine.arn },
        ]),
      },
      parent,
    );
    new aws.scheduler.Schedule(
      `${name}-schedule`,
      {
        name: machineName,
        description: "Starts the Personalize training pipeline",
        scheduleExpression: args.schedule ?? "cron(0 3 ? * SUN *)",
        scheduleExpressionTimezone: "UTC",
        flexibleTimeWindow: { mode: "OFF" },
        kmsKeyArn: key.arn,
        target: {
          arn: machine.arn,
          roleArn: schedulerRole.arn,
          input: "{}",
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        },
      },
      { parent: this, dependsOn: [schedulerPolicy] },
    );

    for (const metric of ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) {
      new aws.cloudwatch.MetricAlarm(
        `${name}-${metric.replace("Executions", "").toLowerCase()}`,
        {
          name: `${machineName}-${metric}`,
          alarmDescription: `${machineName}: a training run ended ${metric.replace("Executions", "").toLowerCase()}; its last state names the step (MergeFailed, ImportFailed, TrainingFailed, MetricsWorse, CampaignUpdateFailed). The campaign keeps its last good version.`,
          namespace: "AWS/States",
          metricName: metric,
          dimensions: { StateMachineArn: machine.arn },
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [args.alarmTopicArn],
          okActions: [args.alarmTopicArn],
          tags: { ...args.tags },
        },
        parent,
      );
    }

    this.campaignArn = campaignArn;
    this.stateMachineArn = machine.arn;
    this.bucketName = bucket.bucketName;
    this.keyArn = key.arn;
    this.registerOutputs({ stateMachineArn: this.stateMachineArn, bucketName: this.bucketName });
  }
}

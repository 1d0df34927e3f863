/**
 * The training pipeline as an Amazon States Language definition (JSONPath): merge (Glue), import
 * the three datasets, train a solution version, compare its offline metric with the version the
 * campaign serves, and point the campaign at it only when it is not worse by more than a margin.
 * Every failure ends in a named Fail state; the campaign is only touched on the success path.
 *
 * A pure function of plain values, so tests run it in a local interpreter.
 */

/** The datasets an import writes into, and where the merge job leaves their CSV files. */
export interface TrainingDatasets {
  readonly users: string;
  readonly items: string;
  readonly interactions: string;
}

export interface TrainingServing {
  readonly solutionArn: string;
  /** The campaign the pipeline creates on its first successful training and updates afterwards. */
  readonly campaignName: string;
  readonly campaignArn: string;
  /** The metrics gate function (`runtime/personalize/metrics-gate.ts`). */
  readonly gateFunctionArn: string;
  /** Key of GetSolutionMetrics' `metrics` compared between versions. */
  readonly metric: string;
  /** How much lower the new version may score and still be served. */
  readonly margin: number;
  readonly minProvisionedTps: number;
  readonly enableMetadataWithRecommendations: boolean;
}

export interface TrainingDefinitionArgs {
  /** ARNs of the Users, Items and Interactions datasets. */
  readonly datasetArns: TrainingDatasets;
  /** Bucket holding `users/`, `items/` and `interactions/` prefixes of CSV files. */
  readonly bucketName: string;
  /** Role Personalize assumes to read the bucket. */
  readonly importRoleArn: string;
  /** The Glue job that writes the datasets; without it the run starts at the imports. */
  readonly mergeJobName?: string;
  /** Training and campaign; without it the run ends once the datasets are imported (dev). */
  readonly serving?: TrainingServing;
  /** First and longest pause between two Describe polls, in seconds. */
  readonly poll?: { readonly firstSeconds: number; readonly maxSeconds: number };
  /** The whole run fails (and alarms) past this. */
  readonly timeoutSeconds?: number;
}

type State = Record<string, unknown>;
type States = Record<string, State>;

const SDK = "arn:aws:states:::aws-sdk:personalize";

/** Personalize's throttling and concurrency limits clear by themselves: retried with backoff. */
const RETRY_PERSONALIZE = [
  {
    ErrorEquals: [
      "Personalize.ThrottlingException",
      "Personalize.TooManyRequestsException",
      "Personalize.LimitExceededException",
    ],
    IntervalSeconds: 30,
    BackoffRate: 2,
    MaxAttempts: 6,
    MaxDelaySeconds: 900,
    JitterStrategy: "FULL",
  },
];

const fail = (error: string, cause: string): State => ({ Type: "Fail", Error: error, Cause: cause });
/** A Fail state that keeps the caught error's cause (the service's message). */
const failWithCause = (error: string): State => ({ Type: "Fail", Error: error, CausePath: "$.error.Cause" });
const catchAll = (next: string) => [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: next }];

/**
 * Polls a Describe call until `statusPath` is ACTIVE, with a pause that doubles from `firstSeconds`
 * up to `maxSeconds` (`States.MathAdd` on whole seconds). A failed or stopped status ends in `failed`.
 */
function poll(
  prefix: string,
  describe: { action: string; parameters: State; statusPath: string },
  next: string,
  failed: string,
  timing: { firstSeconds: number; maxSeconds: number },
): { start: string; states: States } {
  return {
    start: `${prefix}StartPolling`,
    states: {
      [`${prefix}StartPolling`]: {
        Type: "Pass",
        Result: { seconds: timing.firstSeconds },
        ResultPath: "$.poll",
        Next: `${prefix}Wait`,
      },
      [`${prefix}Wait`]: { Type: "Wait", SecondsPath: "$.poll.seconds", Next: `${prefix}Describe` },
      [`${prefix}Describe`]: {
        Type: "Task",
        Resource: `${SDK}:${describe.action}`,
        Parameters: describe.parameters,
        ResultSelector: { "status.$": describe.statusPath },
        ResultPath: "$.status",
        Retry: RETRY_PERSONALIZE,
        Next: `${prefix}Settled`,
      },
      [`${prefix}Settled`]: {
        Type: "Choice",
        Choices: [
          { Variable: "$.status.status", StringEquals: "ACTIVE", Next: next },
          {
            Or: [
              { Variable: "$.status.status", StringMatches: "*FAILED" },
              { Variable: "$.status.status", StringMatches: "*STOPPED" },
            ],
            Next: failed,
          },
        ],
        Default: `${prefix}BackOff`,
      },
      [`${prefix}BackOff`]: {
        Type: "Pass",
        Parameters: { "seconds.$": "States.MathAdd($.poll.seconds, $.poll.seconds)" },
        ResultPath: "$.poll",
        Next: `${prefix}Capped`,
      },
      [`${prefix}Capped`]: {
        Type: "Choice",
        Choices: [
          { Variable: "$.poll.seconds", NumericGreaterThan: timing.maxSeconds, Next: `${prefix}Cap` },
        ],
        Default: `${prefix}Wait`,
      },
      [`${prefix}Cap`]: {
        Type: "Pass",
        Result: { seconds: timing.maxSeconds },
        ResultPath: "$.poll",
        Next: `${prefix}Wait`,
      },
    },
  };
}

const DATASETS = ["users", "items", "interactions"] as const;
const title = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** One Parallel branch: create the import job for one dataset and wait for it. */
function importBranch(
  dataset: (typeof DATASETS)[number],
  args: TrainingDefinitionArgs,
  timing: { firstSeconds: number; maxSeconds: number },
): State {
  const name = title(dataset);
  const waiting = poll(
    `${name}Import`,
    {
      action: "describeDatasetImportJob",
      parameters: { "DatasetImportJobArn.$": "$.job.arn" },
      statusPath: "$.DatasetImportJob.Status",
    },
    `${name}Imported`,
    `${name}ImportFailed`,
    timing,
  );
  return {
    StartAt: `Import${name}`,
    States: {
      [`Import${name}`]: {
        Type: "Task",
        Resource: `${SDK}:createDatasetImportJob`,
        Parameters: {
          "JobName.$": `States.Format('${dataset}-{}', States.UUID())`,
          DatasetArn: args.datasetArns[dataset],
          DataSource: { DataLocation: `s3://${args.bucketName}/${dataset}/` },
          RoleArn: args.importRoleArn,
          // The merge job writes each dataset whole: a full import replaces the previous bulk data.
          ImportMode: "FULL",
        },
        ResultSelector: { "arn.$": "$.DatasetImportJobArn" },
        ResultPath: "$.job",
        Retry: RETRY_PERSONALIZE,
        Next: waiting.start,
      },
      ...waiting.states,
      [`${name}Imported`]: { Type: "Succeed" },
      [`${name}ImportFailed`]: fail(
        `${name}ImportFailed`,
        `The ${dataset} dataset import job failed: DescribeDatasetImportJob gives its failureReason.`,
      ),
    },
  };
}

/** States from the training to the campaign (prod). */
function servingStates(
  serving: TrainingServing,
  timing: { firstSeconds: number; maxSeconds: number },
): States {
  const training = poll(
    "Training",
    {
      action: "describeSolutionVersion",
      parameters: { "SolutionVersionArn.$": "$.version.arn" },
      statusPath: "$.SolutionVersion.Status",
    },
    "GetCandidateMetrics",
    "TrainingFailed",
    timing,
  );
  const campaignConfig = {
    MinProvisionedTPS: serving.minProvisionedTps,
    CampaignConfig: { EnableMetadataWithRecommendations: serving.enableMetadataWithRecommendations },
  };
  const updating = poll(
    "CampaignUpdate",
    {
      action: "describeCampaign",
      parameters: { CampaignArn: serving.campaignArn },
      statusPath: "$.Campaign.LatestCampaignUpdate.Status",
    },
    "Trained",
    "CampaignUpdateFailed",
    timing,
  );
  const creating = poll(
    "CampaignCreation",
    {
      action: "describeCampaign",
      parameters: { CampaignArn: serving.campaignArn },
      statusPath: "$.Campaign.Status",
    },
    "Trained",
    "CampaignUpdateFailed",
    timing,
  );
  const metrics = (path: string, resultPath: string, next: string): State => ({
    Type: "Task",
    Resource: `${SDK}:getSolutionMetrics`,
    Parameters: { "SolutionVersionArn.$": path },
    ResultSelector: { "value.$": `$.Metrics.${serving.metric}` },
    ResultPath: resultPath,
    Retry: RETRY_PERSONALIZE,
    Catch: catchAll("TrainingFailed"),
    Next: next,
  });
  return {
    TrainSolutionVersion: {
      Type: "Task",
      Resource: `${SDK}:createSolutionVersion`,
      Parameters: { SolutionArn: serving.solutionArn, TrainingMode: "FULL" },
      ResultSelector: { "arn.$": "$.SolutionVersionArn" },
      ResultPath: "$.version",
      Retry: RETRY_PERSONALIZE,
      Catch: catchAll("TrainingFailed"),
      Next: training.start,
    },
    ...training.states,
    GetCandidateMetrics: metrics("$.version.arn", "$.candidate", "FindCampaign"),
    FindCampaign: {
      Type: "Task",
      Resource: `${SDK}:describeCampaign`,
      Parameters: { CampaignArn: serving.campaignArn },
      ResultSelector: { "versionArn.$": "$.Campaign.SolutionVersionArn" },
      ResultPath: "$.campaign",
      Retry: RETRY_PERSONALIZE,
      Catch: [
        // The first successful training: there is no campaign to compare with yet.
        { ErrorEquals: ["Personalize.ResourceNotFoundException"], ResultPath: null, Next: "CreateCampaign" },
        ...catchAll("CampaignUpdateFailed"),
      ],
      Next: "GetCurrentMetrics",
    },
    GetCurrentMetrics: metrics("$.campaign.versionArn", "$.current", "CompareMetrics"),
    CompareMetrics: {
      Type: "Task",
      Resource: serving.gateFunctionArn,
      Parameters: {
        "candidate.$": "$.candidate.value",
        "current.$": "$.current.value",
        margin: serving.margin,
      },
      ResultPath: "$.verdict",
      Catch: catchAll("TrainingFailed"),
      Next: "NotWorse",
    },
    NotWorse: {
      Type: "Choice",
      Choices: [{ Variable: "$.verdict.notWorse", BooleanEquals: true, Next: "UpdateCampaign" }],
      Default: "MetricsWorse",
    },
    MetricsWorse: fail(
      "MetricsWorse",
      `The new solution version scores ${serving.metric} lower than the served one by more than ${serving.margin}; the campaign keeps serving its version.`,
    ),
    UpdateCampaign: {
      Type: "Task",
      Resource: `${SDK}:updateCampaign`,
      Parameters: {
        CampaignArn: serving.campaignArn,
        "SolutionVersionArn.$": "$.version.arn",
        ...campaignConfig,
      },
      ResultPath: null,
      Retry: RETRY_PERSONALIZE,
      Catch: catchAll("CampaignUpdateFailed"),
      Next: updating.start,
    },
    ...updating.states,
    CreateCampaign: {
      Type: "Task",
      Resource: `${SDK}:createCampaign`,
      Parameters: { Name: serving.campaignName, "SolutionVersionArn.$": "$.version.arn", ...campaignConfig },
      ResultPath: null,
      Retry: RETRY_PERSONALIZE,
      Catch: catchAll("CampaignUpdateFailed"),
      Next: creating.start,
    },
    ...creating.states,
    TrainingFailed: fail(
      "TrainingFailed",
      "Training the solution version or reading its metrics failed; the campaign keeps serving its version.",
    ),
    // Personalize keeps serving the previous version when a campaign update fails.
    CampaignUpdateFailed: fail(
      "CampaignUpdateFailed",
      "The campaign could not be pointed at the new solution version; it keeps serving its previous one.",
    ),
    Trained: { Type: "Succeed" },
  };
}

/** The state machine definition, as an object (serialise it once with JSON.stringify). */
export function trainingDefinition(args: TrainingDefinitionArgs): State {
  const timing = args.poll ?? { firstSeconds: 60, maxSeconds: 900 };
  const afterImport = args.serving ? "TrainSolutionVersion" : "Imported";
  const states: States = {
    ...(args.mergeJobName
      ? {
          MergeDatasets: {
            Type: "Task",
            Resource: "arn:aws:states:::glue:startJobRun.sync",
            Parameters: { JobName: args.mergeJobName },
            ResultPath: null,
            Retry: [
              {
                ErrorEquals: ["Glue.ConcurrentRunsExceededException"],
                IntervalSeconds: 300,
                BackoffRate: 2,
                MaxAttempts: 3,
                JitterStrategy: "FULL",
              },
            ],
            Catch: catchAll("MergeFailed"),
            Next: "ImportDatasets",
          },
          MergeFailed: failWithCause("MergeFailed"),
        }
      : {}),
    ImportDatasets: {
      Type: "Parallel",
      Branches: DATASETS.map((dataset) => importBranch(dataset, args, timing)),
      ResultPath: null,
      Catch: catchAll("ImportFailed"),
      Next: afterImport,
    },
    ImportFailed: failWithCause("ImportFailed"),
    ...(args.serving ? servingStates(args.serving, timing) : { Imported: { Type: "Succeed" } }),
  };
  return {
    Comment: args.serving
      ? "Merge, import, train, and serve the new version when its metrics are not worse."
      : "Merge and import the Personalize datasets.",
    StartAt: args.mergeJobName ? "MergeDatasets" : "ImportDatasets",
    TimeoutSeconds: args.timeoutSeconds ?? 24 * 60 * 60,
    States: states,
  };
}

import * as pulumi from "@pulumi/pulumi";
import {
  Campaign,
  Dataset,
  DatasetGroup,
  DEFAULT_RECIPE_ARN,
  EventTracker,
  Schema,
  Solution,
  SolutionVersion,
} from "./resources";
import type { PersonalizeAvroSchema } from "./schemas";

export const PERSONALIZE_RECOMMENDER_TYPE = "mesh:recommendations:Personalize";

export interface PersonalizeRecommenderArgs {
  /**
   * The Users, Items and Interactions dataset schemas, derived by the owning domain from its
   * producers' contracts (`deriveAvroSchema`); each must be named after its dataset type.
   */
  readonly schemas: {
    readonly users: PersonalizeAvroSchema;
    readonly items: PersonalizeAvroSchema;
    readonly interactions: PersonalizeAvroSchema;
  };
  /** AWS region of the Personalize resources. */
  readonly region: pulumi.Input<string>;
  /**
   * Role the dynamic provider assumes (dynamic providers cannot use an `aws.Provider`): the deploy
   * role of the recommendations account. @default the ambient credentials of the Pulumi process
   */
  readonly roleArn?: pulumi.Input<string>;
  /**
   * The recipe of the solution.
   * @default "arn:aws:personalize:::recipe/aws-user-personalization-v2"
   */
  readonly recipeArn?: pulumi.Input<string>;
  /**
   * Minimum provisioned TPS of the campaign (billed whether used or not).
   * @default 1
   */
  readonly minProvisionedTps?: pulumi.Input<number>;
  /**
   * Train a solution version and serve it from a campaign. Off for an environment without training
   * data yet: the datasets and event tracker are still created, so events can flow in.
   * @default true
   */
  readonly trainSolution?: boolean;
  /**
   * How long `pulumi up` waits for the training before failing (training keeps running and the
   * next `pulumi up` waits again). Polls every 60 s.
   * @default 480 (8 hours)
   */
  readonly trainingTimeoutMinutes?: number;
  /**
   * Let GetRecommendations return item metadata; the recommendations API reads CONTENT_TYPE from it.
   * Billed per request.
   * @default true
   */
  readonly enableMetadataWithRecommendations?: pulumi.Input<boolean>;
}

/**
 * Amazon Personalize for the Personalized Recommendations domain: a dataset group with Users, Items
 * (songs and podcast episodes) and Interactions datasets whose schemas are derived from the
 * producers' contracts, an event tracker for real-time interactions, and a solution trained into a
 * version served by a campaign.
 */
export class PersonalizeRecommender extends pulumi.ComponentResource {
  public readonly datasetGroupArn: pulumi.Output<string>;
  public readonly usersDatasetArn: pulumi.Output<string>;
  public readonly itemsDatasetArn: pulumi.Output<string>;
  public readonly interactionsDatasetArn: pulumi.Output<string>;
  public readonly eventTrackerArn: pulumi.Output<string>;
  /** Secret: whoever holds it can write events into the Interactions dataset. */
  public readonly trackingId: pulumi.Output<string>;
  public readonly solutionArn: pulumi.Output<string>;
  /** Absent when `trainSolution` is false. */
  public readonly solutionVersionArn?: pulumi.Output<string>;
  /** Absent when `trainSolution` is false. */
  public readonly campaignArn?: pulumi.Output<string>;

  constructor(name: string, args: PersonalizeRecommenderArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.trainingTimeoutMinutes !== undefined && !(args.trainingTimeoutMinutes > 0)) {
      throw new Error(`${name}: trainingTimeoutMinutes must be positive, is ${args.trainingTimeoutMinutes}`);
    }
    const expected = { users: "Users", items: "Items", interactions: "Interactions" } as const;
    for (const [kind, datasetType] of Object.entries(expected)) {
      const schema = args.schemas[kind as keyof typeof expected];
      if (schema.name !== datasetType) {
        throw new Error(`${name}: the ${kind} schema must be named ${datasetType}, is ${schema.name}`);
      }
    }
    super(PERSONALIZE_RECOMMENDER_TYPE, name, {}, opts);

    const datasets = createDatasets(name, args, this);
    const tracker = new EventTracker(
      `${name}-event-tracker`,
      { region: args.region, roleArn: args.roleArn, datasetGroupArn: datasets.group.arn },
      // The tracker records into the Interactions dataset: create it first, delete it after.
      { parent: this, dependsOn: [datasets.interactions] },
    );
    const serving = createServing(name, args, datasets, this);

    this.datasetGroupArn = datasets.group.arn;
    this.usersDatasetArn = datasets.users.arn;
    this.itemsDatasetArn = datasets.items.arn;
    this.interactionsDatasetArn = datasets.interactions.arn;
    this.eventTrackerArn = tracker.arn;
    // additionalSecretOutputs protects the state; this keeps the component output secret too.
    this.trackingId = pulumi.secret(tracker.trackingId);
    this.solutionArn = serving.solution.arn;
    this.solutionVersionArn = serving.version?.arn;
    this.campaignArn = serving.campaign?.arn;
    this.registerOutputs({
      datasetGroupArn: this.datasetGroupArn,
      usersDatasetArn: this.usersDatasetArn,
      itemsDatasetArn: this.itemsDatasetArn,
      interactionsDatasetArn: this.interactionsDatasetArn,
      eventTrackerArn: this.eventTrackerArn,
      trackingId: this.trackingId,
      solutionArn: this.solutionArn,
      solutionVersionArn: this.solutionVersionArn,
      campaignArn: this.campaignArn,
    });
  }
}

interface Datasets {
  readonly group: DatasetGroup;
  readonly users: Dataset;
  readonly items: Dataset;
  readonly interactions: Dataset;
}

/** @internal The dataset group and one schema + dataset per dataset type. */
export function createDatasets(
  name: string,
  args: PersonalizeRecommenderArgs,
  parent: pulumi.Resource,
): Datasets {
  const group = new DatasetGroup(
    `${name}-dataset-group`,
    { region: args.region, roleArn: args.roleArn },
    { parent },
  );
  const dataset = (kind: "users" | "items" | "interactions", schema: PersonalizeAvroSchema): Dataset => {
    const schemaResource = new Schema(
      `${name}-${kind}-schema`,
      { region: args.region, roleArn: args.roleArn, schema: JSON.stringify(schema) },
      { parent },
    );
    return new Dataset(
      `${name}-${kind}-dataset`,
      {
        region: args.region,
        roleArn: args.roleArn,
        datasetGroupArn: group.arn,
        schemaArn: schemaResource.arn,
        datasetType: schema.name,
      },
      { parent },
    );
  };
  return {
    group,
    users: dataset("users", args.schemas.users),
    items: dataset("items", args.schemas.items),
    interactions: dataset("interactions", args.schemas.interactions),
  };
}

/** @internal The solution and, when training is on, its version and campaign. */
export function createServing(
  name: string,
  args: PersonalizeRecommenderArgs,
  datasets: Datasets,
  parent: pulumi.Resource,
): { solution: Solution; version?: SolutionVersion; campaign?: Campaign } {
  const solution = new Solution(
    `${name}-solution`,
    {
      region: args.region,
      roleArn: args.roleArn,
      datasetGroupArn: datasets.group.arn,
      recipeArn: args.recipeArn ?? DEFAULT_RECIPE_ARN,
    },
    // CreateSolution needs the datasets; depending on them also deletes the solution first.
    { parent, dependsOn: [datasets.users, datasets.items, datasets.interactions] },
  );
  if (args.trainSolution === false) return { solution };
  const version = new SolutionVersion(
    `${name}-solution-version`,
    {
      region: args.region,
      roleArn: args.roleArn,
      solutionArn: solution.arn,
      wait: { pollIntervalMs: 60_000, timeoutMs: (args.trainingTimeoutMinutes ?? 480) * 60_000 },
    },
    { parent },
  );
  const campaign = new Campaign(
    `${name}-campaign`,
    {
      region: args.region,
      roleArn: args.roleArn,
      solutionVersionArn: version.arn,
      minProvisionedTps: args.minProvisionedTps ?? 1,
      enableMetadataWithRecommendations: args.enableMetadataWithRecommendations ?? true,
    },
    { parent },
  );
  return { solution, version, campaign };
}

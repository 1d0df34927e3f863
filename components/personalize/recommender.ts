import * as pulumi from "@pulumi/pulumi";
import { Dataset, DatasetGroup, DEFAULT_RECIPE_ARN, EventTracker, Schema, Solution } from "./resources";
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
}

/**
 * Amazon Personalize for the Personalized Recommendations domain: a dataset group with Users, Items
 * (songs and podcast episodes) and Interactions datasets whose schemas are derived from the
 * producers' contracts, an event tracker for real-time interactions, and the solution. Training
 * its versions and serving them from a campaign is the training pipeline's (`training.ts`): a
 * training takes hours and needs imported data, which `pulumi up` has neither.
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

  constructor(name: string, args: PersonalizeRecommenderArgs, opts?: pulumi.ComponentResourceOptions) {
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
    const solution = createSolution(name, args, datasets, this);

    this.datasetGroupArn = datasets.group.arn;
    this.usersDatasetArn = datasets.users.arn;
    this.itemsDatasetArn = datasets.items.arn;
    this.interactionsDatasetArn = datasets.interactions.arn;
    this.eventTrackerArn = tracker.arn;
    // additionalSecretOutputs protects the state; this keeps the component output secret too.
    this.trackingId = pulumi.secret(tracker.trackingId);
    this.solutionArn = solution.arn;
    this.registerOutputs({
      datasetGroupArn: this.datasetGroupArn,
      usersDatasetArn: this.usersDatasetArn,
      itemsDatasetArn: this.itemsDatasetArn,
      interactionsDatasetArn: this.interactionsDatasetArn,
      eventTrackerArn: this.eventTrackerArn,
      trackingId: this.trackingId,
      solutionArn: this.solutionArn,
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

/** @internal The solution (recipe and configuration; the training pipeline trains its versions). */
export function createSolution(
  name: string,
  args: PersonalizeRecommenderArgs,
  datasets: Datasets,
  parent: pulumi.Resource,
): Solution {
  return new Solution(
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
}

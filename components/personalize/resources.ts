import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { personalizeProvider, type PersonalizeResourceType, type WaitOptions } from "./provider";

/** Module of the dynamic resources' type tokens: `pulumi-nodejs:dynamic/personalize:<Type>`. */
export const PERSONALIZE_MODULE = "personalize";

/** The recipe used when none is given: real-time user personalisation, version 2. */
export const DEFAULT_RECIPE_ARN = "arn:aws:personalize:::recipe/aws-user-personalization-v2";

// One provider object per type and wait: Pulumi caches a provider's serialisation per object.
const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

function providerFor(type: PersonalizeResourceType, wait: WaitOptions = {}): pulumi.dynamic.ResourceProvider {
  const key = `${type}/${wait.pollIntervalMs ?? ""}/${wait.timeoutMs ?? ""}`;
  let provider = providers.get(key);
  if (!provider) {
    provider = personalizeProvider(type, wait) as pulumi.dynamic.ResourceProvider;
    providers.set(key, provider);
  }
  return provider;
}

export interface PersonalizeResourceArgs {
  /**
   * AWS region of the resource. The provider signs its calls with the ambient credentials of the
   * Pulumi process, which must be the deploy role of the recommendations account.
   */
  readonly region: pulumi.Input<string>;
  /** Role assumed to reach the resource's account. @default the ambient credentials */
  readonly roleArn?: pulumi.Input<string>;
  /**
   * Physical name, unique per account and region. Replacing a resource under an unchanged name
   * deletes the old one first.
   * @default the Pulumi resource name
   */
  readonly name?: pulumi.Input<string>;
  /**
   * Poll interval and timeout of the waits for create, update and delete.
   * @default `DEFAULT_WAITS` of the resource type
   */
  readonly wait?: WaitOptions;
}

/** Common base: the provider, the type token and the `arn` output (also the resource id). */
abstract class PersonalizeResource extends pulumi.dynamic.Resource {
  declare public readonly arn: pulumi.Output<string>;
  declare public readonly region: pulumi.Output<string>;

  protected constructor(
    type: PersonalizeResourceType,
    name: string,
    args: PersonalizeResourceArgs,
    props: Record<string, pulumi.Input<unknown> | undefined>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      providerFor(type, args.wait),
      name,
      { region: args.region, roleArn: args.roleArn, name: args.name ?? name, ...props, arn: undefined },
      opts,
      PERSONALIZE_MODULE,
      type,
    );
  }
}

export type DatasetGroupArgs = PersonalizeResourceArgs;

/** A custom Personalize dataset group. */
export class DatasetGroup extends PersonalizeResource {
  constructor(name: string, args: DatasetGroupArgs, opts?: pulumi.CustomResourceOptions) {
    super("DatasetGroup", name, args, {}, opts);
  }
}

export interface SchemaArgs extends PersonalizeResourceArgs {
  /** The Avro schema as a JSON string (see `schemas.ts`). */
  readonly schema: pulumi.Input<string>;
  /**
   * Physical name.
   * @default `<resource name>-<first 8 hex digits of the schema's SHA-256>`, so that a changed
   *   schema is created next to the old one and datasets switch to it in place
   */
  readonly name?: pulumi.Input<string>;
}

/** A Personalize dataset schema. Schemas are immutable: a changed schema is a new resource. */
export class Schema extends PersonalizeResource {
  declare public readonly schema: pulumi.Output<string>;

  constructor(name: string, args: SchemaArgs, opts?: pulumi.CustomResourceOptions) {
    const physicalName = args.name ?? pulumi.output(args.schema).apply((schema) => schemaName(name, schema));
    super("Schema", name, { ...args, name: physicalName }, { schema: args.schema }, opts);
  }
}

/** `<name>-<8 hex digits of the schema's SHA-256>`. */
export function schemaName(name: string, schema: string): string {
  return `${name}-${createHash("sha256").update(schema).digest("hex").slice(0, 8)}`;
}

export interface DatasetArgs extends PersonalizeResourceArgs {
  /** ARN of the dataset group; taking it as input orders the deletes. */
  readonly datasetGroupArn: pulumi.Input<string>;
  /** ARN of the schema; a new one is applied in place with UpdateDataset. */
  readonly schemaArn: pulumi.Input<string>;
  readonly datasetType: "Interactions" | "Items" | "Users";
}

/** A dataset of a dataset group. */
export class Dataset extends PersonalizeResource {
  declare public readonly datasetGroupArn: pulumi.Output<string>;
  declare public readonly schemaArn: pulumi.Output<string>;

  constructor(name: string, args: DatasetArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "Dataset",
      name,
      args,
      { datasetGroupArn: args.datasetGroupArn, schemaArn: args.schemaArn, datasetType: args.datasetType },
      opts,
    );
  }
}

export interface EventTrackerArgs extends PersonalizeResourceArgs {
  /** ARN of the dataset group whose Interactions dataset receives the events. */
  readonly datasetGroupArn: pulumi.Input<string>;
}

/** An event tracker. Its `trackingId` authorises PutEvents and is kept as a secret. */
export class EventTracker extends PersonalizeResource {
  declare public readonly trackingId: pulumi.Output<string>;

  constructor(name: string, args: EventTrackerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "EventTracker",
      name,
      args,
      { datasetGroupArn: args.datasetGroupArn, trackingId: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["trackingId"] }),
    );
  }
}

export interface SolutionArgs extends PersonalizeResourceArgs {
  /** ARN of the dataset group to train on. */
  readonly datasetGroupArn: pulumi.Input<string>;
  /**
   * The recipe.
   * @default "arn:aws:personalize:::recipe/aws-user-personalization-v2"
   */
  readonly recipeArn?: pulumi.Input<string>;
  /**
   * Hyperparameter optimisation (longer, costlier training).
   * @default false
   */
  readonly performHPO?: pulumi.Input<boolean>;
  /**
   * Let Personalize train new versions on its own schedule. Off because the versions are managed
   * here, and automatic training bills without a deployment.
   * @default false
   */
  readonly performAutoTraining?: pulumi.Input<boolean>;
  /**
   * Train only on interactions of this event type.
   * @default all event types
   */
  readonly eventType?: pulumi.Input<string>;
}

/**
 * A solution: recipe and configuration. Its versions are trained, and its campaign created, by the
 * training pipeline (`training.ts`), not by `pulumi up`; deleting the solution deletes that
 * campaign first.
 */
export class Solution extends PersonalizeResource {
  constructor(name: string, args: SolutionArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "Solution",
      name,
      args,
      {
        datasetGroupArn: args.datasetGroupArn,
        recipeArn: args.recipeArn ?? DEFAULT_RECIPE_ARN,
        performHPO: args.performHPO ?? false,
        performAutoTraining: args.performAutoTraining ?? false,
        eventType: args.eventType,
      },
      opts,
    );
  }
}

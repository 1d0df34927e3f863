import { deployRoleArn } from "../../platform/config";
import * as pulumi from "@pulumi/pulumi";
import {
  PERSONALIZE_MODULE,
  PersonalizeRecommender,
  PersonalizeTraining,
} from "../../components/personalize";
import { EtlJob } from "../../components/etl-job";
import { RecommendationsApi } from "../../components/recommendations-api";
import { glueName, mergeJobRoleName } from "../../platform/at-rest";
import type { DomainInfra, HandlerWiring } from "../../components/wiring";
import { datasetSchemas } from "./datasets";
import { mergeTransforms } from "./etl";

/** The handler modules of the domain's subscriptions (paths as declared in `index.ts`). */
export const RecommendationsHandlers = {
  usersUpdate: "handlers/users-update.ts",
  itemsUpdate: "handlers/items-update.ts",
  interactionsUpdate: "handlers/interactions-update.ts",
} as const;
export type RecommendationsHandler = (typeof RecommendationsHandlers)[keyof typeof RecommendationsHandlers];

/** Personalize resources that hold the domain's data: protected and retained where the stack asks. */
export const STATEFUL_PERSONALIZE_TYPES: readonly string[] = ["DatasetGroup", "Dataset"].map(
  (type) => `pulumi-nodejs:dynamic/${PERSONALIZE_MODULE}:${type}`,
);

const protectStateful: pulumi.ResourceTransformation = ({ type, props, opts }) =>
  STATEFUL_PERSONALIZE_TYPES.includes(type)
    ? { props, opts: pulumi.mergeOptions(opts, { protect: true, retainOnDelete: true }) }
    : undefined;

/**
 * The Personalized Recommendations domain's own infrastructure, in its account:
 *
 * - Amazon Personalize (`PersonalizeRecommender`): the dataset group, the Users / Items /
 *   Interactions datasets, the event tracker and the solution. The solution is trained and served
 *   from a campaign in prod only: a dev account has no bulk-imported history to train on (training
 *   needs it and takes hours), while the datasets and the tracker still receive the live events.
 *   With `protect` the dataset group and datasets are protected and retained.
 * - The recommendations API (`RecommendationsApi`), only where there is a campaign: without one
 *   every request would fail, so dev has no API rather than an API that can only answer 5XX.
 * - The wiring of each subscription to Personalize, chosen by the handler module it runs: the
 *   variables the handler reads and exactly the calls it makes.
 *
 * Personalize has no `@pulumi/aws` resources: its dynamic provider calls AWS with the ambient
 * credentials of the Pulumi process, not through `context.provider`. Deploy this unit as the
 * recommendations account's deploy role.
 */
export const recommendationsInfra: DomainInfra = (context) => {
  const { domain, config, provider, tags, alarmTopicArn, protect } = context;
  const known: readonly string[] = Object.values(RecommendationsHandlers);
  const unwired = domain.subscriptions.filter((subscription) => !known.includes(subscription.handler));
  if (unwired.length) {
    throw new Error(
      `recommendationsInfra: no wiring for ${unwired.map((s) => `${s.ref} (${s.handler})`).join(", ")}; known handlers: ${known.join(", ")}`,
    );
  }

  const personalize = new PersonalizeRecommender(
    `${domain.name}-personalize`,
    {
      schemas: datasetSchemas(),
      region: config.region,
      // Dynamic providers cannot use the account's aws.Provider: they assume its deploy role.
      roleArn: deployRoleArn(config, domain.accountAlias),
    },
    { provider, transformations: protect ? [protectStateful] : [] },
  );

  // The merge reads each at-rest subscription through its resource link, as the view the SQL names.
  const missing = domain.atRestSubscriptions.filter((subscription) => !context.atRest[subscription.name]);
  if (missing.length) {
    throw new Error(
      `recommendationsInfra: no reader for the at-rest subscriptions ${missing.map((s) => s.ref).join(", ")}`,
    );
  }
  const mergeJobName = mergeJobRoleName(domain.name);

  // Prod trains and serves; dev only merges and imports (it has no history to train on).
  const training = new PersonalizeTraining(
    `${domain.name}-training`,
    {
      physicalName: `mesh-${domain.name}`,
      accountId: domain.accountId,
      region: config.region,
      datasetArns: {
        users: personalize.usersDatasetArn,
        items: personalize.itemsDatasetArn,
        interactions: personalize.interactionsDatasetArn,
      },
      mergeJobName,
      serving:
        config.environment === "prod"
          ? {
              solutionArn: personalize.solutionArn,
              campaignName: `mesh-${domain.name}-campaign`,
              // The API reads each item's CONTENT_TYPE from the recommendation's metadata.
              enableMetadataWithRecommendations: true,
            }
          : undefined,
      alarmTopicArn,
      protect,
      tags,
    },
    { provider },
  );

  // Started by the training pipeline (its first step), never on a schedule of its own.
  const merge = new EtlJob(
    `${domain.name}-merge`,
    {
      jobName: mergeJobName,
      accountId: domain.accountId,
      region: config.region,
      kmsKeyArn: context.dataKeyArn,
      job: {
        kind: "merge",
        transforms: mergeTransforms,
        views: Object.fromEntries(
          domain.atRestSubscriptions.map((s) => [glueName(s.name), context.atRest[s.name]!]),
        ),
        datasets: { bucket: training.bucketName, keyArn: training.keyArn },
      },
      alarmTopicArn,
      protect,
      tags,
    },
    { provider },
  );

  // The campaign exists once the first training has run; until then the API answers 5XX.
  const api = training.campaignArn
    ? new RecommendationsApi(
        `${domain.name}-api`,
        {
          accountId: domain.accountId,
          region: config.region,
          physicalName: `mesh-${domain.name}-api`,
          campaignArn: training.campaignArn,
          alarmTopicArn,
          tags,
        },
        { provider },
      )
    : undefined;

  const wiring: Record<RecommendationsHandler, HandlerWiring> = {
    [RecommendationsHandlers.usersUpdate]: {
      environment: { PERSONALIZE_USERS_DATASET_ARN: personalize.usersDatasetArn },
      statements: [
        {
          Sid: "PutUsersIntoUsersDataset",
          Effect: "Allow",
          Action: "personalize:PutUsers",
          Resource: personalize.usersDatasetArn,
        },
      ],
    },
    // songs-update and podcasts-update: one Items dataset, the event type tells songs from episodes.
    [RecommendationsHandlers.itemsUpdate]: {
      environment: { PERSONALIZE_ITEMS_DATASET_ARN: personalize.itemsDatasetArn },
      statements: [
        {
          Sid: "PutItemsIntoItemsDataset",
          Effect: "Allow",
          Action: "personalize:PutItems",
          Resource: personalize.itemsDatasetArn,
        },
      ],
    },
    [RecommendationsHandlers.interactionsUpdate]: {
      // A secret output: the function's environment stays encrypted in the Pulumi state (it is
      // still readable to whoever may GetFunctionConfiguration in the recommendations account).
      environment: { PERSONALIZE_TRACKING_ID: personalize.trackingId },
      statements: [
        {
          // PutEvents has no resource-level permissions; the tracking id selects the dataset group.
          Sid: "PutEventsRequiresResourceWildcard",
          Effect: "Allow",
          Action: "personalize:PutEvents",
          Resource: "*",
        },
      ],
    },
  };

  return {
    handlers: Object.fromEntries(
      domain.subscriptions.map((subscription) => [
        subscription.name,
        wiring[subscription.handler as RecommendationsHandler],
      ]),
    ),
    outputs: {
      datasetGroupArn: personalize.datasetGroupArn,
      eventTrackerArn: personalize.eventTrackerArn,
      trainingStateMachineArn: training.stateMachineArn,
      mergeJob: merge.jobName,
      datasetsBucket: training.bucketName,
      ...(training.campaignArn ? { campaignArn: training.campaignArn } : {}),
      ...(api ? { apiEndpoint: api.apiEndpoint, apiExecutionArn: api.executionArn } : {}),
    },
  };
};

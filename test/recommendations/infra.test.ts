import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RecommendationsApi } from "../../components/recommendations-api";
import type { DomainInfraContext, HandlerWiring } from "../../components/wiring";
import { domains } from "../../domains";
import { recommendationsInfra } from "../../domains/recommendations/infra";
import { loadMesh, type Domain } from "../../platform/mesh";
import { unitTags } from "../../platform/tags";
import { evaluateProgram, type Evaluation, type PlannedResource } from "../../tooling/evaluate";
import { meshConfig, policyOf, stackFile } from "../helpers/stacks";

const ACCOUNT = { dev: "210987654326", prod: "310987654326" } as const;
const REGION = "eu-west-1";
const TOPIC = (stack: Stage) => `arn:aws:sns:${REGION}:${ACCOUNT[stack]}:recommendations-alarms`;
const KEY = (stack: Stage) => `arn:aws:kms:${REGION}:${ACCOUNT[stack]}:key/recommendations-data`;
const DYNAMIC = "pulumi-nodejs:dynamic/personalize:";
/** ARN of a Personalize resource as the mock runtime reports it (no aws provider: account zero). */
const personalizeArn = (name: string) =>
  `arn:aws:mock:${REGION}:000000000000:dynamic/personalize/recommendations-personalize-${name}`;
const HANDLERS = join(__dirname, "..", "..", "domains", "recommendations");

type Stage = "dev" | "prod";

/** The variables a handler module reads (`env("...")`, or the dataset variable of a catalogue writer), from its source text. */
function variablesRead(handler: string): string[] {
  const source = readFileSync(join(HANDLERS, handler), "utf8");
  return [...source.matchAll(/\b(?:env\(|datasetVariable: )"([A-Z0-9_]+)"/g)]
    .map((match) => match[1]!)
    .sort();
}

function recommendationsDomain(stack: Stage) {
  const mesh = loadMesh(meshConfig(stack), domains);
  const domain = mesh.domains.find((d) => d.name === "recommendations");
  if (!domain) throw new Error("no recommendations domain in the mesh");
  return { mesh, domain };
}

interface World extends Evaluation {
  readonly domain: Domain;
  /** The wiring as returned, before resolution (secrets still marked). */
  readonly handlers: Readonly<Record<string, HandlerWiring>>;
  readonly ofType: (type: string) => PlannedResource[];
  readonly named: (name: string) => PlannedResource;
}

/** Evaluates `recommendationsInfra` for the real mesh of a stack, in its own provider. */
async function evaluate(stack: Stage, domainOverride?: (domain: Domain) => Domain): Promise<World> {
  const { mesh, domain: parsed } = recommendationsDomain(stack);
  const domain = domainOverride ? domainOverride(parsed) : parsed;
  let handlers: Readonly<Record<string, HandlerWiring>> = {};
  const evaluation = await evaluateProgram({
    stack,
    config: stackFile(stack),
    program: () => {
      const provider = new aws.Provider("account-recommendations", {
        region: REGION,
        allowedAccountIds: [ACCOUNT[stack]],
      });
      const context: DomainInfraContext = {
        domain,
        config: mesh.config,
        provider,
        tags: unitTags(mesh.config, domain.name),
        dataKeyArn: pulumi.output(KEY(stack)),
        alarmTopicArn: pulumi.output(TOPIC(stack)),
        protect: mesh.config.protectStateful,
        products: {},
        // Each at-rest subscription's reader, as AtRestAccess builds it from the producers' tables.
        atRest: Object.fromEntries(
          domain.atRestSubscriptions.map((s) => [
            s.name,
            {
              roleName: pulumi.output(`mesh-recommendations-${s.name}`),
              roleArn: pulumi.output(`arn:aws:iam::${ACCOUNT[stack]}:role/mesh-recommendations-${s.name}`),
              database: pulumi.output(`${s.product.database}_shared`),
              table: s.product.table,
              location: {
                catalogId: s.product.accountId,
                database: s.product.database,
                table: s.product.table,
              },
              columns: s.allColumns
                ? undefined
                : [...s.columns, ...s.product.partitionKeys.map((c) => c.name)],
            },
          ]),
        ),
        tables: {},
      };
      const infra = recommendationsInfra(context);
      handlers = infra.handlers ?? {};
      return { handlers: infra.handlers, outputs: infra.outputs };
    },
  });
  return {
    ...evaluation,
    domain,
    handlers,
    ofType: (type) => evaluation.resources.filter((r) => r.type === type),
    named(name) {
      const found = evaluation.resources.find((r) => r.name === name);
      if (!found) throw new Error(`no resource named ${name}`);
      return found;
    },
  };
}

const personalizeKinds = (world: World) =>
  world.resources
    .filter((r) => r.type.startsWith(DYNAMIC))
    .map((r) => `${r.type.slice(DYNAMIC.length)} ${r.name}`)
    .sort();

const DATASETS_AND_TRACKER = [
  "Dataset recommendations-personalize-interactions-dataset",
  "Dataset recommendations-personalize-items-dataset",
  "Dataset recommendations-personalize-users-dataset",
  "DatasetGroup recommendations-personalize-dataset-group",
  "EventTracker recommendations-personalize-event-tracker",
  "Schema recommendations-personalize-interactions-schema",
  "Schema recommendations-personalize-items-schema",
  "Schema recommendations-personalize-users-schema",
  "Solution recommendations-personalize-solution",
];

describe("recommendationsInfra (Personalized Recommendations domain)", () => {
  describe("dev", () => {
    let dev: World;
    let resolved: { handlers: Record<string, any>; outputs: Record<string, unknown> };
    before(async () => {
      dev = await evaluate("dev");
      resolved = dev.outputs as typeof resolved;
    });

    it("uses the recommendations account of the dev stack file", () => {
      assert.equal(dev.domain.accountId, ACCOUNT.dev);
      assert.deepEqual(dev.named("account-recommendations").inputs.allowedAccountIds, [ACCOUNT.dev]);
    });

    it("creates the Personalize datasets, event tracker and solution, but trains nothing", () => {
      assert.deepEqual(personalizeKinds(dev), DATASETS_AND_TRACKER);
      const group = personalizeArn("dataset-group");
      for (const kind of ["users", "items", "interactions"]) {
        const dataset = dev.named(`recommendations-personalize-${kind}-dataset`);
        assert.equal(dataset.inputs.region, REGION);
        assert.equal(dataset.inputs.datasetGroupArn, group);
        assert.equal(dataset.inputs.datasetType, kind[0]!.toUpperCase() + kind.slice(1));
      }
      assert.equal(dev.named("recommendations-personalize-event-tracker").inputs.datasetGroupArn, group);
      assert.equal(dev.named("recommendations-personalize-solution").inputs.datasetGroupArn, group);
      for (const resource of dev.resources) {
        assert.equal(resource.protect, false, `${resource.type} ${resource.name}`);
        assert.equal(resource.retainOnDelete, false, `${resource.type} ${resource.name}`);
      }
    });

    it("creates no API without a campaign, and exports no campaign or endpoint", () => {
      const types = new Set(dev.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type));
      assert.ok(![...types].some((type) => type.startsWith("aws:apigatewayv2")), [...types].join(", "));
      assert.ok(!types.has("aws:lambda/function:Function"), "no API function, no metrics gate");
      assert.deepEqual(Object.keys(resolved.outputs).sort(), [
        "datasetGroupArn",
        "datasetsBucket",
        "eventTrackerArn",
        "mergeJob",
        "trainingStateMachineArn",
      ]);
    });

    it("runs a merge-and-import pipeline only: no training or campaign state", () => {
      const machine = dev.named("recommendations-training-machine");
      const states = Object.keys(JSON.parse(machine.inputs.definition as string).States);
      assert.ok(states.includes("ImportDatasets"));
      assert.ok(!states.some((state) => /Train|Campaign/.test(state)), states.join(", "));
    });

    it("starts each run with the Glue merge job, which writes the datasets where the imports read them", () => {
      const machine = dev.named("recommendations-training-machine");
      const definition = JSON.parse(machine.inputs.definition as string);
      const job = dev.named("recommendations-merge-job");
      assert.equal(definition.StartAt, "MergeDatasets");
      assert.equal(definition.States.MergeDatasets.Resource, "arn:aws:states:::glue:startJobRun.sync");
      assert.equal(definition.States.MergeDatasets.Parameters.JobName, job.inputs.name);
      assert.equal(job.inputs.glueVersion, "5.0");
      const args = job.inputs.defaultArguments as Record<string, string>;
      assert.equal(args["--mode"], "merge");
      for (const dataset of ["users", "items", "interactions"]) {
        const location = `${args["--datasets_path"]}${dataset}/`;
        assert.ok(String(machine.inputs.definition).includes(`"DataLocation":"${location}"`), location);
      }
      assert.deepEqual(Object.keys(JSON.parse(args["--sql_files"]!)), ["users", "items", "interactions"]);
      // One view per at-rest subscription, read through the resource link.
      assert.deepEqual(
        (JSON.parse(args["--views"]!) as { view: string; database: string }[]).map(
          (v) => `${v.view} ${v.database}`,
        ),
        dev.domain.atRestSubscriptions.map(
          (s) => `${s.name.replace(/-/g, "_")} ${s.product.database}_shared`,
        ),
      );
      // The merge's role gets exactly the subscriptions' Lake Formation reads, no more columns.
      const selects = dev
        .ofType("aws:lakeformation/permissions:Permissions")
        .filter((r) => r.name.startsWith("recommendations-merge-") && r.name.endsWith("-select"));
      assert.equal(selects.length, dev.domain.atRestSubscriptions.length);
      const users = selects.find((r) => r.name === "recommendations-merge-users-history-select")!;
      const usersSubscription = dev.domain.atRestSubscriptions.find((s) => s.name === "users-history")!;
      assert.deepEqual(
        (users.inputs.tableWithColumns as { columnNames?: string[] }).columnNames,
        usersSubscription.allColumns
          ? undefined
          : [...usersSubscription.columns, ...usersSubscription.product.partitionKeys.map((c) => c.name)],
      );
    });

    it("creates Personalize through its dynamic provider, assuming the recommendations deploy role", () => {
      // Dynamic providers cannot use the account's aws.Provider: they assume its deploy role.
      const personalize = dev.resources.filter((r) => r.type.startsWith(DYNAMIC));
      assert.ok(personalize.length >= 7);
      for (const resource of personalize) {
        assert.equal(resource.inputs.roleArn, "arn:aws:iam::210987654326:role/mesh-deployer", resource.name);
        assert.equal(resource.account, "210987654326", resource.name);
        assert.ok(
          resource.urn.includes("mesh:recommendations:Personalize$pulumi-nodejs:dynamic"),
          resource.urn,
        );
      }
    });

    it("wires every subscription, and only those, by the handler it runs", () => {
      assert.deepEqual(Object.keys(dev.handlers).sort(), [
        "interactions-update",
        "podcasts-update",
        "songs-update",
        "users-update",
      ]);
      assert.equal(dev.handlers["songs-update"], dev.handlers["podcasts-update"]);
    });

    it("sets exactly the variables each subscription's handler reads", () => {
      for (const subscription of dev.domain.subscriptions) {
        const environment = dev.handlers[subscription.name]!.environment ?? {};
        assert.deepEqual(
          Object.keys(environment).sort(),
          variablesRead(subscription.handler),
          `${subscription.name} (${subscription.handler})`,
        );
      }
      assert.deepEqual(resolved.handlers["users-update"].environment, {
        PERSONALIZE_USERS_DATASET_ARN: personalizeArn("users-dataset"),
      });
      assert.deepEqual(resolved.handlers["songs-update"].environment, {
        PERSONALIZE_ITEMS_DATASET_ARN: personalizeArn("items-dataset"),
      });
    });

    it("passes the tracking id as a secret", async () => {
      const trackingId = dev.handlers["interactions-update"]!.environment!.PERSONALIZE_TRACKING_ID;
      assert.ok(pulumi.Output.isInstance(trackingId));
      assert.equal(await pulumi.isSecret(trackingId as pulumi.Output<string>), true);
      for (const name of ["users-update", "songs-update"]) {
        const [value] = Object.values(dev.handlers[name]!.environment!);
        assert.equal(await pulumi.isSecret(value as pulumi.Output<string>), false, name);
      }
    });

    it("grants each handler exactly its Personalize call, PutEvents alone on Resource *", () => {
      assert.deepEqual(resolved.handlers["users-update"].statements, [
        {
          Sid: "PutUsersIntoUsersDataset",
          Effect: "Allow",
          Action: "personalize:PutUsers",
          Resource: personalizeArn("users-dataset"),
        },
      ]);
      for (const name of ["songs-update", "podcasts-update"]) {
        assert.deepEqual(resolved.handlers[name].statements, [
          {
            Sid: "PutItemsIntoItemsDataset",
            Effect: "Allow",
            Action: "personalize:PutItems",
            Resource: personalizeArn("items-dataset"),
          },
        ]);
      }
      assert.deepEqual(resolved.handlers["interactions-update"].statements, [
        {
          Sid: "PutEventsRequiresResourceWildcard",
          Effect: "Allow",
          Action: "personalize:PutEvents",
          Resource: "*",
        },
      ]);
    });

    it("refuses a subscription whose handler it has no wiring for", async () => {
      await assert.rejects(
        evaluate("dev", (domain) => {
          const template = domain.subscriptions[0]!;
          return {
            ...domain,
            subscriptions: [
              ...domain.subscriptions,
              {
                ...template,
                ref: "recommendations/trending",
                name: "trending",
                handler: "handlers/trending.ts",
              },
            ],
          };
        }),
        {
          message:
            "recommendationsInfra: no wiring for recommendations/trending (handlers/trending.ts); known handlers: handlers/users-update.ts, handlers/items-update.ts, handlers/interactions-update.ts",
        },
      );
    });
  });

  describe("prod", () => {
    let prod: World;
    let resolved: { handlers: Record<string, any>; outputs: Record<string, unknown> };
    const apiId = "recommendations-api-http-id";
    // Created by the training pipeline; its ARN follows from its name.
    const campaignArn = `arn:aws:personalize:${REGION}:${ACCOUNT.prod}:campaign/mesh-recommendations-campaign`;
    before(async () => {
      prod = await evaluate("prod");
      resolved = prod.outputs as typeof resolved;
    });

    it("trains outside `pulumi up`: the pipeline trains the solution and serves it with item metadata", () => {
      assert.deepEqual(personalizeKinds(prod), DATASETS_AND_TRACKER);
      const definition = JSON.parse(
        prod.named("recommendations-training-machine").inputs.definition as string,
      );
      assert.equal(definition.States.TrainSolutionVersion.Parameters.SolutionArn, personalizeArn("solution"));
      assert.deepEqual(definition.States.UpdateCampaign.Parameters, {
        CampaignArn: campaignArn,
        "SolutionVersionArn.$": "$.version.arn",
        MinProvisionedTPS: 1,
        CampaignConfig: { EnableMetadataWithRecommendations: true },
      });
    });

    it("protects and retains the dataset group, datasets, datasets bucket and its key, the merge job's bucket, and nothing else", () => {
      const kept = prod.resources.filter((r) => r.protect).map((r) => r.name);
      assert.deepEqual(kept.sort(), [
        "recommendations-merge-assets-bucket",
        "recommendations-personalize-dataset-group",
        "recommendations-personalize-interactions-dataset",
        "recommendations-personalize-items-dataset",
        "recommendations-personalize-users-dataset",
        "recommendations-training-datasets-bucket",
        "recommendations-training-key",
      ]);
      assert.deepEqual(
        prod.resources
          .filter((r) => r.retainOnDelete)
          .map((r) => r.name)
          .sort(),
        kept.sort(),
      );
    });

    it("deploys every AWS resource in the recommendations account, tagged for the domain", () => {
      const awsResources = prod.resources.filter((r) => r.type.startsWith("aws:"));
      assert.ok(awsResources.length >= 10, `only ${awsResources.length} AWS resources`);
      for (const resource of awsResources) {
        assert.equal(resource.account, ACCOUNT.prod, `${resource.type} ${resource.name}`);
      }
      const untaggable = new Set([
        "aws:apigatewayv2/integration:Integration",
        "aws:apigatewayv2/route:Route",
        "aws:lambda/permission:Permission",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:scheduler/schedule:Schedule",
        "aws:glue/securityConfiguration:SecurityConfiguration",
        "aws:lakeformation/permissions:Permissions",
        "aws:cloudwatch/eventTarget:EventTarget",
      ]);
      for (const resource of awsResources.filter((r) => !untaggable.has(r.type))) {
        assert.deepEqual(
          resource.inputs.tags,
          { "mesh:domain": "recommendations", "mesh:environment": "prod", "mesh:managed-by": "pulumi" },
          `${resource.type} ${resource.name}`,
        );
      }
    });

    it("serves one IAM-authorized route, no catch-all, through a Lambda proxy integration", () => {
      const [api] = prod.ofType("aws:apigatewayv2/api:Api");
      assert.equal(api!.inputs.protocolType, "HTTP");
      assert.equal(api!.inputs.name, "mesh-recommendations-api");
      assert.equal(api!.inputs.corsConfiguration, undefined);

      const routes = prod.ofType("aws:apigatewayv2/route:Route");
      assert.deepEqual(
        routes.map((r) => [r.inputs.routeKey, r.inputs.authorizationType]),
        [["GET /recommendations/{userId}", "AWS_IAM"]],
      );
      for (const route of routes) assert.equal(route.inputs.authorizationType, "AWS_IAM", route.name);
      assert.equal(routes[0]!.inputs.target, "integrations/recommendations-api-integration-id");
      assert.ok(
        routes[0]!.urn.includes("mesh:recommendations:RecommendationsApi$aws:apigatewayv2/route:Route::"),
      );

      assert.deepEqual(prod.named("recommendations-api-integration").inputs, {
        apiId,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:${REGION}:${ACCOUNT.prod}:function:mesh-recommendations-api/invocations`,
        payloadFormatVersion: "2.0",
        timeoutMilliseconds: 12000,
      });
    });

    it("lets only this API's GET /recommendations route invoke the function", () => {
      const permissions = prod.ofType("aws:lambda/permission:Permission");
      assert.equal(permissions.length, 1);
      assert.deepEqual(permissions[0]!.inputs, {
        action: "lambda:InvokeFunction",
        function: "mesh-recommendations-api",
        principal: "apigateway.amazonaws.com",
        sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT.prod}:${apiId}/*/GET/recommendations/*`,
      });
    });

    it("deploys the $default stage with JSON access logs and throttling", () => {
      const stages = prod.ofType("aws:apigatewayv2/stage:Stage");
      assert.equal(stages.length, 1);
      const stage = stages[0]!;
      assert.equal(stage.inputs.name, "$default");
      assert.equal(stage.inputs.autoDeploy, true);
      const logs = prod.named("recommendations-api-access-logs");
      assert.equal(logs.inputs.name, "/aws/apigateway/mesh-recommendations-api");
      assert.equal(logs.inputs.retentionInDays, 30);
      const settings = stage.inputs.accessLogSettings as { destinationArn: string; format: string };
      assert.equal(
        settings.destinationArn,
        `arn:aws:logs:${REGION}:${ACCOUNT.prod}:log-group:/aws/apigateway/mesh-recommendations-api`,
      );
      const format = JSON.parse(settings.format) as Record<string, string>;
      assert.deepEqual(
        {
          requestId: format.requestId,
          ip: format.ip,
          routeKey: format.routeKey,
          status: format.status,
          latency: format.latency,
          integrationError: format.integrationError,
        },
        {
          requestId: "$context.requestId",
          ip: "$context.identity.sourceIp",
          routeKey: "$context.routeKey",
          status: "$context.status",
          latency: "$context.responseLatency",
          integrationError: "$context.integrationErrorMessage",
        },
      );
      assert.deepEqual(stage.inputs.defaultRouteSettings, {
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
      });
    });

    it("gives the API function GetRecommendations on the campaign and nothing else", () => {
      const policy = prod.named("recommendations-api-handler-policy");
      assert.deepEqual(policyOf(policy).Statement, [
        {
          Sid: "WriteOwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: `arn:aws:logs:${REGION}:${ACCOUNT.prod}:log-group:/aws/lambda/mesh-recommendations-api:*`,
        },
        {
          Sid: "WriteTraces",
          Effect: "Allow",
          Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
          Resource: "*",
        },
        {
          Sid: "GetRecommendationsFromCampaign",
          Effect: "Allow",
          Action: "personalize:GetRecommendations",
          Resource: campaignArn,
        },
      ]);
      const fn = prod.named("recommendations-api-handler-function");
      assert.equal(fn.inputs.name, "mesh-recommendations-api");
      assert.equal(fn.inputs.timeout, 10);
      const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      // Every variable the handler requires is set.
      for (const name of variablesRead("handlers/recommendations-api.ts")) assert.ok(variables[name], name);
      assert.deepEqual(variables, {
        POWERTOOLS_SERVICE_NAME: "mesh-recommendations-api",
        CAMPAIGN_ARN: campaignArn,
      });
    });

    it("alarms on 5XX responses and p99 latency to the domain's topic", () => {
      const alarms = prod
        .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
        .filter((alarm) => alarm.inputs.namespace === "AWS/ApiGateway");
      assert.deepEqual(
        alarms.map((a) => [
          a.inputs.name,
          a.inputs.namespace,
          a.inputs.metricName,
          a.inputs.statistic ?? a.inputs.extendedStatistic,
          a.inputs.threshold,
        ]),
        [
          ["mesh-recommendations-api-5xx", "AWS/ApiGateway", "5xx", "Sum", 5],
          ["mesh-recommendations-api-p99-latency", "AWS/ApiGateway", "Latency", "p99", 1000],
        ],
      );
      for (const alarm of alarms) {
        assert.deepEqual(alarm.inputs.dimensions, { ApiId: apiId }, alarm.name);
        assert.deepEqual(alarm.inputs.alarmActions, [TOPIC("prod")], alarm.name);
        assert.deepEqual(alarm.inputs.okActions, [TOPIC("prod")], alarm.name);
      }
    });

    it("exports the endpoint, dataset group and campaign", () => {
      assert.deepEqual(Object.keys(resolved.outputs).sort(), [
        "apiEndpoint",
        "apiExecutionArn",
        "campaignArn",
        "datasetGroupArn",
        "datasetsBucket",
        "eventTrackerArn",
        "mergeJob",
        "trainingStateMachineArn",
      ]);
      assert.equal(resolved.outputs.campaignArn, campaignArn);
      assert.equal(
        resolved.outputs.apiExecutionArn,
        `arn:aws:execute-api:${REGION}:${ACCOUNT.prod}:${apiId}`,
      );
      assert.equal(resolved.outputs.apiEndpoint, `https://${apiId}.execute-api.${REGION}.amazonaws.com`);
    });
  });

  describe("RecommendationsApi", () => {
    const args = {
      accountId: ACCOUNT.dev,
      region: REGION,
      physicalName: "mesh-recommendations-api",
      campaignArn: "arn:aws:personalize:eu-west-1:210987654326:campaign/recs",
      alarmTopicArn: "arn:aws:sns:eu-west-1:210987654326:alarms",
      tags: {},
    };
    const construct = (program: () => void) =>
      evaluateProgram({ stack: "dev", config: { "mesh:region": REGION }, program });

    it("refuses to be created without a provider for the account", async () => {
      await assert.rejects(
        construct(() => new RecommendationsApi("api", args, {})),
        { message: "RecommendationsApi api: a provider for account 210987654326 is required" },
      );
    });

    it("refuses throttling that would block every request", async () => {
      const provider = () =>
        new aws.Provider("account", { region: REGION, allowedAccountIds: [ACCOUNT.dev] });
      await assert.rejects(
        construct(
          () => new RecommendationsApi("api", { ...args, throttlingRateLimit: 0 }, { provider: provider() }),
        ),
        { message: "RecommendationsApi api: throttlingRateLimit must be positive, is 0" },
      );
      await assert.rejects(
        construct(
          () =>
            new RecommendationsApi("api", { ...args, throttlingBurstLimit: 2.5 }, { provider: provider() }),
        ),
        { message: "RecommendationsApi api: throttlingBurstLimit must be a positive integer, is 2.5" },
      );
    });

    it("applies throttling given as arguments", async () => {
      const evaluation = await construct(
        () =>
          new RecommendationsApi(
            "api",
            { ...args, throttlingRateLimit: 20, throttlingBurstLimit: 40 },
            {
              provider: new aws.Provider("account", { region: REGION, allowedAccountIds: [ACCOUNT.dev] }),
            },
          ),
      );
      const stage = evaluation.resources.find((r) => r.type === "aws:apigatewayv2/stage:Stage");
      assert.deepEqual(stage!.inputs.defaultRouteSettings, {
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
      });
      for (const resource of evaluation.resources.filter((r) => r.type.startsWith("aws:"))) {
        assert.equal(resource.account, ACCOUNT.dev, resource.name);
      }
    });
  });
});

import { strict as assert } from "node:assert";
import {
  CreateCampaignCommand,
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateEventTrackerCommand,
  CreateSolutionVersionCommand,
  DeleteCampaignCommand,
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DescribeCampaignCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeEventTrackerCommand,
  DescribeSolutionVersionCommand,
  PersonalizeClient,
  ResourceInUseException,
  ResourceNotFoundException,
  StopSolutionVersionCreationCommand,
  UpdateCampaignCommand,
  UpdateDatasetCommand,
} from "@aws-sdk/client-personalize";
import * as pulumi from "@pulumi/pulumi";
import { mockClient } from "aws-sdk-client-mock";
import {
  type CampaignInputs,
  type DatasetInputs,
  personalizeProvider,
  PersonalizeResourceError,
  type PersonalizeResourceType,
} from "../../components/personalize/provider";

const REGION = "eu-west-1";
const ACCOUNT = "111122223333";
const arn = (path: string) => `arn:aws:personalize:${REGION}:${ACCOUNT}:${path}`;
const FAST = { pollIntervalMs: 1, timeoutMs: 2_000 };

const notFound = () => new ResourceNotFoundException({ message: "not found", $metadata: {} });
const inUse = () => new ResourceInUseException({ message: "in use", $metadata: {} });

// The providers' methods are optional in the ResourceProvider interface; these are all defined.
function provider<T extends PersonalizeResourceType>(type: T, wait = FAST) {
  const p = personalizeProvider(type, wait);
  return {
    check: p.check!,
    diff: p.diff!,
    create: p.create,
    read: p.read!,
    update: p.update!,
    delete: p.delete!,
  };
}

const campaign: CampaignInputs = {
  region: REGION,
  name: "recs-campaign",
  solutionVersionArn: arn("solution/recs-solution/v1"),
  minProvisionedTPS: 1,
  enableMetadataWithRecommendations: true,
};

const dataset: DatasetInputs = {
  region: REGION,
  name: "recs-items-dataset",
  datasetGroupArn: arn("dataset-group/recs-dataset-group"),
  schemaArn: arn("schema/recs-items-schema-0a1b2c3d"),
  datasetType: "Items",
};

describe("Personalize dynamic providers", () => {
  const personalize = mockClient(PersonalizeClient);
  beforeEach(() => personalize.reset());
  after(() => personalize.restore());

  const sent = () => personalize.calls().map((call) => call.args[0].constructor.name);

  describe("create", () => {
    it("creates, then describes until ACTIVE, and keeps the inputs and ARN as state", async () => {
      const groupArn = arn("dataset-group/recs-dataset-group");
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: groupArn });
      personalize
        .on(DescribeDatasetGroupCommand)
        .resolvesOnce({ datasetGroup: { status: "CREATE PENDING" } })
        .resolvesOnce({ datasetGroup: { status: "CREATE IN_PROGRESS" } })
        .resolves({ datasetGroup: { status: "ACTIVE" } });

      const result = await provider("DatasetGroup").create({ region: REGION, name: "recs-dataset-group" });

      assert.deepEqual(sent(), [
        "CreateDatasetGroupCommand",
        "DescribeDatasetGroupCommand",
        "DescribeDatasetGroupCommand",
        "DescribeDatasetGroupCommand",
      ]);
      assert.deepEqual(personalize.commandCalls(CreateDatasetGroupCommand)[0]!.args[0].input, {
        name: "recs-dataset-group",
      });
      assert.deepEqual(result, {
        id: groupArn,
        outs: { region: REGION, name: "recs-dataset-group", arn: groupArn },
      });
    });

    it("passes the parent ARNs it was given and does not send the serialised provider", async () => {
      const datasetArn = arn("dataset/recs-dataset-group/ITEMS");
      personalize.on(CreateDatasetCommand).resolves({ datasetArn });
      personalize
        .on(DescribeDatasetCommand)
        .resolves({ dataset: { status: "ACTIVE", schemaArn: dataset.schemaArn } });

      const result = await provider("Dataset").create({
        ...dataset,
        __provider: "exports.handler = ...",
      } as never);

      assert.deepEqual(personalize.commandCalls(CreateDatasetCommand)[0]!.args[0].input, {
        name: "recs-items-dataset",
        datasetGroupArn: dataset.datasetGroupArn,
        schemaArn: dataset.schemaArn,
        datasetType: "Items",
      });
      assert.deepEqual(result.outs, { ...dataset, arn: datasetArn, schemaArn: dataset.schemaArn });
    });

    it("tolerates a Describe that does not see the new resource yet", async () => {
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: arn("dataset-group/g") });
      personalize
        .on(DescribeDatasetGroupCommand)
        .rejectsOnce(notFound())
        .resolves({ datasetGroup: { status: "ACTIVE" } });

      const result = await provider("DatasetGroup").create({ region: REGION, name: "g" });

      assert.equal(result.id, arn("dataset-group/g"));
    });

    it("fails with the resource type, name, status and failure reason", async () => {
      const versionArn = arn("solution/recs-solution/abc123");
      personalize.on(CreateSolutionVersionCommand).resolves({ solutionVersionArn: versionArn });
      personalize
        .on(DescribeSolutionVersionCommand)
        .resolvesOnce({ solutionVersion: { status: "CREATE IN_PROGRESS" } })
        .resolves({
          solutionVersion: {
            status: "CREATE FAILED",
            failureReason: "Insufficient data: at least 1000 interactions are required",
          },
        });

      const create = provider("SolutionVersion").create({
        region: REGION,
        name: "recs-solution-version",
        solutionArn: arn("solution/recs-solution"),
        trainingMode: "FULL",
      });

      await assert.rejects(create, (error: unknown) => {
        assert.ok(error instanceof PersonalizeResourceError);
        assert.equal(
          error.message,
          `Personalize SolutionVersion recs-solution-version (${versionArn}) is CREATE FAILED: ` +
            "Insufficient data: at least 1000 interactions are required",
        );
        // id and properties make Pulumi keep the failed resource in the state.
        assert.equal(error.id, versionArn);
        assert.deepEqual(error.properties, {
          region: REGION,
          name: "recs-solution-version",
          solutionArn: arn("solution/recs-solution"),
          trainingMode: "FULL",
          arn: versionArn,
        });
        return true;
      });
    });

    it("keeps the serialised provider in the state of a failed resource, so that it can be deleted", async () => {
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: arn("dataset-group/g") });
      personalize.on(DescribeDatasetGroupCommand).resolves({
        datasetGroup: { status: "CREATE FAILED", failureReason: "KMS key not accessible" },
      });

      await assert.rejects(
        provider("DatasetGroup").create({
          region: REGION,
          name: "g",
          __provider: "exports.handler = 1",
        } as never),
        {
          message: `Personalize DatasetGroup g (${arn("dataset-group/g")}) is CREATE FAILED: KMS key not accessible`,
          properties: {
            region: REGION,
            name: "g",
            arn: arn("dataset-group/g"),
            __provider: "exports.handler = 1",
          },
        },
      );
    });

    it("fails when the resource does not become ACTIVE in time, with the last status", async () => {
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: arn("dataset-group/slow") });
      personalize
        .on(DescribeDatasetGroupCommand)
        .resolves({ datasetGroup: { status: "CREATE IN_PROGRESS" } });

      await assert.rejects(
        provider("DatasetGroup", { pollIntervalMs: 1, timeoutMs: 20 }).create({
          region: REGION,
          name: "slow",
        }),
        {
          name: "PersonalizeResourceError",
          message: `Personalize DatasetGroup slow (${arn("dataset-group/slow")}) did not become ACTIVE within 0 s (last status: CREATE IN_PROGRESS)`,
        },
      );
    });

    it("names the resource when the create call itself is refused", async () => {
      personalize
        .on(CreateDatasetGroupCommand)
        .rejects(new Error("LimitExceededException: too many dataset groups"));

      await assert.rejects(provider("DatasetGroup").create({ region: REGION, name: "recs-dataset-group" }), {
        message:
          "Personalize DatasetGroup recs-dataset-group could not be created: Error: LimitExceededException: too many dataset groups",
      });
    });

    it("returns the event tracker's trackingId as an output", async () => {
      const trackerArn = arn("event-tracker/abc");
      personalize
        .on(CreateEventTrackerCommand)
        .resolves({ eventTrackerArn: trackerArn, trackingId: "tid-123" });
      personalize
        .on(DescribeEventTrackerCommand)
        .resolves({ eventTracker: { status: "ACTIVE", trackingId: "tid-123" } });

      const result = await provider("EventTracker").create({
        region: REGION,
        name: "recs-event-tracker",
        datasetGroupArn: arn("dataset-group/recs-dataset-group"),
      });

      assert.equal(result.outs?.trackingId, "tid-123");
    });

    it("sends the campaign's TPS and metadata setting with CreateCampaign", async () => {
      personalize.on(CreateCampaignCommand).resolves({ campaignArn: arn("campaign/c") });
      personalize.on(DescribeCampaignCommand).resolves({
        campaign: {
          status: "ACTIVE",
          solutionVersionArn: campaign.solutionVersionArn,
          minProvisionedTPS: 1,
          campaignConfig: { enableMetadataWithRecommendations: true },
        },
      });

      await provider("Campaign").create(campaign);

      assert.deepEqual(personalize.commandCalls(CreateCampaignCommand)[0]!.args[0].input, {
        name: "recs-campaign",
        solutionVersionArn: campaign.solutionVersionArn,
        minProvisionedTPS: 1,
        campaignConfig: { enableMetadataWithRecommendations: true },
      });
    });
  });

  describe("update", () => {
    it("updates a campaign in place and waits until it serves the new version", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      const v2 = arn("solution/recs-solution/v2");
      personalize.on(UpdateCampaignCommand).resolves({ campaignArn });
      personalize
        .on(DescribeCampaignCommand)
        .resolvesOnce({
          campaign: {
            status: "ACTIVE",
            solutionVersionArn: campaign.solutionVersionArn,
            minProvisionedTPS: 1,
            latestCampaignUpdate: { status: "CREATE PENDING" },
          },
        })
        .resolvesOnce({
          campaign: {
            status: "ACTIVE",
            solutionVersionArn: campaign.solutionVersionArn,
            minProvisionedTPS: 1,
            latestCampaignUpdate: { status: "CREATE IN_PROGRESS" },
          },
        })
        .resolves({
          campaign: {
            status: "ACTIVE",
            solutionVersionArn: v2,
            minProvisionedTPS: 5,
            campaignConfig: { enableMetadataWithRecommendations: true },
            latestCampaignUpdate: { status: "ACTIVE" },
          },
        });

      const result = await provider("Campaign").update(
        campaignArn,
        { ...campaign, arn: campaignArn },
        { ...campaign, solutionVersionArn: v2, minProvisionedTPS: 5 },
      );

      assert.deepEqual(personalize.commandCalls(UpdateCampaignCommand)[0]!.args[0].input, {
        campaignArn,
        solutionVersionArn: v2,
        minProvisionedTPS: 5,
        campaignConfig: { enableMetadataWithRecommendations: true },
      });
      assert.equal(personalize.commandCalls(DescribeCampaignCommand).length, 3);
      assert.deepEqual(result.outs, {
        ...campaign,
        solutionVersionArn: v2,
        minProvisionedTPS: 5,
        arn: campaignArn,
      });
    });

    it("fails with the failure reason when the campaign update fails", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      personalize.on(UpdateCampaignCommand).resolves({ campaignArn });
      personalize.on(DescribeCampaignCommand).resolves({
        campaign: {
          status: "ACTIVE",
          solutionVersionArn: campaign.solutionVersionArn,
          minProvisionedTPS: 1,
          latestCampaignUpdate: { status: "CREATE FAILED", failureReason: "Solution version is not ACTIVE" },
        },
      });

      await assert.rejects(
        provider("Campaign").update(
          campaignArn,
          { ...campaign, arn: campaignArn },
          { ...campaign, solutionVersionArn: arn("solution/recs-solution/v3") },
        ),
        {
          message: `Personalize Campaign recs-campaign (${campaignArn}) is CREATE FAILED: Solution version is not ACTIVE`,
        },
      );
    });

    it("only waits when nothing updatable changed (a create that failed or timed out)", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      personalize
        .on(DescribeCampaignCommand)
        .resolvesOnce({ campaign: { status: "CREATE IN_PROGRESS" } })
        .resolves({
          campaign: {
            status: "ACTIVE",
            solutionVersionArn: campaign.solutionVersionArn,
            minProvisionedTPS: 1,
            campaignConfig: { enableMetadataWithRecommendations: true },
          },
        });

      await provider("Campaign").update(campaignArn, { ...campaign, arn: campaignArn }, campaign);

      assert.deepEqual(sent(), ["DescribeCampaignCommand", "DescribeCampaignCommand"]);
    });

    it("switches a dataset to a new schema with UpdateDataset", async () => {
      const datasetArn = arn("dataset/recs-dataset-group/ITEMS");
      const newSchema = arn("schema/recs-items-schema-9f8e7d6c");
      personalize.on(UpdateDatasetCommand).resolves({ datasetArn });
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce({
          dataset: {
            status: "ACTIVE",
            schemaArn: dataset.schemaArn,
            latestDatasetUpdate: { status: "UPDATE IN_PROGRESS" },
          },
        })
        .resolves({
          dataset: { status: "ACTIVE", schemaArn: newSchema, latestDatasetUpdate: { status: "ACTIVE" } },
        });

      const result = await provider("Dataset").update(
        datasetArn,
        { ...dataset, arn: datasetArn },
        { ...dataset, schemaArn: newSchema },
      );

      assert.deepEqual(personalize.commandCalls(UpdateDatasetCommand)[0]!.args[0].input, {
        datasetArn,
        schemaArn: newSchema,
      });
      assert.equal(result.outs?.schemaArn, newSchema);
    });
  });

  describe("delete", () => {
    it("deletes and waits until Describe no longer finds the resource", async () => {
      const datasetArn = arn("dataset/recs-dataset-group/ITEMS");
      personalize.on(DeleteDatasetCommand).resolves({});
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce({ dataset: { status: "DELETE PENDING" } })
        .resolvesOnce({ dataset: { status: "DELETE IN_PROGRESS" } })
        .rejects(notFound());

      await provider("Dataset").delete(datasetArn, { ...dataset, arn: datasetArn });

      assert.deepEqual(sent(), [
        "DeleteDatasetCommand",
        "DescribeDatasetCommand",
        "DescribeDatasetCommand",
        "DescribeDatasetCommand",
      ]);
    });

    it("retries while the resource is still in use by a dependent being deleted", async () => {
      const groupArn = arn("dataset-group/recs-dataset-group");
      personalize.on(DeleteDatasetGroupCommand).rejectsOnce(inUse()).rejectsOnce(inUse()).resolves({});
      personalize.on(DescribeDatasetGroupCommand).rejects(notFound());

      await provider("DatasetGroup").delete(groupArn, {
        region: REGION,
        name: "recs-dataset-group",
        arn: groupArn,
      });

      assert.equal(personalize.commandCalls(DeleteDatasetGroupCommand).length, 3);
    });

    it("treats a resource that is already gone as deleted", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      personalize.on(DeleteCampaignCommand).rejects(notFound());

      await provider("Campaign").delete(campaignArn, { ...campaign, arn: campaignArn });

      assert.deepEqual(sent(), ["DeleteCampaignCommand"]);
    });

    it("fails naming the resource when it is not gone in time", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      personalize.on(DeleteCampaignCommand).resolves({});
      personalize.on(DescribeCampaignCommand).resolves({ campaign: { status: "DELETE IN_PROGRESS" } });

      await assert.rejects(
        provider("Campaign", { pollIntervalMs: 1, timeoutMs: 20 }).delete(campaignArn, {
          ...campaign,
          arn: campaignArn,
        }),
        { message: `Personalize Campaign recs-campaign (${campaignArn}) was not deleted within 0 s` },
      );
    });

    it("stops a solution version still training, and leaves a trained one to its solution", async () => {
      const versionArn = arn("solution/recs-solution/abc123");
      const state = {
        region: REGION,
        name: "recs-solution-version",
        solutionArn: arn("solution/recs-solution"),
        trainingMode: "FULL" as const,
        arn: versionArn,
      };
      personalize.on(StopSolutionVersionCreationCommand).resolves({});
      personalize
        .on(DescribeSolutionVersionCommand)
        .resolvesOnce({ solutionVersion: { status: "CREATE IN_PROGRESS" } })
        .resolves({ solutionVersion: { status: "ACTIVE" } });

      await provider("SolutionVersion").delete(versionArn, state);
      await provider("SolutionVersion").delete(versionArn, state);

      assert.deepEqual(personalize.commandCalls(StopSolutionVersionCreationCommand).length, 1);
    });
  });

  describe("diff", () => {
    it("reports no changes for equal inputs", async () => {
      const result = await provider("Campaign").diff("id", { ...campaign, arn: "id" }, campaign);
      assert.deepEqual(result, { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("updates a campaign's solution version and TPS in place", async () => {
      const result = await provider("Campaign").diff(
        "id",
        { ...campaign, arn: "id" },
        { ...campaign, solutionVersionArn: arn("solution/recs-solution/v2"), minProvisionedTPS: 3 },
      );
      assert.deepEqual(result, { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("replaces a renamed campaign without deleting first, since the names differ", async () => {
      const result = await provider("Campaign").diff(
        "id",
        { ...campaign, arn: "id" },
        { ...campaign, name: "other" },
      );
      assert.deepEqual(result, { changes: true, replaces: ["name"], deleteBeforeReplace: false });
    });

    it("replaces a dataset moved to another dataset group, deleting first because the name stays", async () => {
      const result = await provider("Dataset").diff(
        "id",
        { ...dataset, arn: "id" },
        { ...dataset, datasetGroupArn: arn("dataset-group/other") },
      );
      assert.deepEqual(result, { changes: true, replaces: ["datasetGroupArn"], deleteBeforeReplace: true });
    });

    it("keeps a dataset whose schema changes", async () => {
      const result = await provider("Dataset").diff(
        "id",
        { ...dataset, arn: "id" },
        { ...dataset, schemaArn: arn("schema/recs-items-schema-9f8e7d6c") },
      );
      assert.deepEqual(result, { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("replaces a schema whose definition changes", async () => {
      const olds = { region: REGION, name: "s-1", schema: "{}", arn: "id" };
      assert.deepEqual(await provider("Schema").diff("id", olds, { ...olds, schema: '{"a":1}' }), {
        changes: true,
        replaces: ["schema"],
        deleteBeforeReplace: true,
      });
      assert.deepEqual(
        await provider("Schema").diff("id", olds, { ...olds, name: "s-2", schema: '{"a":1}' }),
        {
          changes: true,
          replaces: ["name", "schema"],
          deleteBeforeReplace: false,
        },
      );
    });

    it("replaces a solution on any change, and a region change replaces everything", async () => {
      const solution = {
        region: REGION,
        name: "recs-solution",
        datasetGroupArn: arn("dataset-group/g"),
        recipeArn: "arn:aws:personalize:::recipe/aws-user-personalization-v2",
        performHPO: false,
        performAutoTraining: false,
      };
      assert.deepEqual(
        (await provider("Solution").diff("id", { ...solution, arn: "id" }, { ...solution, performHPO: true }))
          .replaces,
        ["performHPO"],
      );
      assert.deepEqual(
        (
          await provider("Campaign").diff(
            "id",
            { ...campaign, arn: "id" },
            { ...campaign, region: "us-east-1" },
          )
        ).replaces,
        ["region"],
      );
    });

    it("trains a new solution version before the old one goes (no delete first)", async () => {
      const olds = {
        region: REGION,
        name: "v",
        solutionArn: arn("solution/a"),
        trainingMode: "FULL" as const,
        arn: "id",
      };
      assert.deepEqual(
        await provider("SolutionVersion").diff("id", olds, { ...olds, trainingMode: "UPDATE" }),
        {
          changes: true,
          replaces: ["trainingMode"],
          deleteBeforeReplace: false,
        },
      );
    });
  });

  describe("read and check", () => {
    it("refreshes drift-prone values and reports a deleted resource as gone", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      personalize
        .on(DescribeCampaignCommand)
        .resolvesOnce({
          campaign: {
            status: "ACTIVE",
            solutionVersionArn: campaign.solutionVersionArn,
            minProvisionedTPS: 10,
            campaignConfig: { enableMetadataWithRecommendations: true },
          },
        })
        .rejects(notFound());

      const read = await provider("Campaign").read(campaignArn, { ...campaign, arn: campaignArn });
      assert.deepEqual(read, {
        id: campaignArn,
        props: { ...campaign, minProvisionedTPS: 10, arn: campaignArn },
      });
      assert.deepEqual(await provider("Campaign").read(campaignArn, { ...campaign, arn: campaignArn }), {});
    });

    it("rejects names Personalize would refuse", async () => {
      const result = await provider("DatasetGroup").check({} as never, { region: REGION, name: "bad name!" });
      assert.deepEqual(result.failures, [
        { property: "name", reason: 'must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,62}$, is "bad name!"' },
      ]);
    });
  });

  describe("serialisation", () => {
    it("serialises to a small closure that still works when loaded the way the provider host does", async () => {
      const p = personalizeProvider("DatasetGroup", FAST);
      const { text } = await pulumi.runtime.serializeFunction(() => p, { allowSecrets: true });
      assert.ok(text.length < 20_000, `serialised provider is ${text.length} characters`);
      assert.doesNotMatch(text, /PersonalizeClient\.prototype|smithy/);

      // The dynamic provider host loads `__provider` with require-from-string.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const requireFromString = require("require-from-string") as (code: string) => { handler(): typeof p };
      const loaded = requireFromString(text).handler();
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: arn("dataset-group/g") });
      personalize.on(DescribeDatasetGroupCommand).resolves({ datasetGroup: { status: "ACTIVE" } });

      const result = await loaded.create({ region: REGION, name: "g" });

      assert.equal(result.id, arn("dataset-group/g"));
    });
  });
});

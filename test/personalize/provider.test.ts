import { strict as assert } from "node:assert";
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateEventTrackerCommand,
  CreateSchemaCommand,
  CreateSolutionCommand,
  DeleteCampaignCommand,
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DeleteSolutionCommand,
  DescribeCampaignCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeEventTrackerCommand,
  DescribeSchemaCommand,
  DescribeSolutionCommand,
  ListCampaignsCommand,
  ListSchemasCommand,
  ListSolutionsCommand,
  ListSolutionVersionsCommand,
  PersonalizeClient,
  PersonalizeServiceException,
  ResourceInUseException,
  ResourceNotFoundException,
  StopSolutionVersionCreationCommand,
  UpdateDatasetCommand,
} from "@aws-sdk/client-personalize";
import * as pulumi from "@pulumi/pulumi";
import { mockClient } from "aws-sdk-client-mock";
import {
  backoffDelay,
  type DatasetInputs,
  personalizeProvider,
  PersonalizeResourceError,
  PersonalizeResourceType,
  type SolutionInputs,
} from "../../components/personalize/provider";

const REGION = "eu-west-1";
const ACCOUNT = "111122223333";
const arn = (path: string) => `arn:aws:personalize:${REGION}:${ACCOUNT}:${path}`;
const FAST = { pollIntervalMs: 1, timeoutMs: 2_000 };
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/mesh-deploy`;

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

const dataset: DatasetInputs = {
  region: REGION,
  name: "recs-items-dataset",
  datasetGroupArn: arn("dataset-group/recs-dataset-group"),
  schemaArn: arn("schema/recs-items-schema-0a1b2c3d"),
  datasetType: "Items",
};

const solution: SolutionInputs = {
  region: REGION,
  name: "recs-solution",
  datasetGroupArn: arn("dataset-group/recs-dataset-group"),
  recipeArn: "arn:aws:personalize:::recipe/aws-user-personalization-v2",
  performHPO: false,
  performAutoTraining: false,
};
const solutionArn = arn("solution/recs-solution");
const describedSolution = (status: string) => ({
  solution: {
    status,
    name: solution.name,
    solutionArn,
    datasetGroupArn: solution.datasetGroupArn,
    recipeArn: solution.recipeArn,
    performHPO: false,
    performAutoTraining: false,
  },
});

/** A service error as the SDK deserialises it from the wire: name, message, HTTP metadata. */
function serviceError(name: string, httpStatusCode = 400) {
  return new PersonalizeServiceException({
    name,
    $fault: "client",
    message: `${name} from the service`,
    $metadata: { httpStatusCode },
  });
}

describe("Personalize dynamic providers", () => {
  const personalize = mockClient(PersonalizeClient);
  beforeEach(() => personalize.reset());
  after(() => personalize.restore());

  const sent = () => personalize.calls().map((call) => call.args[0].constructor.name);

  describe("create", () => {
    it("creates, then describes until ACTIVE, and keeps the inputs, ARN and status as state", async () => {
      const groupArn = arn("dataset-group/recs-dataset-group");
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: groupArn });
      personalize
        .on(DescribeDatasetGroupCommand)
        .resolvesOnce({ datasetGroup: { status: "CREATE PENDING" } })
        .resolvesOnce({ datasetGroup: { status: "CREATE IN_PROGRESS" } })
        .resolves({ datasetGroup: { status: "ACTIVE", name: "recs-dataset-group" } });

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
        outs: { region: REGION, name: "recs-dataset-group", arn: groupArn, status: "ACTIVE" },
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
      assert.deepEqual(result.outs, { ...dataset, arn: datasetArn, status: "ACTIVE" });
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

    it("fails with the resource type, name, status and failure reason, keeping the resource", async () => {
      const groupArn = arn("dataset-group/g");
      personalize.on(CreateDatasetGroupCommand).resolves({ datasetGroupArn: groupArn });
      personalize
        .on(DescribeDatasetGroupCommand)
        .resolvesOnce({ datasetGroup: { status: "CREATE IN_PROGRESS" } })
        .resolves({ datasetGroup: { status: "CREATE FAILED", failureReason: "KMS key not accessible" } });

      await assert.rejects(
        provider("DatasetGroup").create({
          region: REGION,
          name: "g",
          __provider: "exports.handler = 1",
        } as never),
        (error: unknown) => {
          assert.ok(error instanceof PersonalizeResourceError);
          assert.equal(
            error.message,
            `Personalize DatasetGroup g (${groupArn}) is CREATE FAILED: KMS key not accessible`,
          );
          // id and properties make Pulumi keep the failed resource; __provider lets it delete it.
          assert.equal(error.id, groupArn);
          assert.deepEqual(error.properties, {
            region: REGION,
            name: "g",
            arn: groupArn,
            status: "CREATE FAILED",
            __provider: "exports.handler = 1",
          });
          return true;
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
          id: arn("dataset-group/slow"),
        },
      );
    });

    it("names the resource when the create call itself is refused", async () => {
      personalize.on(CreateDatasetGroupCommand).rejects(serviceError("LimitExceededException"));

      await assert.rejects(provider("DatasetGroup").create({ region: REGION, name: "recs-dataset-group" }), {
        message:
          "Personalize DatasetGroup recs-dataset-group could not be created: LimitExceededException: LimitExceededException from the service",
        id: undefined,
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
  });

  describe("create survives the failures of a real deployment", () => {
    it("keeps waiting through the service's throttling", async () => {
      personalize.on(CreateSolutionCommand).resolves({ solutionArn });
      personalize
        .on(DescribeSolutionCommand)
        .rejectsOnce(serviceError("ThrottlingException"))
        .rejectsOnce(serviceError("ThrottlingException"))
        .rejectsOnce(serviceError("TooManyRequestsException", 429))
        .resolves(describedSolution("ACTIVE"));

      const result = await provider("Solution").create(solution);

      assert.equal(result.id, solutionArn);
      assert.equal(personalize.commandCalls(DescribeSolutionCommand).length, 4);
    });

    it("retries a throttled create call instead of failing the deployment", async () => {
      personalize
        .on(CreateSolutionCommand)
        .rejectsOnce(serviceError("ThrottlingException"))
        .resolves({ solutionArn });
      personalize.on(DescribeSolutionCommand).resolves(describedSolution("ACTIVE"));

      assert.equal((await provider("Solution").create(solution)).id, solutionArn);
    });

    it("reconnects with fresh credentials when they expire during a long wait, as often as they do", async () => {
      personalize.on(CreateSolutionCommand).resolves({ solutionArn });
      personalize
        .on(DescribeSolutionCommand)
        .resolvesOnce(describedSolution("CREATE IN_PROGRESS"))
        .rejectsOnce(serviceError("ExpiredTokenException"))
        .resolvesOnce(describedSolution("CREATE IN_PROGRESS"))
        .rejectsOnce(serviceError("ExpiredTokenException"))
        .resolves(describedSolution("ACTIVE"));

      const result = await provider("Solution").create({ ...solution, roleArn: DEPLOY_ROLE });

      assert.equal(result.id, solutionArn);
      // Each expiry is followed by a call on a new client, which fetches new credentials.
      const clients = personalize.send.getCalls().map((call) => call.thisValue as PersonalizeClient);
      assert.equal(new Set(clients).size, 3);
      assert.equal(result.outs?.roleArn, DEPLOY_ROLE);
    });

    for (const failure of ["ExpiredTokenException", "AccessDeniedException"]) {
      it(`keeps the created resource in the state when the wait ends on ${failure}`, async () => {
        personalize.on(CreateSolutionCommand).resolves({ solutionArn });
        personalize
          .on(DescribeSolutionCommand)
          .resolvesOnce(describedSolution("CREATE IN_PROGRESS"))
          .rejects(serviceError(failure, 403));

        await assert.rejects(provider("Solution").create(solution), (error: unknown) => {
          assert.ok(error instanceof PersonalizeResourceError);
          assert.equal(
            error.message,
            `Personalize Solution recs-solution (${solutionArn}) could not be followed: ${failure}: ${failure} from the service`,
          );
          assert.equal(error.id, solutionArn);
          // Not a failure status: the next `pulumi up` waits again instead of replacing it.
          assert.deepEqual(error.properties, { ...solution, arn: solutionArn, status: "UNKNOWN" });
          return true;
        });
        assert.equal(personalize.commandCalls(CreateSolutionCommand).length, 1);
      });
    }

    it("adopts a resource of the same name and inputs (a create whose answer was lost)", async () => {
      personalize.on(CreateSolutionCommand).rejects(serviceError("ResourceAlreadyExistsException"));
      personalize
        .on(ListSolutionsCommand)
        .resolvesOnce({
          solutions: [{ name: "other", solutionArn: arn("solution/other") }],
          nextToken: "page-2",
        })
        .resolves({ solutions: [{ name: "recs-solution", solutionArn }] });
      personalize
        .on(DescribeSolutionCommand)
        .resolvesOnce(describedSolution("CREATE IN_PROGRESS"))
        .resolves(describedSolution("ACTIVE"));

      const result = await provider("Solution").create(solution);

      assert.deepEqual(result, {
        id: solutionArn,
        outs: { ...solution, arn: solutionArn, status: "ACTIVE" },
      });
      // The second page was read: the paginator follows nextToken.
      assert.equal(personalize.commandCalls(ListSolutionsCommand).length, 2);
      assert.equal(personalize.commandCalls(CreateSolutionCommand).length, 1);
    });

    it("refuses to adopt a resource of the same name with other inputs, naming them", async () => {
      personalize.on(CreateSolutionCommand).rejects(serviceError("ResourceAlreadyExistsException"));
      personalize.on(ListSolutionsCommand).resolves({ solutions: [{ name: "recs-solution", solutionArn }] });
      personalize.on(DescribeSolutionCommand).resolves({
        solution: { ...describedSolution("ACTIVE").solution, performHPO: true },
      });

      await assert.rejects(provider("Solution").create(solution), {
        name: "PersonalizeResourceError",
        message:
          `Personalize Solution recs-solution could not be created: it already exists as ${solutionArn} ` +
          "with other inputs (performHPO is true, the program has false); import it, delete it or rename it",
        id: undefined,
      });
    });

    it("adopts a schema whose JSON the service reformatted", async () => {
      const schemaArn = arn("schema/recs-items-schema-0a1b2c3d");
      const schema = '{"type":"record","name":"Items","fields":[]}';
      personalize.on(CreateSchemaCommand).rejects(serviceError("ResourceAlreadyExistsException"));
      personalize
        .on(ListSchemasCommand)
        .resolves({ schemas: [{ name: "recs-items-schema-0a1b2c3d", schemaArn }] });
      personalize.on(DescribeSchemaCommand).resolves({
        schema: {
          name: "recs-items-schema-0a1b2c3d",
          schemaArn,
          schema: JSON.stringify(JSON.parse(schema), null, 2),
        },
      });

      const result = await provider("Schema").create({
        region: REGION,
        name: "recs-items-schema-0a1b2c3d",
        schema,
      });

      assert.equal(result.id, schemaArn);
      assert.equal(result.outs?.schema, schema);
    });
  });

  describe("update", () => {
    const datasetArn = arn("dataset/recs-dataset-group/ITEMS");
    const newSchema = arn("schema/recs-items-schema-9f8e7d6c");
    const described = (schemaArn: string, update?: object) => ({
      dataset: {
        status: "ACTIVE",
        name: dataset.name,
        datasetArn,
        datasetGroupArn: dataset.datasetGroupArn,
        datasetType: "ITEMS",
        schemaArn,
        ...(update ? { latestDatasetUpdate: update } : {}),
      },
    });

    it("switches a dataset to a new schema with UpdateDataset and waits until it has it", async () => {
      personalize.on(UpdateDatasetCommand).resolves({ datasetArn });
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce(described(dataset.schemaArn))
        .resolvesOnce(described(dataset.schemaArn, { schemaArn: newSchema, status: "UPDATE IN_PROGRESS" }))
        .resolves(described(newSchema, { schemaArn: newSchema, status: "ACTIVE" }));

      const result = await provider("Dataset").update(
        datasetArn,
        { ...dataset, arn: datasetArn, status: "ACTIVE" },
        { ...dataset, schemaArn: newSchema },
      );

      assert.deepEqual(personalize.commandCalls(UpdateDatasetCommand)[0]!.args[0].input, {
        datasetArn,
        schemaArn: newSchema,
      });
      assert.deepEqual(result.outs, { ...dataset, schemaArn: newSchema, arn: datasetArn, status: "ACTIVE" });
    });

    it("only waits when nothing updatable changed (a create that did not settle)", async () => {
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce({ dataset: { status: "CREATE IN_PROGRESS", schemaArn: dataset.schemaArn } })
        .resolves(described(dataset.schemaArn));

      await provider("Dataset").update(
        datasetArn,
        { ...dataset, arn: datasetArn, status: "UNKNOWN" },
        dataset,
      );

      assert.deepEqual(sent(), ["DescribeDatasetCommand", "DescribeDatasetCommand"]);
    });

    it("leaves a failed update retryable: the state keeps the old schema, the next up sends it again", async () => {
      const failed = { schemaArn: newSchema, status: "CREATE FAILED", failureReason: "Incompatible schema" };
      personalize.on(UpdateDatasetCommand).resolves({ datasetArn });
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce(described(dataset.schemaArn))
        .resolves(described(dataset.schemaArn, { ...failed, creationDateTime: new Date(1_000) }));
      const olds = { ...dataset, arn: datasetArn, status: "ACTIVE" };
      const news = { ...dataset, schemaArn: newSchema };

      const error = await provider("Dataset")
        .update(datasetArn, olds, news)
        .then(
          () => assert.fail("the update should fail"),
          (e: PersonalizeResourceError) => e,
        );

      assert.equal(
        error.message,
        `Personalize Dataset recs-items-dataset (${datasetArn}) is UPDATE FAILED: Incompatible schema`,
      );
      const recorded = error.properties as typeof olds;
      assert.deepEqual(recorded, { ...olds, status: "UPDATE FAILED" });
      assert.deepEqual(await provider("Dataset").diff(datasetArn, recorded, news), {
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });

      // The retry: the first Describe still shows the failed update it supersedes.
      personalize.reset();
      personalize.on(UpdateDatasetCommand).resolves({ datasetArn });
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce(described(dataset.schemaArn, { ...failed, creationDateTime: new Date(1_000) }))
        .resolvesOnce(described(dataset.schemaArn, { ...failed, creationDateTime: new Date(1_000) }))
        .resolves(
          described(newSchema, { schemaArn: newSchema, status: "ACTIVE", creationDateTime: new Date(2_000) }),
        );

      const retried = await provider("Dataset").update(datasetArn, recorded, news);

      assert.equal(personalize.commandCalls(UpdateDatasetCommand).length, 1);
      assert.equal(retried.outs?.schemaArn, newSchema);
      assert.equal(retried.outs?.status, "ACTIVE");
    });

    it("records a changed roleArn without calling the service to change anything", async () => {
      const olds = { ...dataset, roleArn: arn("role/old"), arn: datasetArn, status: "ACTIVE" };
      const news = { ...dataset, roleArn: DEPLOY_ROLE };
      personalize.on(DescribeDatasetCommand).resolves(described(dataset.schemaArn));

      assert.deepEqual(await provider("Dataset").diff(datasetArn, olds, news), {
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
      const result = await provider("Dataset").update(datasetArn, olds, news);

      assert.equal(result.outs?.roleArn, DEPLOY_ROLE);
      assert.deepEqual(sent(), ["DescribeDatasetCommand", "DescribeDatasetCommand"]);
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

      await provider("Dataset").delete(datasetArn, { ...dataset, arn: datasetArn, status: "ACTIVE" });

      assert.deepEqual(sent(), [
        "DeleteDatasetCommand",
        "DescribeDatasetCommand",
        "DescribeDatasetCommand",
        "DescribeDatasetCommand",
      ]);
    });

    it("retries while the resource is in use, and through throttling", async () => {
      const groupArn = arn("dataset-group/recs-dataset-group");
      personalize
        .on(DeleteDatasetGroupCommand)
        .rejectsOnce(inUse())
        .rejectsOnce(serviceError("ThrottlingException"))
        .resolves({});
      personalize
        .on(DescribeDatasetGroupCommand)
        .rejectsOnce(serviceError("ThrottlingException"))
        .rejects(notFound());

      await provider("DatasetGroup").delete(groupArn, {
        region: REGION,
        name: "recs-dataset-group",
        arn: groupArn,
        status: "ACTIVE",
      });

      assert.equal(personalize.commandCalls(DeleteDatasetGroupCommand).length, 3);
      assert.equal(personalize.commandCalls(DescribeDatasetGroupCommand).length, 2);
    });

    it("treats a resource that is already gone as deleted", async () => {
      const groupArn = arn("dataset-group/g");
      personalize.on(DeleteDatasetGroupCommand).rejects(notFound());

      await provider("DatasetGroup").delete(groupArn, {
        region: REGION,
        name: "g",
        arn: groupArn,
        status: "ACTIVE",
      });

      assert.deepEqual(sent(), ["DeleteDatasetGroupCommand"]);
    });

    it("fails naming the resource when it is not gone in time", async () => {
      const groupArn = arn("dataset-group/g");
      personalize.on(DeleteDatasetGroupCommand).resolves({});
      personalize
        .on(DescribeDatasetGroupCommand)
        .resolves({ datasetGroup: { status: "DELETE IN_PROGRESS" } });

      await assert.rejects(
        provider("DatasetGroup", { pollIntervalMs: 1, timeoutMs: 20 }).delete(groupArn, {
          region: REGION,
          name: "g",
          arn: groupArn,
          status: "ACTIVE",
        }),
        { message: `Personalize DatasetGroup g (${groupArn}) was not deleted within 0 s` },
      );
    });

    it("deletes the campaigns serving a solution and stops its trainings before deleting it", async () => {
      const campaignArn = arn("campaign/recs-campaign");
      const training = arn("solution/recs-solution/9f8e7d6c");
      personalize.on(ListCampaignsCommand).resolves({ campaigns: [{ name: "recs-campaign", campaignArn }] });
      personalize.on(ListSolutionVersionsCommand).resolves({
        solutionVersions: [
          { solutionVersionArn: arn("solution/recs-solution/0a1b2c3d"), status: "ACTIVE" },
          { solutionVersionArn: training, status: "CREATE IN_PROGRESS" },
        ],
      });
      personalize.on(DeleteCampaignCommand).resolves({});
      personalize
        .on(DescribeCampaignCommand)
        .resolvesOnce({ campaign: { status: "DELETE IN_PROGRESS" } })
        .rejects(notFound());
      personalize.on(StopSolutionVersionCreationCommand).resolves({});
      // The stopped training holds the solution a moment longer.
      personalize.on(DeleteSolutionCommand).rejectsOnce(inUse()).resolves({});
      personalize.on(DescribeSolutionCommand).rejects(notFound());

      await provider("Solution").delete(solutionArn, { ...solution, arn: solutionArn, status: "ACTIVE" });

      assert.deepEqual(sent(), [
        "ListCampaignsCommand",
        "ListSolutionVersionsCommand",
        "DeleteCampaignCommand",
        "DescribeCampaignCommand",
        "DescribeCampaignCommand",
        "StopSolutionVersionCreationCommand",
        "DeleteSolutionCommand",
        "DeleteSolutionCommand",
        "DescribeSolutionCommand",
      ]);
      assert.equal(personalize.commandCalls(ListCampaignsCommand)[0]!.args[0].input.solutionArn, solutionArn);
      assert.deepEqual(personalize.commandCalls(StopSolutionVersionCreationCommand)[0]!.args[0].input, {
        solutionVersionArn: training,
      });
    });
  });

  describe("diff", () => {
    const state = { ...dataset, arn: "id", status: "ACTIVE" };

    it("reports no changes for equal inputs", async () => {
      assert.deepEqual(await provider("Dataset").diff("id", state, dataset), {
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      });
    });

    it("replaces a dataset moved to another dataset group, deleting first because the name stays", async () => {
      const result = await provider("Dataset").diff("id", state, {
        ...dataset,
        datasetGroupArn: arn("dataset-group/other"),
      });
      assert.deepEqual(result, { changes: true, replaces: ["datasetGroupArn"], deleteBeforeReplace: true });
    });

    it("replaces a renamed resource without deleting first, since the names differ", async () => {
      const result = await provider("Dataset").diff("id", state, { ...dataset, name: "other" });
      assert.deepEqual(result, { changes: true, replaces: ["name"], deleteBeforeReplace: false });
    });

    it("keeps a dataset whose schema changes", async () => {
      const result = await provider("Dataset").diff("id", state, {
        ...dataset,
        schemaArn: arn("schema/recs-items-schema-9f8e7d6c"),
      });
      assert.deepEqual(result, { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("replaces a schema whose definition changes", async () => {
      const olds = { region: REGION, name: "s-1", schema: "{}", arn: "id", status: "ACTIVE" };
      assert.deepEqual(await provider("Schema").diff("id", olds, { ...olds, schema: '{"a":1}' }), {
        changes: true,
        replaces: ["schema"],
        deleteBeforeReplace: true,
      });
      assert.deepEqual(
        await provider("Schema").diff("id", olds, { ...olds, name: "s-2", schema: '{"a":1}' }),
        { changes: true, replaces: ["name", "schema"], deleteBeforeReplace: false },
      );
    });

    it("replaces a solution on any change, and a region change replaces everything", async () => {
      const olds = { ...solution, arn: "id", status: "ACTIVE" };
      assert.deepEqual(
        (await provider("Solution").diff("id", olds, { ...solution, performHPO: true })).replaces,
        ["performHPO"],
      );
      assert.deepEqual(
        (await provider("Dataset").diff("id", state, { ...dataset, region: "us-east-1" })).replaces,
        ["region"],
      );
    });

    it("replaces a resource that refresh found failed, deleting it first", async () => {
      const failed = { ...solution, arn: "id", status: "CREATE FAILED", failureReason: "no data" };
      assert.deepEqual(await provider("Solution").diff("id", failed, solution), {
        changes: true,
        replaces: ["status"],
        deleteBeforeReplace: true,
      });
    });
  });

  describe("read", () => {
    const datasetArn = arn("dataset/recs-dataset-group/ITEMS");

    it("refreshes drift-prone values and reports a deleted resource as gone", async () => {
      const drifted = arn("schema/changed-by-hand");
      personalize
        .on(DescribeDatasetCommand)
        .resolvesOnce({
          dataset: {
            status: "ACTIVE",
            name: dataset.name,
            datasetGroupArn: dataset.datasetGroupArn,
            datasetType: "ITEMS",
            schemaArn: drifted,
          },
        })
        .rejects(notFound());
      const state = { ...dataset, roleArn: DEPLOY_ROLE, arn: datasetArn, status: "ACTIVE" };

      const read = await provider("Dataset").read(datasetArn, state);

      assert.deepEqual(read.props, { ...state, schemaArn: drifted });
      assert.deepEqual(read.inputs, { ...dataset, roleArn: DEPLOY_ROLE, schemaArn: drifted });
      assert.deepEqual(await provider("Dataset").read(datasetArn, state), {});
    });

    it("reports a failed resource as failed, with the service's reason", async () => {
      const groupArn = arn("dataset-group/g");
      personalize.on(DescribeDatasetGroupCommand).resolves({
        datasetGroup: { name: "g", status: "CREATE FAILED", failureReason: "KMS key not accessible" },
      });

      const read = await provider("DatasetGroup").read(groupArn, {
        region: REGION,
        name: "g",
        arn: groupArn,
        status: "ACTIVE",
      });

      assert.deepEqual(read.props, {
        region: REGION,
        name: "g",
        arn: groupArn,
        status: "CREATE FAILED",
        failureReason: "KMS key not accessible",
      });
    });

    it("imports from the ARN alone: region from the ARN, inputs from Describe", async () => {
      personalize
        .on(DescribeSolutionCommand)
        .resolves({ solution: { ...describedSolution("ACTIVE").solution, eventType: "play" } });

      const read = await provider("Solution").read(solutionArn);

      assert.deepEqual(read, {
        id: solutionArn,
        props: { ...solution, eventType: "play", arn: solutionArn, status: "ACTIVE" },
        inputs: { ...solution, eventType: "play" },
      });
    });

    it("rejects names Personalize would refuse", async () => {
      const result = await provider("DatasetGroup").check({} as never, { region: REGION, name: "bad name!" });
      assert.deepEqual(result.failures, [
        { property: "name", reason: 'must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,62}$, is "bad name!"' },
      ]);
    });
  });

  describe("backoff", () => {
    it("doubles from the base up to the cap, drawing from the upper half of each step", () => {
      const highest = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 1_000, 10_000, () => 1));
      const lowest = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 1_000, 10_000, () => 0));
      assert.deepEqual(highest, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
      assert.deepEqual(lowest, [500, 1_000, 2_000, 4_000, 5_000, 5_000]);
    });
  });

  describe("serialisation", () => {
    // The offline plan leaves providers unserialised (tooling/evaluate.ts); `pulumi up` serialises
    // each provider the program uses, every type here.
    it("serialises every type, without the SDK in it, to providers that load", async () => {
      // One closure holding a provider of each type (one walk of the code they share).
      const types = Object.values(PersonalizeResourceType);
      const all = types.map((type) => personalizeProvider(type));
      const { text } = await pulumi.runtime.serializeFunction(() => all, { allowSecrets: true });
      assert.ok(text.length < 40_000 * types.length, `serialised providers are ${text.length} characters`);
      assert.doesNotMatch(text, /PersonalizeClient\.prototype|smithy/);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const requireFromString = require("require-from-string") as (code: string) => {
        handler(): pulumi.dynamic.ResourceProvider[];
      };
      const loaded = requireFromString(text).handler();
      assert.equal(loaded.length, types.length);
      for (const [i, provider] of loaded.entries()) {
        for (const method of ["create", "read", "update", "delete", "diff"] as const) {
          assert.equal(typeof provider[method], "function", `${types[i]}: ${method}`);
        }
      }
    });

    it("serialises to a closure that still works when loaded the way the provider host does", async () => {
      const p = personalizeProvider("DatasetGroup", FAST);
      const { text } = await pulumi.runtime.serializeFunction(() => p, { allowSecrets: true });

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

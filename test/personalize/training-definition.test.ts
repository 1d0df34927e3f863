import { strict as assert } from "node:assert";
// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (definition: object) => {
  isValid: boolean;
  errorsText(): string;
};
import { ExecutionError, StateMachine } from "aws-local-stepfunctions";
import {
  trainingDefinition,
  type TrainingDefinitionArgs,
} from "../../components/personalize/training-definition";
import { handler as metricsGate } from "../../runtime/personalize/metrics-gate";

// The interpreter targets Node 22 (the Lambda runtime); this repository's tooling runs on Node 20,
// which lacks Promise.withResolvers. The polyfill follows the specification's three lines.
if (!("withResolvers" in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

const REGION = "eu-west-1";
const ACCOUNT = "111122223333";
const arn = (path: string) => `arn:aws:personalize:${REGION}:${ACCOUNT}:${path}`;
const GATE = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:recs-metrics-gate`;
const NEW_VERSION = arn("solution/recs-solution/new");
const OLD_VERSION = arn("solution/recs-solution/old");
const METRIC = "normalized_discounted_cumulative_gain_at_10";

const dev: TrainingDefinitionArgs = {
  datasetArns: {
    users: arn("dataset/recs/USERS"),
    items: arn("dataset/recs/ITEMS"),
    interactions: arn("dataset/recs/INTERACTIONS"),
  },
  bucketName: "recs-datasets",
  importRoleArn: `arn:aws:iam::${ACCOUNT}:role/recs-personalize-import`,
};
const prod: TrainingDefinitionArgs = {
  ...dev,
  mergeJobName: "recs-merge",
  serving: {
    solutionArn: arn("solution/recs-solution"),
    campaignName: "recs-campaign",
    campaignArn: arn("campaign/recs-campaign"),
    gateFunctionArn: GATE,
    metric: METRIC,
    margin: 0.01,
    minProvisionedTps: 1,
    enableMetadataWithRecommendations: true,
  },
};

type Handler = (input: Record<string, unknown>) => Promise<unknown>;
const serviceError = (name: string, message: string) => Object.assign(new Error(message), { name });

/** A simulated recommendations account: what each Task state's API call answers. */
function world(options: {
  importStatus?: Partial<Record<"users" | "items" | "interactions", string>>;
  trainingStatus?: string;
  candidate?: number;
  current?: number;
  campaignExists?: boolean;
  mergeFails?: boolean;
}) {
  const calls: { state: string; input: Record<string, unknown> }[] = [];
  const record =
    (state: string, answer: Handler): Handler =>
    async (input) => {
      calls.push({ state, input });
      return answer(input);
    };
  const handlers: Record<string, Handler> = {
    MergeDatasets: record("MergeDatasets", async () => {
      if (options.mergeFails) throw serviceError("States.TaskFailed", "Glue job run FAILED: out of memory");
      return { JobRunState: "SUCCEEDED" };
    }),
    CompareMetrics: record("CompareMetrics", (input) => metricsGate(input)),
  };
  for (const dataset of ["users", "items", "interactions"] as const) {
    const name = dataset.charAt(0).toUpperCase() + dataset.slice(1);
    handlers[`Import${name}`] = record(`Import${name}`, async () => ({
      DatasetImportJobArn: arn(`dataset-import-job/${dataset}-1`),
    }));
    let polls = 0;
    handlers[`${name}ImportDescribe`] = record(`${name}ImportDescribe`, async () => ({
      DatasetImportJob: {
        Status: polls++ === 0 ? "CREATE IN_PROGRESS" : (options.importStatus?.[dataset] ?? "ACTIVE"),
      },
    }));
  }
  let trainingPolls = 0;
  Object.assign(handlers, {
    TrainSolutionVersion: record("TrainSolutionVersion", async () => ({ SolutionVersionArn: NEW_VERSION })),
    TrainingDescribe: record("TrainingDescribe", async () => ({
      SolutionVersion: {
        Status: trainingPolls++ < 2 ? "CREATE IN_PROGRESS" : (options.trainingStatus ?? "ACTIVE"),
      },
    })),
    GetCandidateMetrics: record("GetCandidateMetrics", async () => ({
      Metrics: { [METRIC]: options.candidate ?? 0.3, coverage: 0.5 },
    })),
    FindCampaign: record("FindCampaign", async () => {
      if (options.campaignExists === false) {
        throw serviceError("Personalize.ResourceNotFoundException", "Campaign recs-campaign does not exist");
      }
      return { Campaign: { SolutionVersionArn: OLD_VERSION, Status: "ACTIVE" } };
    }),
    GetCurrentMetrics: record("GetCurrentMetrics", async () => ({
      Metrics: { [METRIC]: options.current ?? 0.3, coverage: 0.5 },
    })),
    UpdateCampaign: record("UpdateCampaign", async () => ({ CampaignArn: arn("campaign/recs-campaign") })),
    CampaignUpdateDescribe: record("CampaignUpdateDescribe", async () => ({
      Campaign: { Status: "ACTIVE", LatestCampaignUpdate: { Status: "ACTIVE" } },
    })),
    CreateCampaign: record("CreateCampaign", async () => ({ CampaignArn: arn("campaign/recs-campaign") })),
    CampaignCreationDescribe: record("CampaignCreationDescribe", async () => ({
      Campaign: { Status: "ACTIVE" },
    })),
  });
  return { calls, handlers, called: (state: string) => calls.filter((call) => call.state === state) };
}

async function run(args: TrainingDefinitionArgs, simulated: ReturnType<typeof world>) {
  const definition = trainingDefinition(args);
  const waits = Object.keys(definition.States as object).filter((name) => name.endsWith("Wait"));
  const branchWaits = ["Users", "Items", "Interactions"].map((name) => `${name}ImportWait`);
  // Validated once, by the first test below: asl-validator compiles its JSON schemas on every call.
  const machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: simulated.handlers as never,
        waitTimeOverrides: Object.fromEntries([...waits, ...branchWaits].map((name) => [name, 0])),
        retryIntervalOverrides: {},
      },
    },
  );
  return execution.result;
}

async function failure(args: TrainingDefinitionArgs, simulated: ReturnType<typeof world>) {
  const error = await run(args, simulated).then(
    () => assert.fail("the run should fail"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ExecutionError, String(error));
  // The Fail state's Error is the name, its Cause the message.
  return error.cause as Error;
}

describe("training pipeline definition", () => {
  it("is valid Amazon States Language, for dev and prod", () => {
    for (const args of [dev, prod]) {
      const result = aslValidator(trainingDefinition(args));
      assert.ok(result.isValid, result.errorsText());
    }
  });

  it("prod: merges, imports the three datasets, trains, compares and updates the campaign", async () => {
    const simulated = world({ candidate: 0.31, current: 0.3 });

    await run(prod, simulated);

    const order = simulated.calls.map((call) => call.state).filter((state) => !state.endsWith("Describe"));
    assert.deepEqual(order.slice(0, 1), ["MergeDatasets"]);
    assert.deepEqual(
      new Set(order.slice(1, 4)),
      new Set(["ImportUsers", "ImportItems", "ImportInteractions"]),
    );
    assert.deepEqual(order.slice(4), [
      "TrainSolutionVersion",
      "GetCandidateMetrics",
      "FindCampaign",
      "GetCurrentMetrics",
      "CompareMetrics",
      "UpdateCampaign",
    ]);
    assert.deepEqual(simulated.called("ImportItems")[0]!.input.DataSource, {
      DataLocation: "s3://recs-datasets/items/",
    });
    assert.match(String(simulated.called("ImportItems")[0]!.input.JobName), /^items-[0-9a-f-]{36}$/);
    assert.deepEqual(simulated.called("UpdateCampaign")[0]!.input, {
      CampaignArn: arn("campaign/recs-campaign"),
      SolutionVersionArn: NEW_VERSION,
      MinProvisionedTPS: 1,
      CampaignConfig: { EnableMetadataWithRecommendations: true },
    });
    // Training was polled until ACTIVE: two IN_PROGRESS answers, then ACTIVE.
    assert.equal(simulated.called("TrainingDescribe").length, 3);
  });

  it("serves a version within the margin of the current one", async () => {
    const simulated = world({ candidate: 0.295, current: 0.3 });
    await run(prod, simulated);
    assert.equal(simulated.called("UpdateCampaign").length, 1);
  });

  it("creates the campaign on the first successful training", async () => {
    const simulated = world({ campaignExists: false });

    await run(prod, simulated);

    assert.deepEqual(simulated.called("CreateCampaign")[0]!.input, {
      Name: "recs-campaign",
      SolutionVersionArn: NEW_VERSION,
      MinProvisionedTPS: 1,
      CampaignConfig: { EnableMetadataWithRecommendations: true },
    });
    assert.equal(simulated.called("CompareMetrics").length, 0);
    assert.equal(simulated.called("UpdateCampaign").length, 0);
  });

  it("fails as MetricsWorse and leaves the campaign alone when the new version is worse", async () => {
    const simulated = world({ candidate: 0.25, current: 0.3 });

    const error = await failure(prod, simulated);

    assert.equal(error.name, "MetricsWorse");
    assert.equal(simulated.called("UpdateCampaign").length, 0);
    assert.equal(simulated.called("CreateCampaign").length, 0);
  });

  it("fails as ImportFailed naming the dataset, and trains nothing, when an import fails", async () => {
    const simulated = world({ importStatus: { items: "CREATE FAILED" } });

    const error = await failure(prod, simulated);

    assert.equal(error.name, "ImportFailed");
    assert.match(error.message, /items dataset import job failed/);
    assert.equal(simulated.called("TrainSolutionVersion").length, 0);
    assert.equal(simulated.called("UpdateCampaign").length, 0);
  });

  it("fails as TrainingFailed and leaves the campaign alone when the training fails", async () => {
    const simulated = world({ trainingStatus: "CREATE FAILED" });

    const error = await failure(prod, simulated);

    assert.equal(error.name, "TrainingFailed");
    assert.equal(simulated.called("GetCandidateMetrics").length, 0);
    assert.equal(simulated.called("UpdateCampaign").length, 0);
  });

  it("fails as MergeFailed with Glue's cause and imports nothing when the merge job fails", async () => {
    const simulated = world({ mergeFails: true });

    const error = await failure(prod, simulated);

    assert.equal(error.name, "MergeFailed");
    assert.match(error.message, /out of memory/);
    assert.equal(simulated.called("ImportUsers").length, 0);
  });

  it("dev: imports the datasets and stops; no training or campaign state exists", async () => {
    const simulated = world({});

    await run(dev, simulated);

    const states = Object.keys(trainingDefinition(dev).States as object);
    assert.ok(!states.some((state) => /Train|Campaign|Metrics|Merge/.test(state)), states.join(", "));
    assert.equal(simulated.called("ImportInteractions").length, 1);
    assert.equal(simulated.called("TrainSolutionVersion").length, 0);
  });

  it("dev with the recommendations merge job: runs the merge, then imports what it wrote, and trains nothing", async () => {
    const simulated = world({});
    const withMerge = { ...dev, mergeJobName: "mesh-recommendations-merge" };

    await run(withMerge, simulated);

    assert.deepEqual(simulated.calls[0]?.state, "MergeDatasets");
    assert.deepEqual(simulated.called("MergeDatasets")[0]?.input, { JobName: "mesh-recommendations-merge" });
    for (const dataset of ["Users", "Items", "Interactions"]) {
      assert.equal(simulated.called(`Import${dataset}`).length, 1, dataset);
    }
    const states = Object.keys(trainingDefinition(withMerge).States as object);
    assert.ok(!states.some((state) => /Train|Campaign|Metrics/.test(state)), states.join(", "));
  });

  it("backs off its polls: doubling pauses up to the cap", () => {
    const states = trainingDefinition({ ...prod, poll: { firstSeconds: 60, maxSeconds: 900 } })
      .States as Record<string, Record<string, unknown>>;
    assert.deepEqual(states.TrainingStartPolling!.Result, { seconds: 60 });
    assert.deepEqual(states.TrainingBackOff!.Parameters, {
      "seconds.$": "States.MathAdd($.poll.seconds, $.poll.seconds)",
    });
    assert.deepEqual(states.TrainingCap!.Result, { seconds: 900 });
  });
});

describe("metrics gate", () => {
  it("passes a candidate within the margin and refuses one below it", async () => {
    assert.deepEqual(await metricsGate({ candidate: 0.295, current: 0.3, margin: 0.01 }), {
      notWorse: true,
      floor: 0.29,
    });
    assert.equal((await metricsGate({ candidate: 0.28, current: 0.3, margin: 0.01 })).notWorse, false);
  });

  it("names what is wrong with its input", async () => {
    await assert.rejects(metricsGate({ candidate: "0.3", current: 0.3, margin: -1 }), {
      message:
        "metrics gate: invalid input: candidate: Invalid input: expected number, received string; margin: Too small: expected number to be >=0",
    });
  });
});

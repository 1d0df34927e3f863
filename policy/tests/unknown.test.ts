import { strict as assert } from "node:assert";
import {
  UnknownValueError,
  unknownCheckingProxy,
  type ResourceValidation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
} from "@pulumi/policy";
import * as proxy from "@pulumi/policy/proxy";
import { evaluatePlan } from "../evaluate";
import { kinesisRetentionFloor } from "../rules/kinesis";
import { lambdaEsmBoundedRetries, lambdaEsmReportBatchItemFailures } from "../rules/lambda";
import { UNKNOWN_SENTINELS, UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, LAKE_ACCESS, edit, mesh } from "./fixtures";

const plan = (resources: ReturnType<typeof mesh>) => ({
  stack: "test",
  accounts: ACCOUNTS,
  lakeFormationAccess: LAKE_ACCESS,
  resources,
});

describe("unknown values during preview", () => {
  it("uses the engine's sentinels", () => {
    assert.equal(UNKNOWN_STRING, (proxy as unknown as Record<string, string>).unknownStringValue);
    assert.equal(UNKNOWN_SENTINELS.size, 7);
  });

  it("make a rule throw the engine's UnknownValueError, which the engine reports as advisory", () => {
    const stream = edit(mesh(), "songs-stream", { retentionPeriod: UNKNOWN_STRING }).find(
      (r) => r.name === "songs-stream",
    )!;
    const args = {
      type: stream.type,
      props: unknownCheckingProxy(stream.inputs),
      urn: stream.urn,
      name: stream.name,
      opts: { protect: true },
      stackTags: new Map(),
      getConfig: () => ({}),
      notApplicable: () => {
        throw new Error("not applicable");
      },
    } as unknown as ResourceValidationArgs;
    const reported: string[] = [];
    assert.throws(
      () =>
        (kinesisRetentionFloor.validateResource as ResourceValidation)(args, (message) =>
          reported.push(message),
        ),
      (error: unknown) =>
        error instanceof UnknownValueError &&
        (error as Error).message === "Kinesis stream retentionPeriod could not be checked during preview.",
    );
    assert.deepEqual(reported, []);
  });

  it("are reported by evaluatePlan as advisory could-not-checks that do not block", async () => {
    const result = await evaluatePlan(
      plan(edit(mesh(), "songs-stream", { retentionPeriod: UNKNOWN_STRING })),
      {
        policies: [kinesisRetentionFloor],
      },
    );
    assert.deepEqual(result.violations, [
      {
        policy: "kinesis-retention-floor",
        enforcementLevel: "advisory",
        urn: "urn:pulumi:test::mesh::aws:kinesis/stream:Stream::songs-stream",
        name: "songs-stream",
        message: "Kinesis stream retentionPeriod could not be checked during preview.",
        couldNotCheck: true,
      },
    ]);
    assert.equal(result.mandatoryCount, 0);
  });

  it("do not hide the violations a rule could decide", async () => {
    const resources = edit(mesh(), "analytics-esm", { maximumRetryAttempts: -1 });
    const result = await evaluatePlan(plan(resources), { policies: [lambdaEsmBoundedRetries] });
    assert.equal(result.mandatoryCount, 1);
  });

  it("read straight from the proxy by a rule that does not use a snapshot are could-not-checks too, not crashes", async () => {
    const naive: ResourceValidationPolicy = {
      name: "naive",
      description: "Reads the proxy.",
      enforcementLevel: "mandatory",
      validateResource: (args, report) => {
        if (args.type === "aws:kinesis/stream:Stream" && args.props.kmsKeyId === "alias/aws/kinesis")
          report("bad key");
      },
    };
    const result = await evaluatePlan(plan(edit(mesh(), "songs-stream", { kmsKeyId: UNKNOWN_STRING })), {
      policies: [naive],
    });
    assert.deepEqual(
      result.violations.map((v) => [v.enforcementLevel, v.message, v.couldNotCheck]),
      [["advisory", "string value at .kmsKeyId can't be known during preview", true]],
    );
  });

  it("nested in arrays and objects are seen as unknown", async () => {
    const resources = edit(mesh(), "analytics-esm", { functionResponseTypes: [UNKNOWN_STRING] });
    const result = await evaluatePlan(plan(resources), {
      policies: [lambdaEsmReportBatchItemFailures],
    });
    assert.deepEqual(
      result.violations.map((v) => v.message),
      ["Event source mapping functionResponseTypes could not be checked during preview."],
    );
  });
});

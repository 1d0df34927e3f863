import { strict as assert } from "node:assert";
import type { Policies } from "@pulumi/policy";
import * as server from "@pulumi/policy/server";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { PlanResource } from "../evaluate";
import { UNKNOWN_STRING } from "../lib/values";
import { rulePolicies } from "../policies";
import { edit, mesh } from "./fixtures";

/**
 * The policies under @pulumi/policy's own analyzer handlers (what `pulumi preview --policy-pack`
 * calls over gRPC), to check that the engine reads them as evaluatePlan does.
 */
type Handler = (
  call: { request: unknown },
  callback: (error: unknown, response?: analyzer.AnalyzeResponse) => void,
) => void;
const handlers = server as unknown as {
  makeAnalyzeRpcFun(pack: string, version: string, level: string, policies: Policies): Handler;
  makeAnalyzeStackRpcFun(pack: string, version: string, level: string, policies: Policies): Handler;
};

function options(resource: PlanResource): analyzer.AnalyzerResourceOptions {
  const opts = new analyzer.AnalyzerResourceOptions();
  opts.setProtect(resource.protect);
  return opts;
}

/** The pinned provider of a resource's account, as the engine hands it to the analyzer. */
function provider(resource: PlanResource): analyzer.AnalyzerProviderResource | undefined {
  if (!resource.account) return undefined;
  const p = new analyzer.AnalyzerProviderResource();
  p.setType("pulumi:providers:aws");
  p.setName(`aws-${resource.account}`);
  p.setUrn(`urn:pulumi:t::mesh::pulumi:providers:aws::aws-${resource.account}`);
  p.setProperties(Struct.fromJavaScript({ allowedAccountIds: [resource.account] } as never));
  return p;
}

function call(handler: Handler, request: unknown): Promise<[string, string, string][]> {
  return new Promise((resolve, reject) =>
    handler({ request }, (error, response) => {
      if (error) return reject(error);
      const levels = ["advisory", "mandatory", "disabled", "remediate"];
      resolve(
        response!
          .getDiagnosticsList()
          .map((d) => [d.getPolicyname(), levels[d.getEnforcementlevel()]!, d.getMessage()]),
      );
    }),
  );
}

/**
 * This harness cannot configure the pack (the server's configure RPC is not exported), and
 * lakeformation-grants-declared needs the declaration from its config: it runs on its own below.
 */
const DECLARATION_RULE = "lakeformation-grants-declared";
const unconfigured = rulePolicies.filter((policy) => policy.name !== DECLARATION_RULE);

function analyze(resource: PlanResource, policies: Policies = unconfigured) {
  const request = new analyzer.AnalyzeRequest();
  request.setType(resource.type);
  request.setUrn(resource.urn);
  request.setName(resource.name);
  request.setProperties(Struct.fromJavaScript(resource.inputs as never));
  request.setOptions(options(resource));
  request.setProvider(provider(resource));
  return call(handlers.makeAnalyzeRpcFun("mesh-guardrails", "0.1.0", "advisory", policies), request);
}

function analyzeStack(resources: PlanResource[]) {
  const request = new analyzer.AnalyzeStackRequest();
  request.setResourcesList(
    resources.map((resource) => {
      const r = new analyzer.AnalyzerResource();
      r.setType(resource.type);
      r.setUrn(resource.urn);
      r.setName(resource.name);
      r.setProperties(Struct.fromJavaScript(resource.inputs as never));
      r.setOptions(options(resource));
      r.setProvider(provider(resource));
      for (const [key, urns] of Object.entries(resource.propertyDependencies ?? {})) {
        const dependencies = new analyzer.AnalyzerPropertyDependencies();
        dependencies.setUrnsList([...urns]);
        r.getPropertydependenciesMap().set(key, dependencies);
      }
      return r;
    }),
  );
  return call(handlers.makeAnalyzeStackRpcFun("mesh-guardrails", "0.1.0", "advisory", unconfigured), request);
}

const named = (resources: PlanResource[], name: string) => resources.find((r) => r.name === name)!;

describe("the policies under the engine's analyzer", () => {
  it("pass the compliant mesh, resource by resource and as a stack", async () => {
    for (const resource of mesh()) assert.deepEqual(await analyze(resource), [], resource.name);
    assert.deepEqual(await analyzeStack(mesh()), []);
  });

  it("fail a cross-account Lake Formation grant closed when the pack has no declaration", async () => {
    const grant = named(mesh(), "lake-grant-analytics");
    const declared = rulePolicies.filter((policy) => policy.name === DECLARATION_RULE);
    assert.deepEqual(
      (await analyze(grant, declared)).map(([policy, level, message]) => [
        policy,
        level,
        message.split("\n")[1],
      ]),
      [
        [
          DECLARATION_RULE,
          "mandatory",
          "Lake Formation grant to 333333333333 must name a principal of the mesh's accounts (333333333333 is not one).",
        ],
      ],
    );
  });

  it("report a violation at the rule's level", async () => {
    const resources = edit(mesh(), "analytics-esm", { maximumRetryAttempts: -1 });
    assert.deepEqual(await analyze(named(resources, "analytics-esm")), [
      [
        "lambda-esm-bounded-retries",
        "mandatory",
        // The engine puts the policy's description before the message.
        "Stream event source mappings must bound maximumRetryAttempts, so one bad record cannot block a shard.\nEvent source mapping maximumRetryAttempts must be between 0 and 10000 (it is -1, which is unbounded).",
      ],
    ]);
  });

  it("turn a could-not-check into an advisory 'can't run during preview'", async () => {
    const resources = edit(mesh(), "songs-stream", { retentionPeriod: UNKNOWN_STRING });
    assert.deepEqual(await analyze(named(resources, "songs-stream")), [
      [
        "kinesis-retention-floor",
        "advisory",
        "can't run policy 'kinesis-retention-floor' from policy pack 'mesh-guardrails@v0.1.0' during preview: Kinesis stream retentionPeriod could not be checked during preview.",
      ],
    ]);
  });

  it("run the stack rules over the stack", async () => {
    const resources = edit(mesh(), "songs-stream", { encryptionType: "NONE" });
    const diagnostics = await analyzeStack(resources);
    assert.deepEqual(
      diagnostics.map(([policy, level]) => [policy, level]),
      [["kinesis-shared-stream-cmk", "mandatory"]],
    );
  });
});

import { strict as assert } from "node:assert";
import {
  unknownCheckingProxy,
  type ResourceValidation,
  type ResourceValidationArgs,
  type StackValidationArgs,
} from "@pulumi/policy";
import { evaluatePlan } from "../evaluate";
import { clearRecordedExemptions, exemptedViolations, findExemption } from "../exemptions";
import { PolicyConfigError } from "../lib/settings";
import { allPolicies } from "../policies";
import { iamNoWildcardResource } from "../rules/iam";
import { kinesisRetentionCoversConsumers } from "../rules/kinesis";
import { ACCOUNTS, LAKE_ACCESS, edit, mesh } from "./fixtures";
import { outcome } from "./harness";

const broad = edit(mesh(), "analytics-role-policy", {
  policy: JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "kinesis:ListStreams", Resource: "*" }],
  }),
});
const violation =
  'IAM policy statement 1 must scope kinesis:ListStreams to resources rather than Resource "*".';
const exempt = (resource: string, reason = "ListStreams has no resource-level permissions") => ({
  "iam-no-wildcard-resource": { exemptions: [{ resource, reason }] },
});

describe("exemptions", () => {
  it("report an exempted violation as exempted, with its reason, and do not count it as mandatory", async () => {
    const result = await evaluatePlan(
      { stack: "test", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources: broad },
      {
        policies: [iamNoWildcardResource],
        config: exempt("analytics-role-*"),
      },
    );
    assert.deepEqual(result.violations, [
      {
        policy: "iam-no-wildcard-resource",
        enforcementLevel: "mandatory",
        urn: "urn:pulumi:test::mesh::aws:iam/rolePolicy:RolePolicy::analytics-role-policy",
        name: "analytics-role-policy",
        message: violation,
        exempted: true,
        reason: "ListStreams has no resource-level permissions",
      },
    ]);
    assert.equal(result.mandatoryCount, 0);
  });

  it("match a resource by its exact URN", async () => {
    const urn = "urn:pulumi:test::mesh::aws:iam/rolePolicy:RolePolicy::analytics-role-policy";
    const result = await outcome(iamNoWildcardResource, broad, exempt(urn));
    assert.deepEqual(result.violations, []);
    assert.deepEqual(
      result.exempted.map((e) => e.message),
      [violation],
    );
  });

  it("do not cover other resources", async () => {
    const result = await outcome(iamNoWildcardResource, broad, exempt("songs-*"));
    assert.deepEqual(result.violations, [violation]);
    assert.deepEqual(result.exempted, []);
  });

  it("cover violations that stack rules report against a resource", async () => {
    const resources = edit(
      edit(mesh(), "analytics-esm", { maximumRecordAgeInSeconds: 604800 }),
      "songs-stream",
      { retentionPeriod: 72 },
    );
    const config = {
      "kinesis-retention-covers-consumers": {
        exemptions: [{ resource: "songs-stream", reason: "replay window agreed with analytics" }],
      },
    };
    const result = await outcome(kinesisRetentionCoversConsumers, resources, config);
    assert.deepEqual(result.violations, []);
    assert.deepEqual(
      result.exempted.map((e) => [e.name, e.reason]),
      [["songs-stream", "replay window agreed with analytics"]],
    );
  });

  it("reject an exemption without a reason", async () => {
    await assert.rejects(
      evaluatePlan(
        { stack: "test", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources: broad },
        { config: exempt("analytics-role-policy", "  ") },
      ),
      (error: unknown) =>
        error instanceof PolicyConfigError &&
        error.message ===
          "policy config of mesh-guardrails is invalid: iam-no-wildcard-resource.exemptions.0.reason: must give a reason",
    );
  });

  it("require a reason in every policy's config schema, so the Pulumi CLI rejects one without it", () => {
    for (const policy of allPolicies.filter((p) => p !== exemptedViolations)) {
      const items = policy.configSchema?.properties.exemptions?.items as { required?: string[] } | undefined;
      assert.deepEqual(items?.required, ["resource", "reason"], policy.name);
    }
  });

  it("are not the same as disabling a rule: a disabled rule reports nothing and is listed as disabled", async () => {
    const result = await evaluatePlan(
      { stack: "test", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources: broad },
      {
        policies: [iamNoWildcardResource],
        config: { "iam-no-wildcard-resource": "disabled" },
      },
    );
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.disabled, ["iam-no-wildcard-resource"]);
  });

  it("match globs on names and URNs, and only * covers a violation of the whole stack", () => {
    const exemptions = [{ resource: "*-policy", reason: "r" }];
    assert.ok(findExemption(exemptions, "urn:pulumi:s::p::t::a-policy", "a-policy"));
    assert.equal(findExemption(exemptions, "urn:pulumi:s::p::t::a-role", "a-role"), undefined);
    assert.equal(findExemption(exemptions, undefined, undefined), undefined);
    assert.ok(findExemption([{ resource: "*", reason: "r" }], undefined, undefined));
  });

  describe("under the Pulumi engine", () => {
    beforeEach(clearRecordedExemptions);

    it("are reported by the exempted-violations policy at the end of the run", async () => {
      const target = broad.find((r) => r.name === "analytics-role-policy")!;
      const reported: string[] = [];
      const args = {
        type: target.type,
        props: unknownCheckingProxy(target.inputs),
        urn: target.urn,
        name: target.name,
        opts: {
          protect: false,
          ignoreChanges: [],
          aliases: [],
          customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
          additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: () => exempt("analytics-role-policy")["iam-no-wildcard-resource"],
        notApplicable: () => {
          throw new Error("not applicable");
        },
      } as unknown as ResourceValidationArgs;
      await (iamNoWildcardResource.validateResource as ResourceValidation)(args, (message) =>
        reported.push(message),
      );
      assert.deepEqual(reported, []);

      const stackReports: [string, string | undefined][] = [];
      await exemptedViolations.validateStack(
        { resources: [] } as unknown as StackValidationArgs,
        (message, urn) => stackReports.push([message, urn]),
      );
      assert.deepEqual(stackReports, [
        [
          `Exempted from iam-no-wildcard-resource: ${violation} Reason: ListStreams has no resource-level permissions`,
          target.urn,
        ],
      ]);
    });
  });
});

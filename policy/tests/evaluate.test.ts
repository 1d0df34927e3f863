import { strict as assert } from "node:assert";
import { evaluatePlan, formatViolations, parsePlan, PlanError, summarize, type Plan } from "../evaluate";
import { PolicyConfigError } from "../lib/settings";
import { crossAccountMeshPrincipals } from "../rules/principals";
import {
  ACCOUNTS,
  LAKE_ACCESS,
  ORG,
  edit,
  mesh,
  streamPolicyDocument,
  STREAM_ARN,
  without,
} from "./fixtures";

/** The compliant mesh, broken in four places. */
function brokenMesh(): Plan {
  let resources = mesh();
  resources = edit(resources, "songs-stream-policy", {
    policy: streamPolicyDocument({
      Effect: "Allow",
      Principal: "*",
      Action: "kinesis:GetRecords",
      Resource: STREAM_ARN,
    }),
  });
  resources = edit(resources, "songs-stream", { encryptionType: "NONE", kmsKeyId: undefined });
  resources = edit(resources, "analytics-esm", { destinationConfig: undefined });
  resources = without(resources, "archive-public-access");
  return { stack: "broken", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources };
}

describe("evaluatePlan", () => {
  it("finds nothing in the compliant mesh", async () => {
    const result = await evaluatePlan({
      stack: "test",
      accounts: ACCOUNTS,
      lakeFormationAccess: LAKE_ACCESS,
      resources: mesh(),
    });
    assert.deepEqual(result.violations, []);
    assert.equal(result.mandatoryCount, 0);
  });

  it("names each violation of a deliberately broken mesh", async () => {
    const result = await evaluatePlan(brokenMesh());
    assert.deepEqual(
      result.violations.map(({ policy, enforcementLevel, name, message }) => ({
        policy,
        enforcementLevel,
        name,
        message,
      })),
      [
        {
          policy: "kinesis-policy-no-wildcard-principal",
          enforcementLevel: "mandatory",
          name: "songs-stream-policy",
          message: "Kinesis resource policy statement 2 must not allow a wildcard principal.",
        },
        {
          policy: "lambda-esm-on-failure-destination",
          enforcementLevel: "mandatory",
          name: "analytics-esm",
          message: "Event source mapping destinationConfig.onFailure must name a destination.",
        },
        {
          policy: "kinesis-shared-stream-cmk",
          enforcementLevel: "mandatory",
          name: "songs-stream",
          message: "Shared Kinesis stream songs.plays must be encrypted with a customer-managed KMS key.",
        },
        {
          policy: "s3-public-access-block",
          enforcementLevel: "mandatory",
          name: "archive",
          message: "S3 bucket mesh-archive must have a public access block.",
        },
      ],
    );
    assert.equal(result.mandatoryCount, 4);
  });

  it("takes the plan's accounts as meshAccountIds unless the config sets them", async () => {
    const analyticsReads = {
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNTS.analytics}:root` },
      Action: "kinesis:GetRecords",
      Resource: STREAM_ARN,
      Condition: { StringEquals: { "aws:PrincipalOrgID": ORG } },
    };
    const resources = edit(mesh(), "songs-stream-policy", { policy: streamPolicyDocument(analyticsReads) });
    const policies = [crossAccountMeshPrincipals];
    assert.equal(
      (
        await evaluatePlan(
          { stack: "t", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources },
          { policies },
        )
      ).mandatoryCount,
      0,
    );
    const { songs } = ACCOUNTS;
    // Analytics is outside a mesh of songs alone: both stream policy statements and the key grant.
    assert.equal(
      (await evaluatePlan({ stack: "t", accounts: { songs }, resources }, { policies })).mandatoryCount,
      3,
    );
    const config = { "cross-account-mesh-principals": { meshAccountIds: [ACCOUNTS.analytics] } };
    assert.equal(
      (await evaluatePlan({ stack: "t", accounts: { songs }, resources }, { policies, config }))
        .mandatoryCount,
      0,
    );
  });

  it("applies enforcement levels from the config, and disabled policies do not run", async () => {
    const plan = brokenMesh();
    const result = await evaluatePlan(plan, {
      config: {
        "kinesis-policy-no-wildcard-principal": "advisory",
        "s3-public-access-block": { enforcementLevel: "disabled" },
      },
    });
    const levels = result.violations.map((v) => [v.policy, v.enforcementLevel]);
    assert.deepEqual(levels, [
      ["kinesis-policy-no-wildcard-principal", "advisory"],
      ["lambda-esm-on-failure-destination", "mandatory"],
      ["kinesis-shared-stream-cmk", "mandatory"],
    ]);
    assert.equal(result.mandatoryCount, 2);
    assert.deepEqual(result.disabled, ["s3-public-access-block"]);
  });

  it("rejects config for a policy that does not exist or a setting it does not read, all at once", async () => {
    await assert.rejects(
      evaluatePlan(brokenMesh(), {
        config: { "no-such-policy": "mandatory", "kms-key-rotation": { minRetentionHours: 48 } },
      }),
      (error: unknown) =>
        error instanceof PolicyConfigError &&
        error.issues.join("|") ===
          "no-such-policy: no such policy|kms-key-rotation.unknown setting minRetentionHours",
    );
  });

  it("formats violations grouped by severity, exempted last", async () => {
    const result = await evaluatePlan(brokenMesh(), {
      config: {
        "kinesis-policy-no-wildcard-principal": "advisory",
        "s3-public-access-block": { exemptions: [{ resource: "archive", reason: "public website bucket" }] },
      },
    });
    const text = formatViolations(result);
    const headings = text.split("\n").filter((line) => !line.startsWith(" "));
    assert.deepEqual(headings.filter(Boolean), ["Mandatory (2)", "Advisory (1)", "Exempted (1)"]);
    assert.ok(text.includes("    exempted: public website bucket"));
    assert.equal(
      summarize(result),
      `2 mandatory, 1 advisory, 1 exempted violation(s) in ${result.resourceCount} resources.`,
    );
  });
});

describe("parsePlan", () => {
  it("accepts a plan", () => {
    assert.equal(
      parsePlan({ stack: "dev", accounts: ACCOUNTS, lakeFormationAccess: LAKE_ACCESS, resources: mesh() })
        .resources.length,
      mesh().length,
    );
  });
  it("lists every problem with its path", () => {
    assert.throws(
      () => parsePlan({ stack: "", accounts: { a: "12" }, resources: [{ urn: "x" }] }),
      (error: unknown) =>
        error instanceof PlanError &&
        error.issues.slice(0, 4).join("|") ===
          "stack: Too small: expected string to have >=1 characters|accounts.a: must be a 12-digit account id|resources.0.urn: must be a Pulumi URN|resources.0.type: Invalid input: expected string, received undefined",
    );
  });
});

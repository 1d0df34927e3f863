import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, mesh, resource, STREAM_ARN } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { iamNoUnplannedManagedPolicies, iamNoWildcardAction, iamNoWildcardResource } from "./iam";

const document = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const rolePolicy = (...statements: object[]) =>
  edit(mesh(), "analytics-role-policy", { policy: document(...statements) });

describe("iam-no-wildcard-action", () => {
  const policy = iamNoWildcardAction;
  it("passes named actions", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it('rejects "*"', async () => {
    assert.deepEqual(
      await messages(policy, rolePolicy({ Effect: "Allow", Action: "*", Resource: STREAM_ARN })),
      ["IAM policy statement 1 must not allow wildcard actions (*)."],
    );
  });
  it('rejects "<service>:*"', async () => {
    assert.deepEqual(
      await messages(
        policy,
        rolePolicy({ Effect: "Allow", Action: ["kinesis:*", "s3:GetObject"], Resource: STREAM_ARN }),
      ),
      ["IAM policy statement 1 must not allow wildcard actions (kinesis:*)."],
    );
  });
  it("rejects NotAction with Allow", async () => {
    assert.deepEqual(
      await messages(policy, rolePolicy({ Effect: "Allow", NotAction: "iam:*", Resource: STREAM_ARN })),
      ["IAM policy statement 1 must list its actions rather than use NotAction."],
    );
  });
  it("checks managed policies", async () => {
    const managed = resource("aws:iam/policy:Policy", "managed", {
      policy: document({ Effect: "Allow", Action: "dynamodb:*", Resource: "*" }),
      tags: {},
    });
    assert.deepEqual(await messages(policy, [...mesh(), managed]), [
      "IAM policy statement 1 must not allow wildcard actions (dynamodb:*).",
    ]);
  });
  it("checks a role's inline policies", async () => {
    const resources = edit(mesh(), "analytics-role", {
      inlinePolicies: [
        { name: "inline", policy: document({ Effect: "Allow", Action: "s3:*", Resource: "*" }) },
      ],
    });
    assert.deepEqual(await messages(policy, resources), [
      "IAM role inline policy inline statement 1 must not allow wildcard actions (s3:*).",
    ]);
  });
  it("rejects a malformed document", async () => {
    assert.deepEqual(
      await messages(
        policy,
        edit(mesh(), "analytics-role-policy", { policy: '{"Statement": [{"Effect": "Maybe"}]}' }),
      ),
      ["IAM policy must be a valid policy document (statement 1 has no Effect Allow or Deny)."],
    );
  });
});

describe("iam-no-wildcard-resource", () => {
  const policy = iamNoWildcardResource;
  it("passes personalize:PutEvents and xray on Resource *", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it('rejects a scopable action on Resource "*"', async () => {
    assert.deepEqual(
      await messages(
        policy,
        rolePolicy({
          Effect: "Allow",
          Action: ["kinesis:PutRecord", "personalize:PutEvents"],
          Resource: "*",
        }),
      ),
      ['IAM policy statement 1 must scope kinesis:PutRecord to resources rather than Resource "*".'],
    );
  });
  it("rejects NotResource", async () => {
    assert.deepEqual(
      await messages(
        policy,
        rolePolicy({ Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret/*" }),
      ),
      ['IAM policy statement 1 must scope s3:GetObject to resources rather than Resource "*".'],
    );
  });
  it("uses a configured allow-list", async () => {
    const config = {
      "iam-no-wildcard-resource": {
        wildcardResourceActions: [{ action: "kinesis:ListStreams", reason: "ListStreams has no resource" }],
      },
    };
    assert.deepEqual(await messages(policy, mesh(), config), [
      'IAM policy statement 3 must scope personalize:PutEvents and xray:PutTraceSegments to resources rather than Resource "*".',
    ]);
  });
  it("passes a resource unknown during preview (an ARN, never the literal *)", async () => {
    const statement = { Effect: "Allow", Action: "kinesis:PutRecord", Resource: UNKNOWN_STRING };
    assert.deepEqual(
      await messages(
        policy,
        edit(mesh(), "analytics-role-policy", { policy: { Version: "2012-10-17", Statement: [statement] } }),
      ),
      [],
    );
  });
});

describe("iam-no-unplanned-managed-policies", () => {
  const policy = iamNoUnplannedManagedPolicies;
  const admin = "arn:aws:iam::aws:policy/AdministratorAccess";
  it("passes roles with inline policies only", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects AdministratorAccess attached to a consumer role", async () => {
    const attachment = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "analytics-admin", {
      role: "mesh-analytics-plays",
      policyArn: admin,
    });
    assert.deepEqual(await messages(policy, [...mesh(), attachment]), [
      `IAM policy attachment must not attach ${admin}: a managed policy outside the plan cannot be checked; grant the actions it needs inline.`,
    ]);
  });
  it("rejects managed policies listed on the role and the other attachment types", async () => {
    const role = resource("aws:iam/role:Role", "analytics-role-managed", {
      assumeRolePolicy: document({
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
      }),
      managedPolicyArns: [admin, "arn:aws:iam::123456789012:policy/elsewhere"],
    });
    const group = resource("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "ops", {
      group: "ops",
      policyArn: admin,
    });
    const legacy = resource("aws:iam/policyAttachment:PolicyAttachment", "legacy", {
      roles: ["r"],
      policyArn: admin,
    });
    assert.deepEqual(await messages(policy, [...mesh(), role, group, legacy]), [
      `IAM role must not attach ${admin} and arn:aws:iam::123456789012:policy/elsewhere: a managed policy outside the plan cannot be checked; grant the actions it needs inline.`,
      `IAM policy attachment must not attach ${admin}: a managed policy outside the plan cannot be checked; grant the actions it needs inline.`,
      `IAM policy attachment must not attach ${admin}: a managed policy outside the plan cannot be checked; grant the actions it needs inline.`,
    ]);
  });
  it("passes the attachment of a policy the stack creates (its ARN unknown during preview)", async () => {
    const attachment = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "analytics-own", {
      role: "mesh-analytics-plays",
      policyArn: UNKNOWN_STRING,
    });
    assert.deepEqual(await messages(policy, [...mesh(), attachment]), []);
  });
});

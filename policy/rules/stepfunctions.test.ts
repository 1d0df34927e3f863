import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { resource } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { stepFunctionsCmkEncryption, stepFunctionsLogging, stepFunctionsOwnRole } from "./stepfunctions";

const ACCOUNT = "210987654321";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/recs-training-machine`;
const trust = (...services: string[]) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: services }, Action: "sts:AssumeRole" }],
  });

/** A compliant state machine and its role; `machine` and `role` change one property each. */
function fixture(machine: Record<string, unknown> = {}, role: Record<string, unknown> = {}) {
  return [
    resource("aws:iam/role:Role", "recs-training-machine-role", {
      name: "recs-training-machine",
      assumeRolePolicy: trust("states.amazonaws.com"),
      ...role,
    }),
    resource("aws:sfn/stateMachine:StateMachine", "recs-training-machine", {
      name: "recs-training",
      roleArn: ROLE_ARN,
      definition: "{}",
      loggingConfiguration: {
        level: "ERROR",
        includeExecutionData: false,
        logDestination: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/vendedlogs/states/recs-training:*`,
      },
      encryptionConfiguration: {
        type: "CUSTOMER_MANAGED_KMS_KEY",
        kmsKeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/recs`,
      },
      ...machine,
    }),
  ];
}

describe("stepfunctions-logging", () => {
  const policy = stepFunctionsLogging;
  it("passes a machine logging errors to a log group", async () => {
    assert.deepEqual(await messages(policy, fixture()), []);
  });
  it("rejects a machine without logging", async () => {
    assert.deepEqual(await messages(policy, fixture({ loggingConfiguration: undefined })), [
      "Step Functions state machine must log to a CloudWatch Logs group at level ALL, ERROR or FATAL (level is unset).",
    ]);
  });
  it("rejects logging turned off", async () => {
    const off = { level: "OFF", logDestination: "arn:aws:logs:eu-west-1:1:log-group:x:*" };
    assert.deepEqual(await messages(policy, fixture({ loggingConfiguration: off })), [
      "Step Functions state machine must log to a CloudWatch Logs group at level ALL, ERROR or FATAL (level is OFF).",
    ]);
  });
  it("rejects a level without a destination", async () => {
    assert.deepEqual(await messages(policy, fixture({ loggingConfiguration: { level: "ALL" } })), [
      "Step Functions state machine must log to a CloudWatch Logs group at level ALL, ERROR or FATAL (level is ALL).",
    ]);
  });
});

describe("stepfunctions-cmk-encryption", () => {
  const policy = stepFunctionsCmkEncryption;
  it("passes a machine encrypted with a customer-managed key", async () => {
    assert.deepEqual(await messages(policy, fixture()), []);
  });
  it("passes a key ARN unknown during preview", async () => {
    const encryption = { type: "CUSTOMER_MANAGED_KMS_KEY", kmsKeyId: UNKNOWN_STRING };
    assert.deepEqual(await messages(policy, fixture({ encryptionConfiguration: encryption })), []);
  });
  it("rejects the AWS-owned key (the default)", async () => {
    assert.deepEqual(await messages(policy, fixture({ encryptionConfiguration: undefined })), [
      "Step Functions state machine must be encrypted with a CUSTOMER_MANAGED_KMS_KEY (type is unset).",
    ]);
    assert.deepEqual(
      await messages(policy, fixture({ encryptionConfiguration: { type: "AWS_OWNED_KEY" } })),
      [
        "Step Functions state machine must be encrypted with a CUSTOMER_MANAGED_KMS_KEY (type is AWS_OWNED_KEY).",
      ],
    );
  });
});

describe("stepfunctions-own-role", () => {
  const policy = stepFunctionsOwnRole;
  it("passes a machine with its own role trusted by Step Functions alone", async () => {
    assert.deepEqual(await messages(policy, fixture()), []);
  });
  it("rejects a role that another service may assume too", async () => {
    const shared = { assumeRolePolicy: trust("states.amazonaws.com", "lambda.amazonaws.com") };
    assert.deepEqual(await messages(policy, fixture({}, shared)), [
      "Step Functions state machine recs-training-machine must run with a role trusted by states.amazonaws.com alone (recs-training-machine-role trusts states.amazonaws.com, lambda.amazonaws.com).",
    ]);
  });
  it("rejects two machines sharing one role", async () => {
    const [role, machine] = fixture();
    const twin = resource("aws:sfn/stateMachine:StateMachine", "other-machine", { ...machine!.inputs });
    assert.deepEqual(await messages(policy, [role!, machine!, twin]), [
      `Step Functions state machine recs-training-machine must not share its role ${ROLE_ARN} with other-machine.`,
      `Step Functions state machine other-machine must not share its role ${ROLE_ARN} with recs-training-machine.`,
    ]);
  });
});

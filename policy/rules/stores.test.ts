import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  dynamodbCmkEncryption,
  dynamodbDeletionProtectionInProd,
  dynamodbPointInTimeRecovery,
  rdsBackups,
  rdsDeletionProtectionInProd,
  rdsIamAuthentication,
  rdsManagedMasterPassword,
  rdsNotPubliclyAccessible,
  rdsStorageEncryptedCmk,
} from "./stores";

const cluster = (change: Record<string, unknown>) => edit(mesh(), "users-cluster", change);
const table = (change: Record<string, unknown>) => edit(mesh(), "connections", change);
const dev = (name: string, environment = "dev") =>
  edit(mesh(), name, (inputs) => {
    (inputs.tags as Record<string, string>)["mesh:environment"] = environment;
    delete inputs.deletionProtection;
    delete inputs.deletionProtectionEnabled;
  });

describe("rds-storage-encrypted-cmk", () => {
  const policy = rdsStorageEncryptedCmk;
  it("passes storage encrypted with a customer-managed key", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects unencrypted storage", async () => {
    assert.deepEqual(await messages(policy, cluster({ storageEncrypted: false })), [
      "Aurora cluster storageEncrypted must be true.",
    ]);
  });
  it("rejects encryption without a key (the AWS-managed aws/rds key)", async () => {
    assert.deepEqual(await messages(policy, cluster({ kmsKeyId: undefined })), [
      "Aurora cluster must be encrypted with a customer-managed KMS key (kmsKeyId is unset).",
    ]);
  });
  it("rejects an AWS-managed key alias", async () => {
    assert.deepEqual(await messages(policy, cluster({ kmsKeyId: "alias/aws/rds" })), [
      "Aurora cluster must be encrypted with a customer-managed KMS key (kmsKeyId is alias/aws/rds).",
    ]);
  });
  it("passes a key created by the deployment (unknown during preview)", async () => {
    assert.deepEqual(await messages(policy, cluster({ kmsKeyId: UNKNOWN_STRING })), []);
  });
});

describe("rds-iam-authentication", () => {
  const policy = rdsIamAuthentication;
  it("passes IAM authentication", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects unset", async () => {
    assert.deepEqual(await messages(policy, cluster({ iamDatabaseAuthenticationEnabled: undefined })), [
      "Aurora cluster iamDatabaseAuthenticationEnabled must be true.",
    ]);
  });
});

describe("rds-managed-master-password", () => {
  const policy = rdsManagedMasterPassword;
  it("passes a password managed by Secrets Manager", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a password in the program", async () => {
    assert.deepEqual(
      await messages(policy, cluster({ manageMasterUserPassword: undefined, masterPassword: "hunter2" })),
      [
        "Aurora cluster must not set masterPassword: it would be stored in the stack's state.",
        "Aurora cluster manageMasterUserPassword must be true.",
      ],
    );
  });
});

describe("rds-backups", () => {
  const policy = rdsBackups;
  it("passes 7 days", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects 1 day", async () => {
    assert.deepEqual(await messages(policy, cluster({ backupRetentionPeriod: 1 })), [
      "Aurora cluster backupRetentionPeriod must be at least 7 days (it is 1).",
    ]);
  });
  it("rejects unset", async () => {
    assert.deepEqual(await messages(policy, cluster({ backupRetentionPeriod: undefined })), [
      "Aurora cluster backupRetentionPeriod must be at least 7 days (it is unset, AWS's default of 1).",
    ]);
  });
});

describe("rds-deletion-protection-in-prod", () => {
  const policy = rdsDeletionProtectionInProd;
  it("passes deletion protection in prod", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a prod cluster without it", async () => {
    assert.deepEqual(await messages(policy, cluster({ deletionProtection: false })), [
      "Aurora cluster deletionProtection must be true.",
    ]);
  });
  it("does not apply outside prod", async () => {
    assert.deepEqual(await messages(policy, dev("users-cluster")), []);
  });
});

describe("rds-not-publicly-accessible", () => {
  const policy = rdsNotPubliclyAccessible;
  it("passes a private instance", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a public instance", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "users-instance", { publiclyAccessible: true })), [
      "Aurora instance publiclyAccessible must be false.",
    ]);
  });
});

describe("dynamodb-point-in-time-recovery", () => {
  const policy = dynamodbPointInTimeRecovery;
  it("passes point-in-time recovery", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a table without it", async () => {
    assert.deepEqual(await messages(policy, table({ pointInTimeRecovery: undefined })), [
      "DynamoDB table pointInTimeRecovery.enabled must be true.",
    ]);
  });
});

describe("dynamodb-cmk-encryption", () => {
  const policy = dynamodbCmkEncryption;
  it("passes SSE with a customer-managed key", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects the default AWS-owned key", async () => {
    assert.deepEqual(await messages(policy, table({ serverSideEncryption: undefined })), [
      "DynamoDB table serverSideEncryption.enabled must be true.",
      "DynamoDB table must be encrypted with a customer-managed KMS key (serverSideEncryption.kmsKeyArn is unset).",
    ]);
  });
  it("rejects the AWS-managed key", async () => {
    assert.deepEqual(await messages(policy, table({ serverSideEncryption: { enabled: true } })), [
      "DynamoDB table must be encrypted with a customer-managed KMS key (serverSideEncryption.kmsKeyArn is unset).",
    ]);
  });
});

describe("dynamodb-deletion-protection-in-prod", () => {
  const policy = dynamodbDeletionProtectionInProd;
  it("passes deletion protection in prod", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a prod table without it", async () => {
    assert.deepEqual(await messages(policy, table({ deletionProtectionEnabled: false })), [
      "DynamoDB table deletionProtectionEnabled must be true.",
    ]);
  });
  it("does not apply outside prod", async () => {
    assert.deepEqual(await messages(policy, dev("connections")), []);
  });
});

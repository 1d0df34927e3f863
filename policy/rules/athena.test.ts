import { strict as assert } from "node:assert";
import { edit, KEY_ARN, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  athenaWorkgroupBytesScannedCutoff,
  athenaWorkgroupEnforced,
  athenaWorkgroupResultsEncrypted,
} from "./athena";

const configuration = (change: Record<string, unknown>) =>
  edit(mesh(), "analytics-workgroup", (inputs) => {
    const config = inputs.configuration as Record<string, unknown>;
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete config[key];
      else config[key] = value;
    }
  });
const results = (encryptionConfiguration: object) =>
  configuration({
    resultConfiguration: { outputLocation: "s3://mesh-archive/athena/", encryptionConfiguration },
  });

describe("athena-workgroup-enforced", () => {
  const policy = athenaWorkgroupEnforced;
  it("passes an enforced workgroup", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("passes unset (the provider's default is true)", async () => {
    assert.deepEqual(await messages(policy, configuration({ enforceWorkgroupConfiguration: undefined })), []);
  });
  it("rejects a workgroup clients may override", async () => {
    assert.deepEqual(await messages(policy, configuration({ enforceWorkgroupConfiguration: false })), [
      "Athena workgroup configuration.enforceWorkgroupConfiguration must be true.",
    ]);
  });
});

describe("athena-workgroup-results-encrypted", () => {
  const policy = athenaWorkgroupResultsEncrypted;
  it("passes SSE_KMS with a customer-managed key", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects SSE_S3", async () => {
    assert.deepEqual(await messages(policy, results({ encryptionOption: "SSE_S3" })), [
      "Athena workgroup resultConfiguration.encryptionConfiguration.encryptionOption must be SSE_KMS or CSE_KMS (it is SSE_S3).",
    ]);
  });
  it("rejects results without encryption", async () => {
    assert.deepEqual(await messages(policy, configuration({ resultConfiguration: undefined })), [
      "Athena workgroup resultConfiguration.encryptionConfiguration.encryptionOption must be SSE_KMS or CSE_KMS (it is unset).",
    ]);
  });
  it("rejects SSE_KMS with the AWS-managed S3 key", async () => {
    assert.deepEqual(
      await messages(policy, results({ encryptionOption: "SSE_KMS", kmsKeyArn: "alias/aws/s3" })),
      [
        "Athena workgroup resultConfiguration.encryptionConfiguration must name a customer-managed KMS key (kmsKeyArn).",
      ],
    );
  });
  it("passes managed query results with a customer-managed key", async () => {
    const managed = { enabled: true, encryptionConfiguration: { kmsKey: KEY_ARN } };
    assert.deepEqual(
      await messages(
        policy,
        configuration({ resultConfiguration: undefined, managedQueryResultsConfiguration: managed }),
      ),
      [],
    );
  });
  it("rejects managed query results without a key (an AWS-owned key)", async () => {
    assert.deepEqual(
      await messages(
        policy,
        configuration({
          resultConfiguration: undefined,
          managedQueryResultsConfiguration: { enabled: true },
        }),
      ),
      [
        "Athena workgroup managedQueryResultsConfiguration must name a customer-managed KMS key (encryptionConfiguration.kmsKey).",
      ],
    );
  });
});

describe("athena-workgroup-bytes-scanned-cutoff", () => {
  const policy = athenaWorkgroupBytesScannedCutoff;
  it("passes a workgroup with a cutoff", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("advises a workgroup without one", async () => {
    assert.deepEqual(await messages(policy, configuration({ bytesScannedCutoffPerQuery: undefined })), [
      "Athena workgroup should set configuration.bytesScannedCutoffPerQuery.",
    ]);
  });
});

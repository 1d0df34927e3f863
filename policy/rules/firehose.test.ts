import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, KEY_ARN, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  firehoseOpensearchRetry,
  firehoseOpensearchS3Backup,
  firehoseSourceAwareEncryption,
} from "./firehose";

const firehose = (change: Parameters<typeof edit>[2]) => edit(mesh(), "search-firehose", change);
const directPut = (serverSideEncryption: unknown) =>
  firehose({ kinesisSourceConfiguration: undefined, serverSideEncryption });
const opensearch = (change: Record<string, unknown>) =>
  firehose((inputs) => Object.assign(inputs.opensearchConfiguration as object, change));

describe("firehose-source-aware-encryption", () => {
  const policy = firehoseSourceAwareEncryption;
  it("passes a stream-sourced delivery stream without its own encryption", async () => {
    assert.deepEqual(await messages(policy, mesh()), []);
  });
  it("rejects server-side encryption on a stream-sourced delivery stream", async () => {
    assert.deepEqual(
      await messages(policy, firehose({ serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" } })),
      [
        "Firehose delivery stream reading from a stream must not enable serverSideEncryption (the source stream's encryption applies).",
      ],
    );
  });
  it("passes a Direct PUT stream encrypted with a customer-managed key", async () => {
    const sse = { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: KEY_ARN };
    assert.deepEqual(await messages(policy, directPut(sse)), []);
  });
  it("rejects a Direct PUT stream without encryption", async () => {
    assert.deepEqual(await messages(policy, directPut(undefined)), [
      "Direct PUT Firehose delivery stream must enable serverSideEncryption with a CUSTOMER_MANAGED_CMK key.",
    ]);
  });
  it("rejects a Direct PUT stream with an AWS-owned key", async () => {
    assert.deepEqual(await messages(policy, directPut({ enabled: true, keyType: "AWS_OWNED_CMK" })), [
      "Direct PUT Firehose delivery stream must enable serverSideEncryption with a CUSTOMER_MANAGED_CMK key.",
    ]);
  });
  it("passes a customer-managed key ARN unknown during preview", async () => {
    const sse = { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: UNKNOWN_STRING };
    assert.deepEqual(await messages(policy, directPut(sse)), []);
  });
});

describe("firehose-opensearch-retry", () => {
  const policy = firehoseOpensearchRetry;
  it("passes 300 seconds", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("passes unset (the service default is 300 seconds)", async () => {
    assert.deepEqual(await messages(policy, opensearch({ retryDuration: undefined })), []);
  });
  it("rejects 0 (no retry)", async () => {
    assert.deepEqual(await messages(policy, opensearch({ retryDuration: 0 })), [
      "Firehose delivery stream opensearchConfiguration.retryDuration must be above 0 seconds (it is 0).",
    ]);
  });
  it("does not apply to other destinations", async () => {
    assert.deepEqual(
      await messages(policy, firehose({ destination: "extended_s3", opensearchConfiguration: undefined })),
      [],
    );
  });
});

describe("firehose-opensearch-s3-backup", () => {
  const policy = firehoseOpensearchS3Backup;
  it("passes FailedDocumentsOnly", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an unset backup mode", async () => {
    assert.deepEqual(await messages(policy, opensearch({ s3BackupMode: undefined })), [
      "Firehose delivery stream opensearchConfiguration.s3BackupMode must be FailedDocumentsOnly or AllDocuments (it is unset).",
    ]);
  });
  it("rejects a backup without a bucket", async () => {
    assert.deepEqual(
      await messages(policy, opensearch({ s3Configuration: { roleArn: "arn:aws:iam::1:role/x" } })),
      ["Firehose delivery stream opensearchConfiguration.s3Configuration must name a backup bucket."],
    );
  });
});

import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, KEY_ARN, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  firehoseOpensearchRetry,
  firehoseOpensearchS3Backup,
  firehoseS3CmkEncryption,
  firehoseS3ConversionBuffer,
  firehoseS3ErrorOutputPrefix,
  firehoseSourceAwareEncryption,
} from "./firehose";

const firehose = (change: Parameters<typeof edit>[2]) => edit(mesh(), "search-firehose", change);
const directPut = (serverSideEncryption: unknown) =>
  firehose({ kinesisSourceConfiguration: undefined, serverSideEncryption });
const landing = (change: Record<string, unknown>) =>
  edit(mesh(), "landing-firehose", (inputs) => {
    const s3 = inputs.extendedS3Configuration as Record<string, unknown>;
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete s3[key];
      else s3[key] = value;
    }
  });
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

describe("firehose-s3-cmk-encryption", () => {
  const policy = firehoseS3CmkEncryption;
  it("passes objects encrypted with a customer-managed key", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an S3 destination without a key", async () => {
    assert.deepEqual(await messages(policy, landing({ kmsKeyArn: undefined })), [
      "Firehose delivery stream extendedS3Configuration must name a customer-managed KMS key (kmsKeyArn); without one the objects get the bucket's default encryption at best.",
    ]);
  });
  it("rejects the AWS-managed S3 key", async () => {
    const key = "arn:aws:kms:eu-west-1:222222222222:alias/aws/s3";
    assert.deepEqual(await messages(policy, landing({ kmsKeyArn: key })), [
      "Firehose delivery stream extendedS3Configuration must name a customer-managed KMS key (kmsKeyArn); without one the objects get the bucket's default encryption at best.",
    ]);
  });
  it("passes a key ARN unknown during preview", async () => {
    assert.deepEqual(await messages(policy, landing({ kmsKeyArn: UNKNOWN_STRING })), []);
  });
});

describe("firehose-s3-error-output-prefix", () => {
  const policy = firehoseS3ErrorOutputPrefix;
  it("passes failed records under their own prefix", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an S3 destination without an error prefix", async () => {
    assert.deepEqual(await messages(policy, landing({ errorOutputPrefix: undefined })), [
      "Firehose delivery stream extendedS3Configuration must set an errorOutputPrefix.",
    ]);
  });
  it("rejects failed records inside the table's data prefix", async () => {
    const errors = "plays/errors/!{firehose:error-output-type}/";
    assert.deepEqual(await messages(policy, landing({ errorOutputPrefix: errors })), [
      `Firehose delivery stream extendedS3Configuration.errorOutputPrefix ${errors} must lie outside the data folder plays/, or a table over the data would read failed records as rows.`,
    ]);
  });
  it("rejects data written at the bucket root, where no error prefix lies outside it", async () => {
    const errors = "errors/plays/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/";
    assert.deepEqual(await messages(policy, landing({ prefix: undefined })), [
      `Firehose delivery stream extendedS3Configuration.errorOutputPrefix ${errors} must lie outside the data folder (the bucket root), or a table over the data would read failed records as rows.`,
    ]);
  });
});

describe("firehose-s3-conversion-buffer", () => {
  const policy = firehoseS3ConversionBuffer;
  it("passes Parquet conversion with a 64 MiB buffer", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a 5 MiB buffer with conversion", async () => {
    assert.deepEqual(await messages(policy, landing({ bufferingSize: 5 })), [
      "Firehose delivery stream converting records must set extendedS3Configuration.bufferingSize to at least 64 MiB (it is 5).",
    ]);
  });
  it("rejects an unset buffer (the provider sends 5 MiB)", async () => {
    assert.deepEqual(await messages(policy, landing({ bufferingSize: undefined })), [
      "Firehose delivery stream converting records must set extendedS3Configuration.bufferingSize to at least 64 MiB (it is unset, so 5).",
    ]);
  });
  it("does not apply without conversion", async () => {
    assert.deepEqual(
      await messages(policy, landing({ bufferingSize: 5, dataFormatConversionConfiguration: undefined })),
      [],
    );
  });
});

import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { edit, mesh, without } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { s3KmsEncryption, s3NoForceDestroy, s3PublicAccessBlock, s3TlsOnly, s3Versioning } from "./s3";

describe("s3-public-access-block", () => {
  const policy = s3PublicAccessBlock;
  it("passes a bucket with all four settings", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a bucket without a public access block", async () => {
    assert.deepEqual(await messages(policy, without(mesh(), "archive-public-access")), [
      "S3 bucket mesh-archive must have a public access block.",
    ]);
  });
  it("rejects a public access block of another bucket", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "archive-public-access", { bucket: "other-bucket" })),
      ["S3 bucket mesh-archive must have a public access block."],
    );
  });
  it("rejects a setting left false", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "archive-public-access", { restrictPublicBuckets: false })),
      ["S3 bucket mesh-archive public access block must set restrictPublicBuckets to true."],
    );
  });
  it("links through property dependencies when the bucket name is unknown during preview", async () => {
    const bucket = mesh().find((r) => r.name === "archive")!;
    const resources = edit(
      mesh(),
      "archive-public-access",
      { bucket: UNKNOWN_STRING, blockPublicAcls: false },
      {
        propertyDependencies: { bucket: [bucket.urn] },
      },
    );
    assert.deepEqual(await messages(policy, resources), [
      "S3 bucket mesh-archive public access block must set blockPublicAcls to true.",
    ]);
  });
  it("could not check a bucket when a public access block's bucket is unknown during preview", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "archive-public-access", { bucket: UNKNOWN_STRING })),
      ["S3 bucket mesh-archive public access block could not be checked during preview."],
    );
  });
});

describe("s3-tls-only", () => {
  const policy = s3TlsOnly;
  it("passes a Deny of insecure transport", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a bucket without a bucket policy", async () => {
    assert.deepEqual(await messages(policy, without(mesh(), "archive-policy")), [
      "S3 bucket mesh-archive must have a bucket policy that denies requests without TLS.",
    ]);
  });
  it("rejects a policy that does not deny insecure transport", async () => {
    const allow = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111111111111:root" },
          Action: "s3:GetObject",
          Resource: "*",
        },
      ],
    });
    assert.deepEqual(await messages(policy, edit(mesh(), "archive-policy", { policy: allow })), [
      "S3 bucket mesh-archive must have a bucket policy that denies requests without TLS.",
    ]);
  });
});

describe("s3-kms-encryption", () => {
  const policy = s3KmsEncryption;
  it("passes aws:kms with a key", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects AES256", async () => {
    const resources = edit(mesh(), "archive-encryption", {
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    assert.deepEqual(await messages(policy, resources), [
      "S3 bucket mesh-archive must be encrypted by default with a KMS key.",
    ]);
  });
  it("rejects aws:kms without a key", async () => {
    const resources = edit(mesh(), "archive-encryption", {
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
    });
    assert.deepEqual(await messages(policy, resources), [
      "S3 bucket mesh-archive must be encrypted by default with a KMS key.",
    ]);
  });
  it("rejects a bucket without an encryption configuration", async () => {
    assert.deepEqual(await messages(policy, without(mesh(), "archive-encryption")), [
      "S3 bucket mesh-archive must be encrypted by default with a KMS key.",
    ]);
  });
});

describe("s3-versioning", () => {
  const policy = s3Versioning;
  it("passes Enabled", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects Suspended", async () => {
    assert.deepEqual(
      await messages(
        policy,
        edit(mesh(), "archive-versioning", { versioningConfiguration: { status: "Suspended" } }),
      ),
      ["S3 bucket mesh-archive must have versioning enabled."],
    );
  });
  it("rejects a bucket without versioning", async () => {
    assert.deepEqual(await messages(policy, without(mesh(), "archive-versioning")), [
      "S3 bucket mesh-archive must have versioning enabled.",
    ]);
  });
});

describe("s3-no-force-destroy", () => {
  const policy = s3NoForceDestroy;
  it("passes forceDestroy false", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects forceDestroy true", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "archive", { forceDestroy: true })), [
      "S3 bucket forceDestroy must be false.",
    ]);
  });
});

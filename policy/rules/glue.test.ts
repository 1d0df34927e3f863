import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, edit, mesh, resource } from "../tests/fixtures";
import { messages } from "../tests/harness";
import {
  glueCatalogEncryption,
  glueConnectionNoPlaintextPassword,
  glueConnectionSsl,
  glueJobOwnRole,
  glueJobSecurityConfiguration,
  glueJobTimeout,
  glueJobVersion,
  glueSecurityConfigurationEncryption,
} from "./glue";

const atRest = (encryptionAtRest: object) =>
  edit(mesh(), "catalog-encryption", (inputs) => {
    (inputs.dataCatalogEncryptionSettings as Record<string, unknown>).encryptionAtRest = encryptionAtRest;
  });

describe("glue-catalog-encryption", () => {
  it("passes SSE-KMS with a key", async () =>
    assert.deepEqual(await messages(glueCatalogEncryption, mesh()), []));
  it("rejects DISABLED", async () => {
    assert.deepEqual(await messages(glueCatalogEncryption, atRest({ catalogEncryptionMode: "DISABLED" })), [
      "Glue catalog encryptionAtRest.catalogEncryptionMode must be SSE-KMS (it is DISABLED).",
    ]);
  });
  it("rejects SSE-KMS without a key", async () => {
    assert.deepEqual(await messages(glueCatalogEncryption, atRest({ catalogEncryptionMode: "SSE-KMS" })), [
      "Glue catalog encryptionAtRest must name a KMS key (sseAwsKmsKeyId).",
    ]);
  });
});

describe("glue-security-configuration-encryption", () => {
  const policy = glueSecurityConfigurationEncryption;
  const part = (block: string, value: object) =>
    edit(mesh(), "etl-security", (inputs) => {
      (inputs.encryptionConfiguration as Record<string, unknown>)[block] = value;
    });
  it("passes S3, CloudWatch and bookmarks encrypted with a customer-managed key", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects S3 output encrypted with S3's own key", async () => {
    assert.deepEqual(await messages(policy, part("s3Encryption", { s3EncryptionMode: "SSE-S3" })), [
      "Glue security configuration encryptionConfiguration.s3Encryption.s3EncryptionMode must be SSE-KMS (it is SSE-S3).",
    ]);
  });
  it("rejects CloudWatch logs left unencrypted (unset is DISABLED)", async () => {
    assert.deepEqual(await messages(policy, part("cloudwatchEncryption", {})), [
      "Glue security configuration encryptionConfiguration.cloudwatchEncryption.cloudwatchEncryptionMode must be SSE-KMS (it is unset).",
    ]);
  });
  it("rejects disabled job bookmark encryption", async () => {
    assert.deepEqual(
      await messages(policy, part("jobBookmarksEncryption", { jobBookmarksEncryptionMode: "DISABLED" })),
      [
        "Glue security configuration encryptionConfiguration.jobBookmarksEncryption.jobBookmarksEncryptionMode must be CSE-KMS (it is DISABLED).",
      ],
    );
  });
  it("rejects an AWS-managed key", async () => {
    const s3 = {
      s3EncryptionMode: "SSE-KMS",
      kmsKeyArn: "arn:aws:kms:eu-west-1:222222222222:alias/aws/glue",
    };
    assert.deepEqual(await messages(policy, part("s3Encryption", s3)), [
      "Glue security configuration encryptionConfiguration.s3Encryption must name a customer-managed KMS key (kmsKeyArn).",
    ]);
  });
  it("passes a key ARN unknown during preview", async () => {
    const s3 = { s3EncryptionMode: "SSE-KMS", kmsKeyArn: UNKNOWN_STRING };
    assert.deepEqual(await messages(policy, part("s3Encryption", s3)), []);
  });
});

describe("glue-job-security-configuration", () => {
  const policy = glueJobSecurityConfiguration;
  it("passes a job with a security configuration", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a job without one", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "etl-job", { securityConfiguration: undefined })), [
      "Glue job must name a security configuration (securityConfiguration).",
    ]);
  });
  it("passes a security configuration name unknown during preview", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "etl-job", { securityConfiguration: UNKNOWN_STRING })),
      [],
    );
  });
});

describe("glue-job-timeout", () => {
  const policy = glueJobTimeout;
  it("passes a job with a timeout", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("advises a batch job without one", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "etl-job", { timeout: undefined })), [
      "Glue job must set a timeout (the default for glueetl jobs is 2880 minutes).",
    ]);
  });
  it("does not apply to streaming jobs, which have no default timeout", async () => {
    const streaming = edit(mesh(), "etl-job", (inputs) => {
      delete inputs.timeout;
      inputs.command = { name: "gluestreaming", scriptLocation: "s3://mesh-archive/scripts/stream.py" };
    });
    assert.deepEqual(await messages(policy, streaming), []);
  });
});

describe("glue-connection-ssl", () => {
  const policy = glueConnectionSsl;
  const properties = (change: Record<string, string | undefined>) =>
    edit(mesh(), "etl-connection", (inputs) => {
      const props = inputs.connectionProperties as Record<string, string | undefined>;
      for (const [key, value] of Object.entries(change)) {
        if (value === undefined) delete props[key];
        else props[key] = value;
      }
    });
  it("passes a JDBC connection that enforces SSL", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a JDBC connection without JDBC_ENFORCE_SSL", async () => {
    assert.deepEqual(await messages(policy, properties({ JDBC_ENFORCE_SSL: undefined })), [
      'Glue JDBC connection must require SSL (connectionProperties.JDBC_ENFORCE_SSL "true"; it is unset).',
    ]);
  });
  it("rejects JDBC_ENFORCE_SSL false, also when the type is left to its JDBC default", async () => {
    const resources = edit(properties({ JDBC_ENFORCE_SSL: "false" }), "etl-connection", {
      connectionType: undefined,
    });
    assert.deepEqual(await messages(policy, resources), [
      'Glue JDBC connection must require SSL (connectionProperties.JDBC_ENFORCE_SSL "true"; it is "false").',
    ]);
  });
  it("rejects a Kafka connection without TLS", async () => {
    const kafka = edit(mesh(), "etl-connection", {
      connectionType: "KAFKA",
      connectionProperties: { KAFKA_BOOTSTRAP_SERVERS: "b-1.msk:9094" },
    });
    assert.deepEqual(await messages(policy, kafka), [
      'Glue KAFKA connection must require SSL (connectionProperties.KAFKA_SSL_ENABLED "true"; it is unset).',
    ]);
  });
  it("does not apply to NETWORK connections", async () => {
    const network = edit(mesh(), "etl-connection", { connectionType: "NETWORK", connectionProperties: {} });
    assert.deepEqual(await messages(policy, network), []);
  });
});

describe("glue-connection-no-plaintext-password", () => {
  const policy = glueConnectionNoPlaintextPassword;
  it("passes credentials from Secrets Manager", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a password in the connection properties", async () => {
    const resources = edit(mesh(), "etl-connection", (inputs) => {
      Object.assign(inputs.connectionProperties as object, { USERNAME: "songs", PASSWORD: "hunter2" });
    });
    assert.deepEqual(await messages(policy, resources), [
      "Glue connection must not hold PASSWORD in connectionProperties; reference a Secrets Manager secret (SECRET_ID) instead.",
    ]);
  });
});

describe("glue-job-version", () => {
  const policy = glueJobVersion;
  it("passes a Spark job on Glue 5.0", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects Glue 4.0", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "etl-job", { glueVersion: "4.0" })), [
      'Glue job must set glueVersion 5.0 or later (it is "4.0").',
    ]);
  });
  it("rejects an unset version, which Glue takes as 0.9", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "etl-job", { glueVersion: undefined })), [
      "Glue job must set glueVersion 5.0 or later (it is unset, which is 0.9).",
    ]);
  });
  it("does not apply to Python shell jobs, whose versions are their own", async () => {
    const shell = edit(mesh(), "etl-job", {
      glueVersion: "3.0",
      command: {
        name: "pythonshell",
        scriptLocation: "s3://mesh-archive/scripts/tidy.py",
        pythonVersion: "3.9",
      },
    });
    assert.deepEqual(await messages(policy, shell), []);
  });
});

describe("glue-job-own-role", () => {
  const policy = glueJobOwnRole;
  const roleArn = `arn:aws:iam::${ACCOUNTS.songs}:role/songs-etl`;
  const trust = (...services: string[]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: services }, Action: "sts:AssumeRole" }],
    });
  const withRole = (...services: string[]) => [
    ...mesh(),
    resource("aws:iam/role:Role", "songs-etl-role", {
      name: "songs-etl",
      assumeRolePolicy: trust(...services),
    }),
  ];
  it("passes a job with its own role trusted by Glue alone", async () =>
    assert.deepEqual(await messages(policy, withRole("glue.amazonaws.com")), []));
  it("rejects a role that another service may assume too", async () => {
    assert.deepEqual(await messages(policy, withRole("glue.amazonaws.com", "lambda.amazonaws.com")), [
      "Glue job etl-job must run with a role trusted by glue.amazonaws.com alone (songs-etl-role trusts glue.amazonaws.com, lambda.amazonaws.com).",
    ]);
  });
  it("rejects two jobs sharing one role", async () => {
    const resources = withRole("glue.amazonaws.com");
    const job = resources.find((r) => r.name === "etl-job")!;
    const twin = resource("aws:glue/job:Job", "other-job", { ...job.inputs, name: "songs-other" });
    assert.deepEqual(await messages(policy, [...resources, twin]), [
      `Glue job etl-job must not share its role ${roleArn} with other-job.`,
      `Glue job other-job must not share its role ${roleArn} with etl-job.`,
    ]);
  });
});

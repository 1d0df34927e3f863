import { isCustomerManagedKey } from "../lib/arns";
import { listOf } from "../lib/checks";
import { checkOwnServiceRoles } from "../lib/roles";
import { resourceRule, stackRule } from "../lib/rule";
import { T } from "../lib/types";
import { get, isRecord, parseMaybeJson, UNKNOWN } from "../lib/values";

const KMS_MODES = ["SSE-KMS", "SSE-KMS-WITH-SERVICE-ROLE"];

export const glueCatalogEncryption = resourceRule({
  name: "glue-catalog-encryption",
  description: "Glue Data Catalog encryption settings must encrypt the catalog at rest with SSE-KMS.",
  enforcementLevel: "mandatory",
  types: [T.GlueCatalogEncryption],
  check(settings, context) {
    const atRest = get(settings.props, "dataCatalogEncryptionSettings", "encryptionAtRest");
    const mode = get(atRest, "catalogEncryptionMode");
    const key = get(atRest, "sseAwsKmsKeyId");
    if (mode === UNKNOWN) {
      context.couldNotCheck("Glue catalog catalogEncryptionMode could not be checked during preview.");
    } else if (typeof mode !== "string" || !KMS_MODES.includes(mode)) {
      context.report(
        `Glue catalog encryptionAtRest.catalogEncryptionMode must be SSE-KMS (it is ${String(mode ?? "unset")}).`,
      );
    } else if (key !== UNKNOWN && (typeof key !== "string" || key.length === 0)) {
      context.report("Glue catalog encryptionAtRest must name a KMS key (sseAwsKmsKeyId).");
    }
  },
});

/**
 * What a security configuration encrypts, each with the only mode that uses a KMS key the mesh
 * manages: job bookmarks are encrypted client-side (CSE-KMS is their only KMS mode), S3 output and
 * CloudWatch logs server-side. Unset is DISABLED, the service default.
 */
const SECURITY_CONFIGURATION_PARTS = [
  { block: "s3Encryption", mode: "s3EncryptionMode", required: "SSE-KMS" },
  { block: "cloudwatchEncryption", mode: "cloudwatchEncryptionMode", required: "SSE-KMS" },
  { block: "jobBookmarksEncryption", mode: "jobBookmarksEncryptionMode", required: "CSE-KMS" },
] as const;

export const glueSecurityConfigurationEncryption = resourceRule({
  name: "glue-security-configuration-encryption",
  description:
    "Glue security configurations must encrypt S3 output (SSE-KMS), CloudWatch logs (SSE-KMS) and job bookmarks (CSE-KMS) with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  types: [T.GlueSecurityConfiguration],
  check(configuration, context) {
    for (const { block, mode: modeKey, required } of SECURITY_CONFIGURATION_PARTS) {
      const path = `encryptionConfiguration.${block}`;
      const part = get(configuration.props, "encryptionConfiguration", block);
      const mode = get(part, modeKey);
      if (mode === UNKNOWN) {
        context.couldNotCheck(
          `Glue security configuration ${path}.${modeKey} could not be checked during preview.`,
        );
      } else if (mode !== required) {
        context.report(
          `Glue security configuration ${path}.${modeKey} must be ${required} (it is ${String(mode ?? "unset")}).`,
        );
      } else if (!isCustomerManagedKey(get(part, "kmsKeyArn"))) {
        context.report(
          `Glue security configuration ${path} must name a customer-managed KMS key (kmsKeyArn).`,
        );
      }
    }
  },
});

export const glueJobSecurityConfiguration = resourceRule({
  name: "glue-job-security-configuration",
  description:
    "Glue jobs must run with a security configuration, so that what they write to S3, their logs and their bookmarks are encrypted.",
  enforcementLevel: "mandatory",
  types: [T.GlueJob],
  check(job, context) {
    // An unknown name is the output of a security configuration this deployment creates, which
    // glue-security-configuration-encryption checks.
    const configuration = job.props.securityConfiguration;
    if (configuration !== UNKNOWN && (typeof configuration !== "string" || configuration.length === 0)) {
      context.report("Glue job must name a security configuration (securityConfiguration).");
    }
  },
});

/** Glue's default timeout for batch jobs (glueetl, pythonshell, glueray); streaming jobs have none. */
const DEFAULT_JOB_TIMEOUT_MINUTES = 2880;

export const glueJobTimeout = resourceRule({
  name: "glue-job-timeout",
  description: `Glue batch jobs should set a timeout, as the default lets a stuck run bill workers for ${DEFAULT_JOB_TIMEOUT_MINUTES} minutes.`,
  enforcementLevel: "advisory",
  types: [T.GlueJob],
  check(job, context) {
    const command = get(job.props, "command", "name");
    const timeout = job.props.timeout;
    if (command === UNKNOWN || timeout === UNKNOWN) {
      context.couldNotCheck("Glue job timeout could not be checked during preview.");
    } else if (command !== "gluestreaming" && (timeout === undefined || timeout === null)) {
      context.report(
        `Glue job must set a timeout (the default for ${String(command ?? "glueetl")} jobs is ${DEFAULT_JOB_TIMEOUT_MINUTES} minutes).`,
      );
    }
  },
});

/** The connection property that makes Glue refuse a connection without TLS, per connection type. */
const SSL_PROPERTY: Readonly<Record<string, string>> = {
  JDBC: "JDBC_ENFORCE_SSL",
  KAFKA: "KAFKA_SSL_ENABLED",
};

export const glueConnectionSsl = resourceRule({
  name: "glue-connection-ssl",
  description:
    "Glue JDBC and Kafka connections must require SSL (JDBC_ENFORCE_SSL or KAFKA_SSL_ENABLED set to true).",
  enforcementLevel: "mandatory",
  types: [T.GlueConnection],
  check(connection, context) {
    // Unset is JDBC, the API's default connection type.
    const type = connection.props.connectionType ?? "JDBC";
    if (type === UNKNOWN) {
      context.couldNotCheck("Glue connection connectionType could not be checked during preview.");
      return;
    }
    const property = typeof type === "string" ? SSL_PROPERTY[type] : undefined;
    if (!property) return; // NETWORK and the other types carry no database or broker protocol
    const value = get(parseMaybeJson(connection.props.connectionProperties), property);
    if (value === UNKNOWN) {
      context.couldNotCheck(`Glue connection ${property} could not be checked during preview.`);
    } else if (String(value).toLowerCase() !== "true") {
      context.report(
        `Glue ${String(type)} connection must require SSL (connectionProperties.${property} "true"; it is ${value === undefined ? "unset" : JSON.stringify(value)}).`,
      );
    }
  },
});

export const glueConnectionNoPlaintextPassword = resourceRule({
  name: "glue-connection-no-plaintext-password",
  description:
    "Glue connections must take credentials from Secrets Manager (SECRET_ID), not a password in connectionProperties, which the state and the plan would hold in plain text.",
  enforcementLevel: "mandatory",
  types: [T.GlueConnection],
  check(connection, context) {
    const properties = parseMaybeJson(connection.props.connectionProperties);
    if (properties === UNKNOWN) {
      context.couldNotCheck("Glue connection connectionProperties could not be checked during preview.");
      return;
    }
    if (!isRecord(properties)) return;
    const passwords = Object.keys(properties).filter((key) => /PASSWORD$/i.test(key));
    if (passwords.length > 0) {
      context.report(
        `Glue connection must not hold ${listOf(passwords)} in connectionProperties; reference a Secrets Manager secret (SECRET_ID) instead.`,
      );
    }
  },
});

/** The oldest Glue version the platform runs Spark jobs on: Spark 3.5, the SQL subset of docs/etl.md. */
export const MIN_GLUE_VERSION = "5.0";

export const glueJobVersion = resourceRule({
  name: "glue-job-version",
  description: `Glue Spark jobs (glueetl, gluestreaming) must run on Glue ${MIN_GLUE_VERSION} or later: older versions run older Spark (the transforms' SQL is checked against Spark 3.5) and are leaving support.`,
  enforcementLevel: "mandatory",
  types: [T.GlueJob],
  check(job, context) {
    const command = get(job.props, "command", "name");
    const version = job.props.glueVersion;
    if (command === UNKNOWN || version === UNKNOWN) {
      context.couldNotCheck("Glue job glueVersion could not be checked during preview.");
      return;
    }
    // Python shell and Ray jobs have their own version lines.
    if (command !== undefined && command !== "glueetl" && command !== "gluestreaming") return;
    const number = typeof version === "string" ? Number(version) : NaN;
    if (!(number >= Number(MIN_GLUE_VERSION))) {
      context.report(
        `Glue job must set glueVersion ${MIN_GLUE_VERSION} or later (it is ${version === undefined ? "unset, which is 0.9" : JSON.stringify(version)}).`,
      );
    }
  },
});

export const glueJobOwnRole = stackRule({
  name: "glue-job-own-role",
  description:
    "Glue jobs must each run with a role of their own, trusted by glue.amazonaws.com alone, so that its policy holds only that job's reads and writes.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    checkOwnServiceRoles(stack, context, {
      type: T.GlueJob,
      label: "Glue job",
      service: "glue.amazonaws.com",
    });
  },
});

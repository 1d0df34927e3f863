import { environmentOf, resourceRule, type ResourceView, type RuleContext } from "../lib/rule";
import { T } from "../lib/types";
import { get, UNKNOWN } from "../lib/values";

/**
 * The domains' own stores: Aurora clusters and instances, DynamoDB tables. What docs/outbox.md
 * and the README's "The domains' own stores" section build, checked wherever a team builds its own.
 */

const CLUSTER = "Aurora cluster";
const TABLE = "DynamoDB table";
/** Days of automated backups below which a cluster's point-in-time restore window is too short. */
export const MIN_BACKUP_RETENTION_DAYS = 7;

/** A key id that names an AWS-managed key (`alias/aws/...`) rather than a customer-managed one. */
const isAwsManagedKey = (keyId: string): boolean => /(^|:)alias\/aws\//.test(keyId);

/**
 * Reports unless the value at `path` is `true`; unknown during preview is a could-not-check.
 * `label` names the setting in messages.
 */
function requireTrue(
  resource: ResourceView,
  context: RuleContext<never>,
  what: string,
  path: readonly string[],
): void {
  const value = get(resource.props, ...path);
  if (value === UNKNOWN)
    context.couldNotCheck(`${what} ${path.join(".")} could not be checked during preview.`);
  else if (value !== true) context.report(`${what} ${path.join(".")} must be true.`);
}

/** Reports unless the key at `path` is set and customer-managed; unknown is a key this deployment creates. */
function requireCustomerManagedKey(
  resource: ResourceView,
  context: RuleContext<never>,
  what: string,
  path: readonly string[],
): void {
  const key = get(resource.props, ...path);
  if (key === UNKNOWN) return;
  if (typeof key !== "string" || key.length === 0) {
    context.report(`${what} must be encrypted with a customer-managed KMS key (${path.join(".")} is unset).`);
  } else if (isAwsManagedKey(key)) {
    context.report(
      `${what} must be encrypted with a customer-managed KMS key (${path.join(".")} is ${key}).`,
    );
  }
}

/** In prod (config or the resource's tag), the value at `path` must be true. */
function requireTrueInProd(
  resource: ResourceView,
  context: RuleContext<"environment">,
  what: string,
  path: readonly string[],
): void {
  const environment = environmentOf(resource, context.settings.environment);
  if (environment === "prod") requireTrue(resource, context as RuleContext<never>, what, path);
}

export const rdsStorageEncryptedCmk = resourceRule({
  name: "rds-storage-encrypted-cmk",
  description: "Aurora clusters must encrypt storage with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  types: [T.RdsCluster],
  check(cluster, context) {
    requireTrue(cluster, context, CLUSTER, ["storageEncrypted"]);
    requireCustomerManagedKey(cluster, context, CLUSTER, ["kmsKeyId"]);
  },
});

export const rdsIamAuthentication = resourceRule({
  name: "rds-iam-authentication",
  description: "Aurora clusters must enable IAM database authentication.",
  enforcementLevel: "mandatory",
  types: [T.RdsCluster],
  check: (cluster, context) => requireTrue(cluster, context, CLUSTER, ["iamDatabaseAuthenticationEnabled"]),
});

export const rdsManagedMasterPassword = resourceRule({
  name: "rds-managed-master-password",
  description:
    "Aurora clusters must let Secrets Manager manage the master password (manageMasterUserPassword), never set masterPassword.",
  enforcementLevel: "mandatory",
  types: [T.RdsCluster],
  check(cluster, context) {
    if (cluster.props.masterPassword !== undefined && cluster.props.masterPassword !== null) {
      context.report(`${CLUSTER} must not set masterPassword: it would be stored in the stack's state.`);
    }
    requireTrue(cluster, context, CLUSTER, ["manageMasterUserPassword"]);
  },
});

export const rdsBackups = resourceRule({
  name: "rds-backups",
  description: `Aurora clusters must keep automated backups at least ${MIN_BACKUP_RETENTION_DAYS} days.`,
  enforcementLevel: "mandatory",
  types: [T.RdsCluster],
  check(cluster, context) {
    const days = cluster.props.backupRetentionPeriod;
    if (days === UNKNOWN) {
      context.couldNotCheck(`${CLUSTER} backupRetentionPeriod could not be checked during preview.`);
    } else if (typeof days !== "number" || days < MIN_BACKUP_RETENTION_DAYS) {
      context.report(
        `${CLUSTER} backupRetentionPeriod must be at least ${MIN_BACKUP_RETENTION_DAYS} days (it is ${String(days ?? "unset, AWS's default of 1")}).`,
      );
    }
  },
});

export const rdsDeletionProtectionInProd = resourceRule({
  name: "rds-deletion-protection-in-prod",
  description: "Aurora clusters must enable deletion protection in prod.",
  enforcementLevel: "mandatory",
  types: [T.RdsCluster],
  settings: ["environment"],
  check: (cluster, context) => requireTrueInProd(cluster, context, CLUSTER, ["deletionProtection"]),
});

export const rdsNotPubliclyAccessible = resourceRule({
  name: "rds-not-publicly-accessible",
  description: "Aurora instances must not be publicly accessible.",
  enforcementLevel: "mandatory",
  types: [T.RdsClusterInstance],
  check(instance, context) {
    const value = instance.props.publiclyAccessible;
    if (value === UNKNOWN) {
      context.couldNotCheck("Aurora instance publiclyAccessible could not be checked during preview.");
    } else if (value === true) {
      context.report("Aurora instance publiclyAccessible must be false.");
    }
  },
});

export const dynamodbPointInTimeRecovery = resourceRule({
  name: "dynamodb-point-in-time-recovery",
  description: "DynamoDB tables must enable point-in-time recovery.",
  enforcementLevel: "mandatory",
  types: [T.DynamoTable],
  check: (table, context) => requireTrue(table, context, TABLE, ["pointInTimeRecovery", "enabled"]),
});

export const dynamodbCmkEncryption = resourceRule({
  name: "dynamodb-cmk-encryption",
  description: "DynamoDB tables must be encrypted with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  types: [T.DynamoTable],
  check(table, context) {
    requireTrue(table, context, TABLE, ["serverSideEncryption", "enabled"]);
    requireCustomerManagedKey(table, context, TABLE, ["serverSideEncryption", "kmsKeyArn"]);
  },
});

export const dynamodbDeletionProtectionInProd = resourceRule({
  name: "dynamodb-deletion-protection-in-prod",
  description: "DynamoDB tables must enable deletion protection in prod.",
  enforcementLevel: "mandatory",
  types: [T.DynamoTable],
  settings: ["environment"],
  check: (table, context) => requireTrueInProd(table, context, TABLE, ["deletionProtectionEnabled"]),
});

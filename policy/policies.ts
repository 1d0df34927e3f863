import type { Policies } from "@pulumi/policy";
import { exemptedViolations } from "./exemptions";
import * as apigateway from "./rules/apigateway";
import * as athena from "./rules/athena";
import * as ec2 from "./rules/ec2";
import * as firehose from "./rules/firehose";
import * as stepfunctions from "./rules/stepfunctions";
import * as glue from "./rules/glue";
import * as iam from "./rules/iam";
import * as kinesis from "./rules/kinesis";
import * as kms from "./rules/kms";
import * as lakeformation from "./rules/lakeformation";
import * as lambda from "./rules/lambda";
import * as mesh from "./rules/mesh";
import * as opensearch from "./rules/opensearch";
import * as principals from "./rules/principals";
import * as s3 from "./rules/s3";
import * as sns from "./rules/sns";
import * as stores from "./rules/stores";

/**
 * Every rule of the mesh guardrails, grouped by service. Importing this module does not start
 * anything: `index.ts` hands the list to a PolicyPack (which serves it to the Pulumi CLI), and
 * `evaluate.ts` runs the same objects over an offline plan.
 */
export const rulePolicies: Policies = [
  kinesis.kinesisSharedStreamCmk,
  kinesis.kinesisRetentionFloor,
  kinesis.kinesisRetentionCoversConsumers,
  kinesis.kinesisPolicyNoWildcardPrincipal,
  principals.crossAccountMeshPrincipals,
  kinesis.kinesisPolicyLeastPrivilege,
  kinesis.kinesisPolicyOwnResource,
  kinesis.kinesisOneResourcePolicyPerStream,
  kinesis.kinesisEfoConsumerLimit,
  kms.kmsKeyRotation,
  kms.kmsDeletionWindow,
  kms.kmsKeyPolicyScoped,
  lambda.lambdaEsmBoundedRetries,
  lambda.lambdaEsmBoundedRecordAge,
  lambda.lambdaEsmBisectOnError,
  lambda.lambdaEsmReportBatchItemFailures,
  lambda.lambdaEsmOnFailureDestination,
  lambda.lambdaEsmFilters,
  lambda.lambdaEsmFiltersContract,
  lambda.lambdaEsmStartingPosition,
  lambda.lambdaSupportedRuntime,
  lambda.lambdaNoPublicInvoke,
  s3.s3PublicAccessBlock,
  s3.s3TlsOnly,
  s3.s3KmsEncryption,
  s3.s3Versioning,
  s3.s3NoForceDestroy,
  firehose.firehoseSourceAwareEncryption,
  firehose.firehoseOpensearchRetry,
  firehose.firehoseOpensearchS3Backup,
  stepfunctions.stepFunctionsLogging,
  stepfunctions.stepFunctionsCmkEncryption,
  stepfunctions.stepFunctionsOwnRole,
  firehose.firehoseS3CmkEncryption,
  firehose.firehoseS3ErrorOutputPrefix,
  firehose.firehoseS3ConversionBuffer,
  opensearch.opensearchEncryptionAtRest,
  opensearch.opensearchNodeToNodeEncryption,
  opensearch.opensearchEnforceHttps,
  opensearch.opensearchFineGrainedAccessControl,
  glue.glueCatalogEncryption,
  glue.glueSecurityConfigurationEncryption,
  glue.glueJobSecurityConfiguration,
  glue.glueJobTimeout,
  glue.glueJobVersion,
  glue.glueJobOwnRole,
  glue.glueConnectionSsl,
  glue.glueConnectionNoPlaintextPassword,
  lakeformation.lakeformationDataSharingVersion,
  lakeformation.lakeformationSettingsAdmins,
  lakeformation.lakeformationNoIamAllowedPrincipals,
  lakeformation.lakeformationExternalGrantsLfTags,
  lakeformation.lakeformationExternalGrantsReadOnly,
  lakeformation.lakeformationResourceNoHybridAccess,
  lakeformation.lakeformationGrantsDeclared,
  athena.athenaWorkgroupEnforced,
  athena.athenaWorkgroupResultsEncrypted,
  athena.athenaWorkgroupBytesScannedCutoff,
  apigateway.apigatewayRouteAuthorization,
  apigateway.apigatewayStageAccessLogs,
  apigateway.apigatewayWebsocketLoggingRole,
  sns.snsAlarmTopicSubscribed,
  apigateway.apigatewayStageThrottling,
  stores.rdsStorageEncryptedCmk,
  stores.rdsIamAuthentication,
  stores.rdsManagedMasterPassword,
  stores.rdsBackups,
  stores.rdsDeletionProtectionInProd,
  stores.rdsNotPubliclyAccessible,
  stores.dynamodbPointInTimeRecovery,
  stores.dynamodbCmkEncryption,
  stores.dynamodbDeletionProtectionInProd,
  ec2.ec2NoPublicIngress,
  iam.iamNoWildcardAction,
  iam.iamNoUnplannedManagedPolicies,
  iam.iamNoWildcardResource,
  mesh.meshRequiredTags,
  mesh.meshProtectStatefulInProd,
];

/** The pack's policies: the rules, then the report of exempted violations (it must run last). */
export const allPolicies: Policies = [...rulePolicies, exemptedViolations];

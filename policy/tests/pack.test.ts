import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as aws from "@pulumi/aws";
import { exemptedViolations } from "../exemptions";
import { T, TAGGABLE_TYPES } from "../lib/types";
import { allPolicies, rulePolicies } from "../policies";

describe("the mesh-guardrails pack", () => {
  it("has unique kebab-case names, one-sentence descriptions and an explicit level per rule", () => {
    const names = rulePolicies.map((policy) => policy.name);
    assert.equal(new Set(names).size, names.length);
    for (const policy of rulePolicies) {
      assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)+$/, policy.name);
      assert.match(policy.description, /^[A-Z][^]*\.$/, policy.name);
      assert.equal(
        policy.description.replace(/\b(e\.g|i\.e)\./g, "").split(/\.\s/).length,
        1,
        `${policy.name}: one sentence`,
      );
      assert.ok(
        policy.enforcementLevel === "mandatory" || policy.enforcementLevel === "advisory",
        policy.name,
      );
    }
  });

  it("reports exempted violations last", () => {
    assert.equal(allPolicies[allPolicies.length - 1], exemptedViolations);
  });

  it("can be listed without constructing the PolicyPack (which starts a gRPC server)", () => {
    const source = readFileSync(join(__dirname, "..", "policies.ts"), "utf8");
    assert.doesNotMatch(source, /new PolicyPack|import \{[^}]*\bPolicyPack\b/);
  });

  it("names each type as @pulumi/aws does", () => {
    const classes: Record<string, unknown> = {
      Stream: aws.kinesis.Stream,
      StreamConsumer: aws.kinesis.StreamConsumer,
      StreamResourcePolicy: aws.kinesis.ResourcePolicy,
      FirehoseDeliveryStream: aws.kinesis.FirehoseDeliveryStream,
      KmsKey: aws.kms.Key,
      EventSourceMapping: aws.lambda.EventSourceMapping,
      LambdaFunction: aws.lambda.Function,
      LambdaPermission: aws.lambda.Permission,
      IamRole: aws.iam.Role,
      IamRolePolicy: aws.iam.RolePolicy,
      IamPolicy: aws.iam.Policy,
      IamUserPolicy: aws.iam.UserPolicy,
      IamGroupPolicy: aws.iam.GroupPolicy,
      Bucket: aws.s3.Bucket,
      BucketV2: aws.s3.BucketV2,
      BucketPublicAccessBlock: aws.s3.BucketPublicAccessBlock,
      BucketPolicy: aws.s3.BucketPolicy,
      BucketVersioning: aws.s3.BucketVersioning,
      BucketVersioningV2: aws.s3.BucketVersioningV2,
      BucketEncryption: aws.s3.BucketServerSideEncryptionConfiguration,
      BucketEncryptionV2: aws.s3.BucketServerSideEncryptionConfigurationV2,
      OpenSearchDomain: aws.opensearch.Domain,
      GlueCatalogEncryption: aws.glue.DataCatalogEncryptionSettings,
      LakeFormationSettings: aws.lakeformation.DataLakeSettings,
      LakeFormationPermissions: aws.lakeformation.Permissions,
      HttpApi: aws.apigatewayv2.Api,
      ApiRoute: aws.apigatewayv2.Route,
      ApiStage: aws.apigatewayv2.Stage,
      DynamoTable: aws.dynamodb.Table,
      RdsCluster: aws.rds.Cluster,
      RdsClusterInstance: aws.rds.ClusterInstance,
      SecurityGroup: aws.ec2.SecurityGroup,
      SecurityGroupRule: aws.ec2.SecurityGroupRule,
      SecurityGroupIngressRule: aws.vpc.SecurityGroupIngressRule,
      SqsQueue: aws.sqs.Queue,
      SnsTopic: aws.sns.Topic,
      LogGroup: aws.cloudwatch.LogGroup,
      MetricAlarm: aws.cloudwatch.MetricAlarm,
      GlueRegistry: aws.glue.Registry,
      GlueSchema: aws.glue.Schema,
      GlueDatabase: aws.glue.CatalogDatabase,
      StateMachine: aws.sfn.StateMachine,
      GlueJob: aws.glue.Job,
      GlueConnection: aws.glue.Connection,
      GlueSecurityConfiguration: aws.glue.SecurityConfiguration,
      LakeFormationResource: aws.lakeformation.Resource,
      AthenaWorkgroup: aws.athena.Workgroup,
      ApiGatewayAccount: aws.apigateway.Account,
      GlueTable: aws.glue.CatalogTable,
      LakeFormationResourceLfTags: aws.lakeformation.ResourceLfTags,
      SnsTopicSubscription: aws.sns.TopicSubscription,
      SnsTopicPolicy: aws.sns.TopicPolicy,
      SqsQueuePolicy: aws.sqs.QueuePolicy,
      IamRolePolicyAttachment: aws.iam.RolePolicyAttachment,
      IamPolicyAttachment: aws.iam.PolicyAttachment,
      IamUserPolicyAttachment: aws.iam.UserPolicyAttachment,
      IamGroupPolicyAttachment: aws.iam.GroupPolicyAttachment,
    };
    for (const [key, type] of Object.entries(T)) {
      if (key === "AwsProvider") continue;
      assert.equal((classes[key] as { __pulumiType?: string } | undefined)?.__pulumiType, type, key);
    }
  });

  describe("taggable types", () => {
    const awsDir = join(__dirname, "..", "..", "node_modules", "@pulumi", "aws");
    /** Whether `<Resource>Args` of a type token declares `tags`, read from @pulumi/aws's declarations. */
    function argsHaveTags(type: string): boolean {
      const [, module, resource] = /^aws:([^/]+)\/([^:]+):(.+)$/.exec(type)!;
      const source = readFileSync(join(awsDir, module!, `${resource}.d.ts`), "utf8");
      const args = new RegExp(`export interface ${type.split(":").pop()}Args \\{([\\s\\S]*?)\\n\\}`).exec(
        source,
      )?.[1];
      assert.ok(args, `no Args interface for ${type}`);
      return /^ {4}tags\?:/m.test(args);
    }

    it("lists only types whose inputs have tags", () => {
      for (const type of TAGGABLE_TYPES) assert.ok(argsHaveTags(type), type);
    });

    it("leaves out only mesh types without tags", () => {
      const untagged = Object.values(T).filter(
        (type) => type.startsWith("aws:") && !TAGGABLE_TYPES.includes(type),
      );
      for (const type of untagged) assert.equal(argsHaveTags(type), false, type);
    });
  });
});

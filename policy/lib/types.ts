/**
 * Pulumi type tokens of the resources the rules look at (@pulumi/aws v7). Plain strings rather than
 * the classes so that the pack does not load the AWS SDK's resource modules; a test checks each one
 * against the class's `__pulumiType`.
 */
export const T = {
  Stream: "aws:kinesis/stream:Stream",
  StreamConsumer: "aws:kinesis/streamConsumer:StreamConsumer",
  StreamResourcePolicy: "aws:kinesis/resourcePolicy:ResourcePolicy",
  FirehoseDeliveryStream: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  KmsKey: "aws:kms/key:Key",
  EventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  LambdaFunction: "aws:lambda/function:Function",
  LambdaPermission: "aws:lambda/permission:Permission",
  IamRole: "aws:iam/role:Role",
  IamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  IamPolicy: "aws:iam/policy:Policy",
  IamUserPolicy: "aws:iam/userPolicy:UserPolicy",
  IamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  Bucket: "aws:s3/bucket:Bucket",
  /** Deprecated alias of Bucket that v7 still ships. */
  BucketV2: "aws:s3/bucketV2:BucketV2",
  BucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  BucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  BucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  BucketVersioningV2: "aws:s3/bucketVersioningV2:BucketVersioningV2",
  BucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  BucketEncryptionV2:
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  OpenSearchDomain: "aws:opensearch/domain:Domain",
  GlueCatalogEncryption: "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
  LakeFormationSettings: "aws:lakeformation/dataLakeSettings:DataLakeSettings",
  LakeFormationPermissions: "aws:lakeformation/permissions:Permissions",
  HttpApi: "aws:apigatewayv2/api:Api",
  ApiRoute: "aws:apigatewayv2/route:Route",
  ApiStage: "aws:apigatewayv2/stage:Stage",
  ApiGatewayAccount: "aws:apigateway/account:Account",
  DynamoTable: "aws:dynamodb/table:Table",
  RdsCluster: "aws:rds/cluster:Cluster",
  RdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
  SecurityGroup: "aws:ec2/securityGroup:SecurityGroup",
  SecurityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  SecurityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  SqsQueue: "aws:sqs/queue:Queue",
  SnsTopic: "aws:sns/topic:Topic",
  SnsTopicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  SnsTopicSubscription: "aws:sns/topicSubscription:TopicSubscription",
  SqsQueuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  IamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  IamPolicyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  IamUserPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  IamGroupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  LogGroup: "aws:cloudwatch/logGroup:LogGroup",
  MetricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  GlueRegistry: "aws:glue/registry:Registry",
  GlueSchema: "aws:glue/schema:Schema",
  GlueDatabase: "aws:glue/catalogDatabase:CatalogDatabase",
  GlueTable: "aws:glue/catalogTable:CatalogTable",
  StateMachine: "aws:sfn/stateMachine:StateMachine",
  GlueJob: "aws:glue/job:Job",
  GlueConnection: "aws:glue/connection:Connection",
  GlueSecurityConfiguration: "aws:glue/securityConfiguration:SecurityConfiguration",
  LakeFormationResource: "aws:lakeformation/resource:Resource",
  LakeFormationResourceLfTags: "aws:lakeformation/resourceLfTags:ResourceLfTags",
  AthenaWorkgroup: "aws:athena/workgroup:Workgroup",
  AwsProvider: "pulumi:providers:aws",
} as const;

export const BUCKET_TYPES: readonly string[] = [T.Bucket, T.BucketV2];
export const IAM_POLICY_TYPES: readonly string[] = [
  T.IamRolePolicy,
  T.IamPolicy,
  T.IamUserPolicy,
  T.IamGroupPolicy,
  T.IamRole,
];

/**
 * Resource types of the mesh whose inputs have a `tags` property. Policies see type tokens, not the
 * AWS schema, so taggability is this explicit list, kept honest by a test that reads the
 * `<Resource>Args` declarations of @pulumi/aws: every type listed has `tags`, and the mesh types left
 * out (resource policies, permissions, routes, bucket sub-resources...) do not. A new taggable type
 * the mesh starts using must be added here.
 */
export const TAGGABLE_TYPES: readonly string[] = [
  T.Stream,
  T.StreamConsumer,
  T.FirehoseDeliveryStream,
  T.KmsKey,
  T.LambdaFunction,
  T.EventSourceMapping,
  T.IamRole,
  T.IamPolicy,
  T.Bucket,
  T.BucketV2,
  T.OpenSearchDomain,
  T.HttpApi,
  T.ApiStage,
  T.DynamoTable,
  T.RdsCluster,
  T.RdsClusterInstance,
  T.SecurityGroup,
  T.SecurityGroupIngressRule,
  T.SqsQueue,
  T.SnsTopic,
  T.LogGroup,
  T.MetricAlarm,
  T.GlueRegistry,
  T.GlueSchema,
  T.GlueDatabase,
  T.StateMachine,
  T.GlueJob,
  T.GlueConnection,
  T.AthenaWorkgroup,
];

/** Types that hold data or keys: deleting them loses data, so prod protects them. */
export const STATEFUL_TYPES: readonly string[] = [
  T.Stream,
  T.KmsKey,
  T.DynamoTable,
  T.RdsCluster,
  T.Bucket,
  T.BucketV2,
  T.OpenSearchDomain,
];

import type { PlanResource } from "../evaluate";

/**
 * A small mesh that every rule passes: the happy-path fixture of every policy test. Failing tests
 * change one property of one resource with {@link edit}.
 */
export const ACCOUNTS = {
  platform: "111111111111",
  songs: "222222222222",
  analytics: "333333333333",
} as const;
export const ORG = "o-a1b2c3d4e5";
const REGION = "eu-west-1";

export const STREAM_ARN = `arn:aws:kinesis:${REGION}:${ACCOUNTS.songs}:stream/songs.plays`;
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNTS.songs}:key/songs-key`;
const ANALYTICS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNTS.analytics}:key/analytics-key`;
export const CONSUMER_ROLE = `arn:aws:iam::${ACCOUNTS.analytics}:role/analytics-plays`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNTS.analytics}:analytics-plays-failures`;
const BUCKET_ARN = "arn:aws:s3:::mesh-archive";
const LANDING_ROLE = `arn:aws:iam::${ACCOUNTS.songs}:role/songs-landing`;

/**
 * What `npm run plan` derives from the declaration for lakeformation-grants-declared: the fixture's
 * one table at rest (songs/plays, user_id tagged pii at column level) and analytics' subscription to
 * it without the pii column. Plans of the fixture carry it as `lakeFormationAccess`.
 */
export const LAKE_ACCESS = {
  catalogAccountId: ACCOUNTS.platform,
  tables: [
    {
      product: "songs/plays",
      accountId: ACCOUNTS.songs,
      database: "songs",
      table: "plays",
      databaseTags: { "mesh:domain": "songs" },
      tags: { "mesh:product": "songs/plays", "mesh:classification": "internal" },
      columns: [
        { name: "event_id", tags: {} },
        { name: "song_id", tags: {} },
        { name: "user_id", tags: { "mesh:classification": "pii" } },
      ],
    },
  ],
  subscriptions: [
    {
      ref: "analytics/plays-at-rest",
      accountId: ACCOUNTS.analytics,
      product: "songs/plays",
      columns: ["event_id", "song_id"],
    },
  ],
};

export const tags = (domain: string, extra: Record<string, string> = {}) => ({
  "mesh:domain": domain,
  "mesh:environment": "prod",
  "mesh:managed-by": "pulumi",
  ...extra,
});

export function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<Omit<PlanResource, "type" | "name" | "inputs">> = {},
): PlanResource {
  return {
    urn: `urn:pulumi:test::mesh::${type}::${name}`,
    type,
    name,
    account: ACCOUNTS.songs,
    parent: null,
    protect: false,
    retainOnDelete: false,
    inputs,
    ...extra,
  };
}

const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });

export const streamPolicyDocument = (...statements: object[]) =>
  doc(
    {
      Sid: "ReadAnalytics",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNTS.analytics}:root` },
      Action: [
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ],
      Resource: STREAM_ARN,
      Condition: {
        ArnEquals: { "aws:PrincipalArn": CONSUMER_ROLE },
        StringEquals: { "aws:PrincipalOrgID": ORG },
      },
    },
    ...statements,
  );

export function mesh(): PlanResource[] {
  return [
    resource(
      "aws:kms/key:Key",
      "songs-key",
      {
        deletionWindowInDays: 30,
        enableKeyRotation: true,
        policy: doc(
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNTS.songs}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNTS.analytics}:root` },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: {
              StringEquals: {
                "kms:EncryptionContext:aws:kinesis:arn": STREAM_ARN,
                "aws:PrincipalOrgID": ORG,
              },
            },
          },
        ),
        tags: tags("songs"),
      },
      { protect: true },
    ),
    resource(
      "aws:kinesis/stream:Stream",
      "songs-stream",
      {
        name: "songs.plays",
        encryptionType: "KMS",
        kmsKeyId: KEY_ARN,
        retentionPeriod: 168,
        tags: tags("songs", { "mesh:product": "songs/plays", "mesh:classification": "internal" }),
      },
      { protect: true },
    ),
    resource("aws:kinesis/resourcePolicy:ResourcePolicy", "songs-stream-policy", {
      resourceArn: STREAM_ARN,
      policy: streamPolicyDocument(),
    }),
    resource("aws:kinesis/streamConsumer:StreamConsumer", "songs-efo", {
      name: "analytics.plays",
      streamArn: STREAM_ARN,
      tags: tags("songs"),
    }),
    resource(
      "aws:lambda/function:Function",
      "analytics-handler",
      { runtime: "nodejs22.x", handler: "index.handler", role: CONSUMER_ROLE, tags: tags("analytics") },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:lambda/eventSourceMapping:EventSourceMapping",
      "analytics-esm",
      {
        eventSourceArn: STREAM_ARN,
        functionName: "analytics-handler",
        startingPosition: "TRIM_HORIZON",
        maximumRetryAttempts: 5,
        maximumRecordAgeInSeconds: 21600,
        bisectBatchOnFunctionError: true,
        functionResponseTypes: ["ReportBatchItemFailures"],
        destinationConfig: { onFailure: { destinationArn: QUEUE_ARN } },
        filterCriteria: { filters: [{ pattern: JSON.stringify({ data: { type: ["song.played"] } }) }] },
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:lambda/permission:Permission",
      "analytics-api-invoke",
      {
        action: "lambda:InvokeFunction",
        function: "analytics-handler",
        principal: "apigateway.amazonaws.com",
        sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNTS.analytics}:ws-api-id/*`,
      },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:iam/role:Role",
      "analytics-role",
      {
        name: "analytics-plays",
        assumeRolePolicy: doc({
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        }),
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:iam/rolePolicy:RolePolicy",
      "analytics-role-policy",
      {
        role: "analytics-plays",
        policy: doc(
          {
            Effect: "Allow",
            Action: [
              "kinesis:GetRecords",
              "kinesis:GetShardIterator",
              "kinesis:DescribeStreamSummary",
              "kinesis:ListShards",
            ],
            Resource: STREAM_ARN,
          },
          { Effect: "Allow", Action: "kms:Decrypt", Resource: KEY_ARN },
          { Effect: "Allow", Action: ["personalize:PutEvents", "xray:PutTraceSegments"], Resource: "*" },
        ),
      },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:s3/bucket:Bucket",
      "archive",
      { bucket: "mesh-archive", forceDestroy: false, tags: tags("platform") },
      { account: ACCOUNTS.platform, protect: true },
    ),
    resource(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "archive-public-access",
      {
        bucket: "mesh-archive",
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { account: ACCOUNTS.platform },
    ),
    resource(
      "aws:s3/bucketPolicy:BucketPolicy",
      "archive-policy",
      {
        bucket: "mesh-archive",
        policy: doc({
          Sid: "TlsOnly",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      },
      { account: ACCOUNTS.platform },
    ),
    resource(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "archive-encryption",
      {
        bucket: "mesh-archive",
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN } }],
      },
      { account: ACCOUNTS.platform },
    ),
    resource(
      "aws:s3/bucketVersioning:BucketVersioning",
      "archive-versioning",
      { bucket: "mesh-archive", versioningConfiguration: { status: "Enabled" } },
      { account: ACCOUNTS.platform },
    ),
    resource(
      "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
      "search-firehose",
      {
        destination: "opensearch",
        kinesisSourceConfiguration: { kinesisStreamArn: STREAM_ARN, roleArn: CONSUMER_ROLE },
        opensearchConfiguration: {
          domainArn: `arn:aws:es:${REGION}:${ACCOUNTS.analytics}:domain/search`,
          indexName: "plays",
          roleArn: CONSUMER_ROLE,
          retryDuration: 300,
          s3BackupMode: "FailedDocumentsOnly",
          s3Configuration: { bucketArn: BUCKET_ARN, roleArn: CONSUMER_ROLE },
        },
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:opensearch/domain:Domain",
      "search",
      {
        domainName: "search",
        encryptAtRest: { enabled: true },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
        advancedSecurityOptions: { enabled: true, internalUserDatabaseEnabled: false },
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics, protect: true },
    ),
    resource(
      "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
      "catalog-encryption",
      {
        dataCatalogEncryptionSettings: {
          encryptionAtRest: { catalogEncryptionMode: "SSE-KMS", sseAwsKmsKeyId: KEY_ARN },
          connectionPasswordEncryption: { returnConnectionPasswordEncrypted: true, awsKmsKeyId: KEY_ARN },
        },
      },
      { account: ACCOUNTS.platform },
    ),
    resource("aws:glue/securityConfiguration:SecurityConfiguration", "etl-security", {
      name: "songs-etl",
      encryptionConfiguration: {
        s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN },
        cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: KEY_ARN },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: KEY_ARN },
      },
    }),
    resource("aws:glue/job:Job", "etl-job", {
      name: "songs-plays-compaction",
      roleArn: `arn:aws:iam::${ACCOUNTS.songs}:role/songs-etl`,
      command: { name: "glueetl", scriptLocation: "s3://mesh-archive/scripts/compact.py" },
      glueVersion: "5.0",
      securityConfiguration: "songs-etl",
      timeout: 60,
      tags: tags("songs"),
    }),
    resource("aws:glue/connection:Connection", "etl-connection", {
      name: "songs-catalogue",
      connectionType: "JDBC",
      connectionProperties: {
        JDBC_CONNECTION_URL: "jdbc:postgresql://songs.cluster-abc.eu-west-1.rds.amazonaws.com:5432/songs",
        JDBC_ENFORCE_SSL: "true",
        SECRET_ID: "songs-catalogue-credentials",
      },
      tags: tags("songs"),
    }),
    resource("aws:lakeformation/resource:Resource", "lake-location", {
      arn: BUCKET_ARN,
      roleArn: `arn:aws:iam::${ACCOUNTS.songs}:role/songs-lake-location`,
      hybridAccessEnabled: false,
    }),
    resource(
      "aws:athena/workgroup:Workgroup",
      "analytics-workgroup",
      {
        name: "analytics",
        configuration: {
          enforceWorkgroupConfiguration: true,
          bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
          resultConfiguration: {
            outputLocation: "s3://mesh-archive/athena/",
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: KEY_ARN },
          },
        },
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics },
    ),
    resource("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "landing-firehose", {
      name: "songs-plays-landing",
      destination: "extended_s3",
      kinesisSourceConfiguration: { kinesisStreamArn: STREAM_ARN, roleArn: LANDING_ROLE },
      extendedS3Configuration: {
        bucketArn: BUCKET_ARN,
        roleArn: LANDING_ROLE,
        kmsKeyArn: KEY_ARN,
        bufferingSize: 64,
        bufferingInterval: 300,
        prefix: "plays/event_date=!{timestamp:yyyy-MM-dd}/",
        errorOutputPrefix: "errors/plays/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/",
        dataFormatConversionConfiguration: {
          inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
          outputFormatConfiguration: { serializer: { parquetSerDe: {} } },
          schemaConfiguration: { databaseName: "songs", tableName: "plays", roleArn: LANDING_ROLE },
        },
      },
      tags: tags("songs"),
    }),
    resource(
      "aws:lakeformation/dataLakeSettings:DataLakeSettings",
      "lake-settings",
      {
        admins: [`arn:aws:iam::${ACCOUNTS.platform}:role/lake-admin`],
        parameters: { CROSS_ACCOUNT_VERSION: "4" },
      },
      { account: ACCOUNTS.platform },
    ),
    resource(
      "aws:lakeformation/permissions:Permissions",
      "lake-grant-analytics",
      {
        principal: ACCOUNTS.analytics,
        permissions: ["DESCRIBE"],
        lfTagPolicy: { resourceType: "DATABASE", expressions: [{ key: "mesh:domain", values: ["songs"] }] },
      },
      { account: ACCOUNTS.platform },
    ),
    resource(
      "aws:apigatewayv2/api:Api",
      "ws-api",
      {
        name: "analytics-live",
        protocolType: "WEBSOCKET",
        routeSelectionExpression: "$request.body.action",
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics, id: "ws-api-id" },
    ),
    ...["$connect", "$disconnect", "$default", "subscribe"].map((routeKey) =>
      resource(
        "aws:apigatewayv2/route:Route",
        `ws-route-${routeKey.replace("$", "")}`,
        routeKey === "$connect"
          ? { apiId: "ws-api-id", routeKey, authorizationType: "CUSTOM", authorizerId: "ws-authorizer-id" }
          : { apiId: "ws-api-id", routeKey, authorizationType: "NONE" },
        {
          account: ACCOUNTS.analytics,
          propertyDependencies: { apiId: ["urn:pulumi:test::mesh::aws:apigatewayv2/api:Api::ws-api"] },
        },
      ),
    ),
    resource(
      "aws:apigatewayv2/api:Api",
      "http-api",
      { name: "recommendations", protocolType: "HTTP", tags: tags("analytics") },
      { account: ACCOUNTS.analytics, id: "http-api-id" },
    ),
    resource(
      "aws:apigatewayv2/route:Route",
      "http-route-recommendations",
      {
        apiId: "http-api-id",
        routeKey: "GET /recommendations",
        authorizationType: "JWT",
        authorizerId: "jwt-id",
      },
      {
        account: ACCOUNTS.analytics,
        propertyDependencies: { apiId: ["urn:pulumi:test::mesh::aws:apigatewayv2/api:Api::http-api"] },
      },
    ),
    resource(
      "aws:apigatewayv2/stage:Stage",
      "ws-stage",
      {
        apiId: "ws-api-id",
        name: "live",
        accessLogSettings: {
          destinationArn: `arn:aws:logs:${REGION}:${ACCOUNTS.analytics}:log-group:ws-access`,
          format: '{"requestId":"$context.requestId"}',
        },
        defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50 },
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:apigateway/account:Account",
      "analytics-apigateway-logging",
      { cloudwatchRoleArn: `arn:aws:iam::${ACCOUNTS.analytics}:role/mesh-apigateway-cloudwatch` },
      { account: ACCOUNTS.analytics },
    ),
    resource(
      "aws:dynamodb/table:Table",
      "connections",
      {
        hashKey: "connectionId",
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: ANALYTICS_KEY_ARN },
        deletionProtectionEnabled: true,
        tags: tags("analytics"),
      },
      { account: ACCOUNTS.analytics, protect: true },
    ),
    resource(
      "aws:rds/cluster:Cluster",
      "users-cluster",
      {
        clusterIdentifier: "users",
        engine: "aurora-postgresql",
        engineMode: "provisioned",
        storageEncrypted: true,
        kmsKeyId: KEY_ARN,
        iamDatabaseAuthenticationEnabled: true,
        manageMasterUserPassword: true,
        backupRetentionPeriod: 7,
        deletionProtection: true,
        serverlessv2ScalingConfiguration: { minCapacity: 0.5, maxCapacity: 4 },
        tags: tags("songs"),
      },
      { protect: true },
    ),
    resource("aws:rds/clusterInstance:ClusterInstance", "users-instance", {
      clusterIdentifier: "users",
      instanceClass: "db.serverless",
      publiclyAccessible: false,
      tags: tags("songs"),
    }),
    resource("aws:ec2/securityGroup:SecurityGroup", "users-database-sg", {
      vpcId: "vpc-1",
      ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: ["sg-clients"] }],
      tags: tags("songs"),
    }),
    resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "users-database-from-glue", {
      securityGroupId: "sg-database",
      referencedSecurityGroupId: "sg-glue",
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      tags: tags("songs"),
    }),
    resource("aws:ec2/securityGroupRule:SecurityGroupRule", "users-database-from-clients", {
      type: "ingress",
      securityGroupId: "sg-database",
      sourceSecurityGroupId: "sg-clients",
      protocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
    }),
  ];
}

type Edit = Record<string, unknown> | ((inputs: Record<string, unknown>) => void);

/**
 * A copy of the resources in which the resource named `name` has its inputs changed: an object is
 * merged in (an undefined value deletes the key), a function edits a deep copy. `options` changes
 * the resource itself (protect, account...).
 */
export function edit(
  resources: readonly PlanResource[],
  name: string,
  change: Edit,
  options: Partial<PlanResource> = {},
): PlanResource[] {
  if (!resources.some((r) => r.name === name)) throw new Error(`no resource ${name} in the fixture`);
  return resources.map((r) => {
    if (r.name !== name) return r;
    const inputs = structuredClone(r.inputs);
    if (typeof change === "function") change(inputs);
    else {
      for (const [key, value] of Object.entries(change)) {
        if (value === undefined) delete inputs[key];
        else inputs[key] = value;
      }
    }
    return { ...r, ...options, inputs };
  });
}

/** The resources without the one named `name`. */
export const without = (resources: readonly PlanResource[], ...names: string[]): PlanResource[] =>
  resources.filter((r) => !names.includes(r.name));

/**
 * The deploy role each mesh account is deployed through (`mesh-deployer`), as policy documents:
 * trusted only by the platform's CI identity, within the organization, and allowed only the
 * services the mesh deploys, in this account and region. IAM is limited to the roles the mesh
 * names (`mesh-*`), and roles may be passed only to the services that run them.
 */

export interface DeployerRoleArgs {
  /** The account the role is created in. */
  readonly accountId: string;
  readonly region: string;
  /** AWS Organizations id (o-...): the CI identity must belong to it. */
  readonly organizationId: string;
  /** ARN of the CI identity (a role in the platform account) that assumes the deploy role. */
  readonly ciRoleArn: string;
}

interface Statement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
  readonly Principal?: Record<string, string>;
}

export function deployerTrustPolicy(args: DeployerRoleArgs): { Version: string; Statement: Statement[] } {
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(args.ciRoleArn)) {
    throw new Error(`ciRoleArn ${args.ciRoleArn}: must be the ARN of an IAM role`);
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "PlatformCi",
        Effect: "Allow",
        Principal: { AWS: args.ciRoleArn },
        Action: ["sts:AssumeRole"],
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalOrgID": args.organizationId } },
      },
    ],
  };
}

/** What the mesh program manages in one account, by service, scoped to the account and region. */
export function deployerPolicy(args: DeployerRoleArgs): { Version: string; Statement: Statement[] } {
  const { accountId: account, region } = args;
  const regional = (service: string) => `arn:aws:${service}:${region}:${account}:*`;
  const manage = (
    sid: string,
    actions: string[],
    resource: string | string[],
    condition?: Statement["Condition"],
  ) => ({
    Sid: sid,
    Effect: "Allow" as const,
    Action: actions,
    Resource: resource,
    ...(condition && { Condition: condition }),
  });
  return {
    Version: "2012-10-17",
    Statement: [
      manage(
        "Streams",
        [
          "kinesis:CreateStream",
          "kinesis:DeleteStream",
          "kinesis:Describe*",
          "kinesis:List*",
          "kinesis:AddTagsToStream",
          "kinesis:RemoveTagsFromStream",
          "kinesis:IncreaseStreamRetentionPeriod",
          "kinesis:DecreaseStreamRetentionPeriod",
          "kinesis:StartStreamEncryption",
          "kinesis:StopStreamEncryption",
          "kinesis:UpdateShardCount",
          "kinesis:UpdateStreamMode",
          "kinesis:RegisterStreamConsumer",
          "kinesis:DeregisterStreamConsumer",
          "kinesis:PutResourcePolicy",
          "kinesis:GetResourcePolicy",
          "kinesis:DeleteResourcePolicy",
          "kinesis:TagResource",
          "kinesis:UntagResource",
        ],
        regional("kinesis"),
      ),
      // CreateKey has no resource to scope; the keys' own policies then govern them.
      manage(
        "Keys",
        [
          "kms:CreateKey",
          "kms:CreateAlias",
          "kms:DeleteAlias",
          "kms:DescribeKey",
          "kms:EnableKeyRotation",
          "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus",
          "kms:ListResourceTags",
          "kms:PutKeyPolicy",
          "kms:ScheduleKeyDeletion",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:UpdateKeyDescription",
        ],
        "*",
      ),
      manage(
        "MeshRoles",
        [
          "iam:CreateRole",
          "iam:DeleteRole",
          "iam:GetRole",
          "iam:UpdateRole",
          "iam:UpdateAssumeRolePolicy",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:GetRolePolicy",
          "iam:PutRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:ListInstanceProfilesForRole",
        ],
        `arn:aws:iam::${account}:role/mesh-*`,
      ),
      manage("PassMeshRoles", ["iam:PassRole"], `arn:aws:iam::${account}:role/mesh-*`, {
        StringEquals: {
          "iam:PassedToService": [
            "lambda.amazonaws.com",
            "firehose.amazonaws.com",
            "apigateway.amazonaws.com",
            "personalize.amazonaws.com",
            "glue.amazonaws.com",
          ],
        },
      }),
      manage(
        "Functions",
        [
          "lambda:*Function*",
          "lambda:*EventSourceMapping*",
          "lambda:*Permission",
          "lambda:*Tag*",
          "lambda:List*",
          "lambda:Get*",
        ],
        regional("lambda"),
      ),
      manage(
        "EventSourceMappings",
        ["lambda:CreateEventSourceMapping", "lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings"],
        "*",
      ),
      manage(
        "Logs",
        [
          "logs:CreateLogGroup",
          "logs:DeleteLogGroup",
          "logs:Describe*",
          "logs:PutRetentionPolicy",
          "logs:*Tag*",
          "logs:AssociateKmsKey",
          "logs:ListTagsForResource",
        ],
        regional("logs"),
      ),
      manage(
        "Alarms",
        [
          "cloudwatch:PutMetricAlarm",
          "cloudwatch:DeleteAlarms",
          "cloudwatch:DescribeAlarms",
          "cloudwatch:*Tag*",
        ],
        regional("cloudwatch"),
      ),
      manage(
        "Topics",
        [
          "sns:CreateTopic",
          "sns:DeleteTopic",
          "sns:GetTopicAttributes",
          "sns:SetTopicAttributes",
          "sns:*Tag*",
          "sns:ListTagsForResource",
        ],
        regional("sns"),
      ),
      manage(
        "Tables",
        [
          "dynamodb:CreateTable",
          "dynamodb:DeleteTable",
          "dynamodb:Describe*",
          "dynamodb:UpdateTable",
          "dynamodb:UpdateTimeToLive",
          "dynamodb:UpdateContinuousBackups",
          "dynamodb:*Tag*",
          "dynamodb:ListTagsOfResource",
        ],
        regional("dynamodb"),
      ),
      manage(
        "Buckets",
        ["s3:CreateBucket", "s3:DeleteBucket", "s3:Get*", "s3:List*", "s3:Put*", "s3:DeleteBucketPolicy"],
        "arn:aws:s3:::*",
      ),
      manage(
        "Schemas",
        [
          "glue:CreateRegistry",
          "glue:DeleteRegistry",
          "glue:GetRegistry",
          "glue:CreateSchema",
          "glue:DeleteSchema",
          "glue:GetSchema",
          "glue:GetSchemaVersion",
          "glue:RegisterSchemaVersion",
          "glue:UpdateSchema",
          "glue:*Tag*",
        ],
        regional("glue"),
      ),
      manage(
        "Apis",
        [
          "apigateway:GET",
          "apigateway:POST",
          "apigateway:PUT",
          "apigateway:PATCH",
          "apigateway:DELETE",
          "apigateway:TagResource",
          "apigateway:UntagResource",
        ],
        `arn:aws:apigateway:${region}::/*`,
      ),
      manage("DeliveryStreams", ["firehose:*DeliveryStream*", "firehose:*Tag*"], regional("firehose")),
      manage(
        "SearchDomains",
        [
          "es:CreateDomain",
          "es:DeleteDomain",
          "es:Describe*",
          "es:UpdateDomainConfig",
          "es:AddTags",
          "es:RemoveTags",
          "es:ListTags",
        ],
        regional("es"),
      ),
      manage(
        "Personalize",
        [
          "personalize:Create*",
          "personalize:Delete*",
          "personalize:Describe*",
          "personalize:List*",
          "personalize:Update*",
          "personalize:*Tag*",
        ],
        regional("personalize"),
      ),
    ],
  };
}

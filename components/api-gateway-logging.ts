import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, serviceTrust } from "../platform/iam";

export const API_GATEWAY_LOGGING_TYPE = "mesh:ops:ApiGatewayLogging";

/** The role API Gateway writes WebSocket and REST execution and access logs with, in each account. */
export const API_GATEWAY_LOGGING_ROLE_NAME = "mesh-apigateway-cloudwatch";

export interface ApiGatewayLoggingArgs {
  readonly accountId: string;
  readonly region: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The account-level setting API Gateway needs before a WebSocket (or REST) stage can log to
 * CloudWatch: a role it assumes, set as the account's `cloudwatchRoleArn` (docs/aws-facts.md#api-gateway).
 * It is one setting per account and region, so the program creates one per account, not per API.
 * The role's permissions are those of the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs,
 * written inline and scoped to the account's log groups, so the plan shows them.
 */
export class ApiGatewayLogging extends pulumi.ComponentResource {
  /** Depend on it before creating a stage that logs. */
  public readonly account: aws.apigateway.Account;

  constructor(name: string, args: ApiGatewayLoggingArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider)
      throw new Error(`ApiGatewayLogging ${name}: a provider for account ${args.accountId} is required`);
    super(API_GATEWAY_LOGGING_TYPE, name, {}, opts);
    const parent = { parent: this };
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: API_GATEWAY_LOGGING_ROLE_NAME,
        description: "API Gateway writes execution and access logs to CloudWatch Logs",
        assumeRolePolicy: serviceTrust("apigateway.amazonaws.com", args.accountId),
        tags: { ...args.tags },
      },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: policyDocument([
          {
            Sid: "WriteApiGatewayLogs",
            Effect: "Allow",
            Action: [
              "logs:CreateLogGroup",
              "logs:CreateLogStream",
              "logs:DescribeLogGroups",
              "logs:DescribeLogStreams",
              "logs:PutLogEvents",
              "logs:GetLogEvents",
              "logs:FilterLogEvents",
            ],
            Resource: `arn:aws:logs:${args.region}:${args.accountId}:log-group:*`,
          },
        ]),
      },
      parent,
    );
    this.account = new aws.apigateway.Account(
      `${name}-account`,
      { cloudwatchRoleArn: role.arn },
      { parent: this, dependsOn: [policy] },
    );
    this.registerOutputs({ cloudwatchRoleArn: role.arn });
  }
}

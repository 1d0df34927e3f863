import * as pulumi from "@pulumi/pulumi";

/** An IAM policy statement, built as an object and serialised once by {@link policyDocument}. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: {
    readonly AWS?: pulumi.Input<string | string[]>;
    readonly Service?: string | string[];
  };
  readonly Action: string | readonly string[];
  readonly Resource?: pulumi.Input<string> | readonly pulumi.Input<string>[];
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, pulumi.Input<string | string[] | boolean>>>>
  >;
}

export function policyDocument(statements: readonly Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/** Read actions a standard (polling) consumer needs on a shared stream. */
export const STREAM_READ_ACTIONS = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetRecords",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
] as const;
/** Actions an enhanced fan-out consumer needs on the stream itself (it reads through its consumer ARN). */
export const EFO_STREAM_ACTIONS = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:ListShards",
] as const;
/** Actions an enhanced fan-out consumer needs on its registered consumer. */
export const EFO_CONSUMER_ACTIONS = ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"] as const;
/** Actions a producer needs on its stream. */
export const STREAM_WRITE_ACTIONS = [
  "kinesis:PutRecord",
  "kinesis:PutRecords",
  "kinesis:DescribeStreamSummary",
  "kinesis:ListShards",
] as const;
/** Metadata only: lets the platform's auditor see that a stream exists and how it is configured. */
export const STREAM_AUDIT_ACTIONS = ["kinesis:DescribeStreamSummary"] as const;

export const accountRoot = (accountId: string): string => `arn:aws:iam::${accountId}:root`;

/**
 * A cross-account grant that works whichever account deploys first: the principal is the other
 * account (which always exists), narrowed to one role by `aws:PrincipalArn` and to the
 * organization by `aws:PrincipalOrgID`. Naming the role itself as principal would fail while the
 * role does not exist yet, and would silently break if it were recreated.
 */
export function crossAccountRole(
  roleArn: pulumi.Input<string>,
  accountId: string,
  organizationId: string,
): Pick<Statement, "Principal" | "Condition"> {
  return {
    Principal: { AWS: accountRoot(accountId) },
    Condition: {
      ArnEquals: { "aws:PrincipalArn": roleArn },
      StringEquals: { "aws:PrincipalOrgID": organizationId },
    },
  };
}

/** Trust policy letting an AWS service assume a role, bounded to this account. */
export function serviceTrust(service: string, accountId: string): pulumi.Output<string> {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  ]);
}

import * as pulumi from "@pulumi/pulumi";
import { TagKeys } from "./tags";

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
/** Actions that return a stream's records: what only declared consumers may do. */
export const STREAM_RECORD_READ_ACTIONS = ["kinesis:GetRecords", "kinesis:GetShardIterator"] as const;
/** Actions that write records: what only the producer role may do. */
export const STREAM_RECORD_WRITE_ACTIONS = ["kinesis:PutRecord", "kinesis:PutRecords"] as const;
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

/**
 * Trust of a role that the services of one unit assume: principals of the same account, and only
 * those tagged `mesh:domain` = the unit. Only the platform may set `mesh:*` tags
 * ({@link tagGuardPolicy}), so a role of another team in the account cannot assume it.
 */
export function unitRoleTrust(accountId: string, unit: string): pulumi.Output<string> {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { AWS: accountRoot(accountId) },
      Action: "sts:AssumeRole",
      Condition: {
        StringEquals: { "aws:PrincipalAccount": accountId, [`aws:PrincipalTag/${TagKeys.Domain}`]: unit },
      },
    },
  ]);
}

/** Actions that add or remove tags on what the mesh tags for ABAC: streams, consumers, keys, roles. */
export const TAG_MUTATION_ACTIONS = [
  "kinesis:AddTagsToStream",
  "kinesis:RemoveTagsFromStream",
  "kinesis:TagResource",
  "kinesis:UntagResource",
  "kms:TagResource",
  "kms:UntagResource",
  "iam:TagRole",
  "iam:UntagRole",
] as const;

/**
 * A service control policy for the organization: nobody but the accounts' deploy roles (the
 * platform's pipeline) adds, changes or removes a `mesh:*` tag, which grants or revokes access
 * (ABAC) and decides who may assume producer roles. An SCP is attached in the organization's
 * management account, which the mesh does not deploy to, so the platform stack exports it.
 */
export function tagGuardPolicy(deployRoleArns: readonly string[]): pulumi.Output<string> {
  return policyDocument([
    {
      Sid: "OnlyThePlatformChangesMeshTags",
      Effect: "Deny",
      Action: [...TAG_MUTATION_ACTIONS],
      Resource: "*",
      Condition: {
        "ForAnyValue:StringLike": { "aws:TagKeys": "mesh:*" },
        ArnNotLike: { "aws:PrincipalArn": [...deployRoleArns] },
      },
    },
  ]);
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

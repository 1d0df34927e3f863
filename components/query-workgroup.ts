import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument } from "../platform/iam";
import { SecureBucket } from "./secure-bucket";

export const QUERY_WORKGROUP_TYPE = "mesh:data:QueryWorkgroup";

export interface QueryWorkgroupArgs {
  /** Physical workgroup name. */
  readonly workgroupName: string;
  readonly accountId: string;
  readonly region: string;
  /** The domain's data key: query results are SSE-KMS with it. */
  readonly dataKeyArn: pulumi.Input<string>;
  /** Roles that may run queries in the workgroup (the domain's at-rest readers), by a stable label. */
  readonly queryRoles: Readonly<Record<string, pulumi.Input<string>>>;
  /** Queries scanning more are cancelled. @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Days query results are kept. @default 30 */
  readonly resultRetentionDays?: number;
  readonly protect: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * An Athena workgroup over a domain's products at rest: its configuration enforced (clients
 * cannot pick another result location or turn encryption off), results SSE-KMS with the domain's
 * key in a secure bucket, a per-query scan limit, CloudWatch metrics. Each query role gets exactly
 * the calls to run queries in this workgroup and read its results.
 */
export class QueryWorkgroup extends pulumi.ComponentResource {
  public readonly workgroupName: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  public readonly resultsBucket: pulumi.Output<string>;

  constructor(name: string, args: QueryWorkgroupArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider) throw new Error(`QueryWorkgroup ${name}: a provider for the account is required`);
    super(QUERY_WORKGROUP_TYPE, name, {}, opts);

    const results = new SecureBucket(
      `${name}-results`,
      {
        kmsKeyArn: args.dataKeyArn,
        expireAfterDays: args.resultRetentionDays ?? 30,
        protect: args.protect,
        tags: args.tags,
      },
      { parent: this },
    );
    const workgroup = new aws.athena.Workgroup(
      `${name}-workgroup`,
      {
        name: args.workgroupName,
        state: "ENABLED",
        forceDestroy: false,
        configuration: {
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          bytesScannedCutoffPerQuery: args.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
          engineVersion: { selectedEngineVersion: "Athena engine version 3" },
          resultConfiguration: {
            outputLocation: pulumi.interpolate`s3://${results.bucketName}/results/`,
            expectedBucketOwner: args.accountId,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: args.dataKeyArn },
          },
        },
        tags: { ...args.tags },
      },
      { parent: this },
    );
    for (const [label, role] of Object.entries(args.queryRoles)) {
      new aws.iam.RolePolicy(
        `${name}-query-${label}`,
        {
          role,
          policy: policyDocument([
            {
              Sid: "RunQueries",
              Effect: "Allow",
              Action: [
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:GetWorkGroup",
              ],
              Resource: workgroup.arn,
            },
            {
              Sid: "QueryResults",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
              Resource: pulumi.interpolate`${results.arn}/results/*`,
            },
            {
              Sid: "QueryResultsBucket",
              Effect: "Allow",
              Action: ["s3:GetBucketLocation", "s3:ListBucket"],
              Resource: results.arn,
            },
            {
              Sid: "EncryptResults",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: args.dataKeyArn,
              Condition: { StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } },
            },
          ]),
        },
        { parent: this },
      );
    }

    this.workgroupName = workgroup.name;
    this.arn = workgroup.arn;
    this.resultsBucket = results.bucketName;
    this.registerOutputs({
      workgroupName: this.workgroupName,
      arn: this.arn,
      resultsBucket: this.resultsBucket,
    });
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, type Statement } from "../platform/iam";

export const SECURE_BUCKET_TYPE = "mesh:storage:SecureBucket";

export interface SecureBucketArgs {
  /** Customer-managed key every object is encrypted with (SSE-KMS, bucket key on). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /**
   * Statements added to the bucket policy after the TLS-only deny; a function of the bucket's ARN
   * when they name the bucket itself (its name is generated).
   */
  readonly statements?: readonly Statement[] | ((bucketArn: pulumi.Output<string>) => readonly Statement[]);
  /** Days after which objects expire; @default never */
  readonly expireAfterDays?: number;
  /** Protect and retain the bucket (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * An S3 bucket the way the mesh keeps data: private (all four public access blocks), TLS only,
 * SSE-KMS with a customer-managed key, versioned, owner-enforced, never force-destroyed.
 */
export class SecureBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;

  constructor(name: string, args: SecureBucketArgs, opts: pulumi.ComponentResourceOptions) {
    super(SECURE_BUCKET_TYPE, name, {}, opts);
    const parent = { parent: this };
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucketPrefix: `${name}-`.slice(0, 37), forceDestroy: false, tags: { ...args.tags } },
      args.protect ? { parent: this, protect: true, retainOnDelete: true } : parent,
    );
    const access = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      parent,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
            bucketKeyEnabled: true,
          },
        ],
      },
      parent,
    );
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      parent,
    );
    if (args.expireAfterDays) {
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
          bucket: bucket.id,
          rules: [
            {
              id: "expire",
              status: "Enabled",
              filter: {},
              expiration: { days: args.expireAfterDays },
              noncurrentVersionExpiration: { noncurrentDays: args.expireAfterDays },
            },
          ],
        },
        parent,
      );
    }
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: bucket.id,
        policy: policyDocument([
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": false } },
          },
          ...(typeof args.statements === "function" ? args.statements(bucket.arn) : (args.statements ?? [])),
        ]),
      },
      { parent: this, dependsOn: [access] },
    );
    this.bucketName = bucket.bucket;
    this.arn = bucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }
}

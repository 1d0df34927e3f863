import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { productJobRoleName, type AtRestProduct } from "../platform/at-rest";
import { GLUE_TYPES } from "../platform/columns";
import { policyDocument, serviceTrust, type Statement } from "../platform/iam";
import { type AtRestReader, grantRead, readerStatements } from "./at-rest-access";
import { LANDING_PREFIX } from "./data-product-domain";
import { SecureBucket } from "./secure-bucket";
import type { DomainInfraContext } from "./wiring";

export const ETL_JOB_TYPE = "mesh:data:EtlJob";

/** The one Glue script of every job (`runtime/glue/run_transform.py`) and the publish step's SQL. */
export const GLUE_SCRIPT = join(__dirname, "..", "runtime", "glue", "run_transform.py");
export const PUBLISH_SQL = join(__dirname, "..", "runtime", "glue", "publish.sql");

/** CloudWatch namespace of the jobs' RowsWritten and QuarantinedRows (dimension Product). */
export const ETL_METRIC_NAMESPACE = "Mesh/ETL";

/** Glue 5.0: Spark 3.5, Python 3.11, the runtime the SQL subset is checked against (docs/etl.md). */
export const GLUE_VERSION = "5.0";

/**
 * The grant a domain's key needs to encrypt its Glue jobs' logs (the security configuration's
 * CloudWatch encryption): CloudWatch Logs may use it for the account's `/aws-glue/` log groups.
 */
export function glueLogsGrant(region: string, accountId: string): Statement {
  return {
    Sid: "LogsEncryptGlueJobLogs",
    Effect: "Allow",
    Principal: { Service: `logs.${region}.amazonaws.com` },
    Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
    Resource: "*",
    Condition: {
      ArnLike: {
        "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/*`,
      },
    },
  };
}

/** A producer's transform: one SQL file from its source view to one of its products at rest. */
export interface ProducerTransform {
  /** The at-rest product it writes (its name in the domain's declaration). */
  readonly product: string;
  /** Absolute path of the SQL file (one SELECT in the SQL Spark SQL and DuckDB share). */
  readonly sqlFile: string;
  /** The view of the source the SQL reads. */
  readonly sourceView: string;
}

/** One Personalize dataset of the merge: one SQL file over the domain's at-rest subscriptions. */
export interface DatasetTransform {
  readonly dataset: "users" | "items" | "interactions";
  /** Absolute path of the SQL file (one SELECT in the SQL Spark SQL and DuckDB share). */
  readonly sqlFile: string;
}

/** Where a producer's rows come from. */
export type EtlSource =
  | {
      /** A table of a database, through the domain's Glue JDBC connection (SSL, managed secret). */
      readonly kind: "jdbc";
      readonly engine: "postgresql";
      readonly connectionName: pulumi.Input<string>;
      /** `schema.table` */
      readonly table: string;
      /** The secret the connection reads its credentials from. */
      readonly secretArn: pulumi.Input<string>;
    }
  | {
      /** A DynamoDB table, through a point-in-time export to the product's bucket (`exports/`). */
      readonly kind: "dynamodb-export";
      readonly tableArn: pulumi.Input<string>;
    }
  | {
      /** What Firehose landed from the product's stream: Parquet under `landing/<table>/` of its bucket. */
      readonly kind: "landing";
    };

/** A producer's job: a source, its transform, one product at rest. */
export interface ProducerJob {
  readonly kind: "producer";
  readonly transform: ProducerTransform;
  readonly product: AtRestProduct;
  /** The product's bucket name (`DataProductDomain`'s table). */
  readonly bucket: pulumi.Input<string>;
  readonly source: EtlSource;
  /** Each run publishes the changes of the last this many hours (runs overlap; ids are deduplicated). */
  readonly lookbackHours: number;
}

/** The merge: the consumer's at-rest subscriptions, through its resource links, to datasets. */
export interface MergeJob {
  readonly kind: "merge";
  readonly transforms: readonly DatasetTransform[];
  /** The readers of the subscriptions the SQL reads, by view name (`users_history`). */
  readonly views: Readonly<Record<string, AtRestReader>>;
  /** Bucket and key the datasets are written to (the training pipeline's). */
  readonly datasets: { readonly bucket: pulumi.Input<string>; readonly keyArn: pulumi.Input<string> };
}

export interface EtlJobArgs {
  /** Physical name of the job, its role (`<name>`) and security configuration. */
  readonly jobName: string;
  readonly accountId: string;
  readonly region: string;
  /** The domain's key: the security configuration (S3, logs, bookmarks) and the assets. */
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly job: ProducerJob | MergeJob;
  /** Glue connections the job runs through (its VPC). @default none */
  readonly connections?: readonly pulumi.Input<string>[];
  /** A Glue trigger's cron; without it something else starts the job (the training pipeline). */
  readonly schedule?: string;
  /** Topic the failed-run rule notifies. */
  readonly alarmTopicArn: pulumi.Input<string>;
  /** G.1X workers. @default 2 */
  readonly workers?: number;
  /** @default 60 */
  readonly timeoutMinutes?: number;
  /** Protect and retain the merge job's assets bucket (prod protects every bucket). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * One Glue 5.0 job of the pipelines at rest, running `runtime/glue/run_transform.py` over SQL files
 * uploaded beside it: a security configuration that encrypts its S3 output, logs and bookmarks with
 * the domain's key; a role that reads its source, writes its product and quarantine prefixes (or
 * the datasets), and puts its metrics; a schedule; and an EventBridge rule that sends failed,
 * timed-out and errored runs to the domain's alarm topic.
 */
export class EtlJob extends pulumi.ComponentResource {
  public readonly jobName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: EtlJobArgs, opts: pulumi.ComponentResourceOptions) {
    const { job } = args;
    if (!opts.provider)
      throw new Error(`EtlJob ${name}: a provider for account ${args.accountId} is required`);
    if (args.jobName.length > 64)
      throw new Error(`EtlJob ${name}: role name ${args.jobName} is longer than 64 characters`);
    if (job.kind === "merge" && job.transforms.length === 0) {
      throw new Error(`EtlJob ${name}: a merge job needs at least one dataset transform`);
    }
    if (job.kind === "producer" && job.transform.product !== job.product.name) {
      throw new Error(
        `EtlJob ${name}: ${job.transform.sqlFile} writes ${job.transform.product}, not ${job.product.ref}`,
      );
    }
    super(ETL_JOB_TYPE, name, {}, opts);
    const parent = { parent: this };
    const { accountId, region } = args;
    // A producer keeps its script beside its product (`etl/`); the merge has a bucket of its own.
    const assetsBucket =
      job.kind === "producer"
        ? job.bucket
        : new SecureBucket(
            `${name}-assets`,
            { kmsKeyArn: args.kmsKeyArn, protect: args.protect, tags: args.tags },
            parent,
          ).bucketName;
    const assetsArn = pulumi.interpolate`arn:aws:s3:::${assetsBucket}`;
    const prefix = `etl/${args.jobName}`;

    const upload = (id: string, file: string, key: string) =>
      new aws.s3.BucketObjectv2(
        `${name}-${id}`,
        {
          bucket: assetsBucket,
          key: `${prefix}/${key}`,
          source: new pulumi.asset.FileAsset(file),
          serverSideEncryption: "aws:kms",
          kmsKeyId: args.kmsKeyArn,
          tags: { ...args.tags },
        },
        parent,
      );
    const s3Uri = (object: aws.s3.BucketObjectv2) => pulumi.interpolate`s3://${object.bucket}/${object.key}`;
    const script = upload("script", GLUE_SCRIPT, "run_transform.py");

    const securityConfiguration = new aws.glue.SecurityConfiguration(
      `${name}-security`,
      {
        name: args.jobName,
        encryptionConfiguration: {
          s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: args.kmsKeyArn },
          cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: args.kmsKeyArn },
          jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: args.kmsKeyArn },
        },
      },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: args.jobName,
        description: `The Glue job ${args.jobName}`,
        assumeRolePolicy: serviceTrust("glue.amazonaws.com", accountId),
        tags: { ...args.tags },
      },
      parent,
    );
    const statements: Statement[] = [
      {
        Sid: "ReadScriptAndSql",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: pulumi.interpolate`${assetsArn}/${prefix}/*`,
      },
      {
        // Glue's temporary files and the encryption of everything it writes with the domain key.
        Sid: "TemporaryFiles",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: pulumi.interpolate`${assetsArn}/${prefix}/temporary/*`,
      },
      {
        Sid: "UseTheDomainKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        Resource: args.kmsKeyArn,
      },
      {
        Sid: "WriteRunLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
        Resource: `arn:aws:logs:${region}:${accountId}:log-group:/aws-glue/*`,
      },
      {
        Sid: "PutRunMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": ETL_METRIC_NAMESPACE } },
      },
    ];
    const arguments_: Record<string, pulumi.Input<string>> = {
      "--mode": job.kind,
      "--metric_namespace": ETL_METRIC_NAMESPACE,
      "--TempDir": pulumi.interpolate`s3://${assetsBucket}/${prefix}/temporary/`,
      // Increments are the SQL's windows and event ids, not Glue's bookmarks.
      "--job-bookmark-option": "job-bookmark-disable",
      "--enable-continuous-cloudwatch-log": "true",
      "--enable-metrics": "true",
    };
    const grants: pulumi.Resource[] = [];
    if (job.kind === "producer") {
      Object.assign(arguments_, producerArguments(job, upload, s3Uri));
      statements.push(...producerStatements(job, args));
      // The table is governed by Lake Formation: the job adds its partitions through it.
      grants.push(
        new aws.lakeformation.Permissions(
          `${name}-table`,
          {
            principal: role.arn,
            permissions: ["SELECT", "INSERT", "ALTER", "DESCRIBE"],
            table: {
              catalogId: job.product.accountId,
              databaseName: job.product.database,
              name: job.product.table,
            },
          },
          parent,
        ),
      );
    } else {
      const sqlFiles: Record<string, pulumi.Output<string>> = {};
      for (const transform of job.transforms) {
        sqlFiles[transform.dataset] = s3Uri(
          upload(`${transform.dataset}-sql`, transform.sqlFile, `${transform.dataset}.sql`),
        );
      }
      arguments_["--sql_files"] = pulumi.jsonStringify(sqlFiles);
      arguments_["--datasets_path"] = pulumi.interpolate`s3://${job.datasets.bucket}/`;
      arguments_["--views"] = pulumi.jsonStringify(
        Object.entries(job.views).map(([view, reader]) => ({
          view,
          database: reader.database,
          table: reader.table,
        })),
      );
      const datasetsArn = pulumi.interpolate`arn:aws:s3:::${job.datasets.bucket}`;
      statements.push(
        { Sid: "ListDatasets", Effect: "Allow", Action: "s3:ListBucket", Resource: datasetsArn },
        {
          Sid: "WriteDatasets",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          Resource: ["users", "items", "interactions"].map((d) => pulumi.interpolate`${datasetsArn}/${d}/*`),
        },
        {
          Sid: "EncryptDatasets",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: job.datasets.keyArn,
          Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
        },
      );
      for (const [view, reader] of Object.entries(job.views)) {
        statements.push(
          ...readerStatements(accountId, region, reader.database, reader.location).map((statement) => ({
            ...statement,
            Sid: `${statement.Sid}${view.replace(/_/g, "")}`,
          })),
        );
        grantRead(
          `${name}-${view.replace(/_/g, "-")}`,
          role.arn,
          { catalogId: accountId, name: reader.database },
          reader.location,
          reader.columns,
          parent,
        );
      }
    }
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: role.name, policy: policyDocument(statements) },
      parent,
    );

    const glueJob = new aws.glue.Job(
      `${name}-job`,
      {
        name: args.jobName,
        description:
          job.kind === "producer"
            ? `${job.product.ref} from its source, checked against its contract (${job.transform.sqlFile.split("/").slice(-3).join("/")})`
            : `The Personalize datasets ${job.transforms.map((t) => t.dataset).join(", ")} from the subscribed products`,
        roleArn: role.arn,
        glueVersion: GLUE_VERSION,
        command: { name: "glueetl", scriptLocation: s3Uri(script), pythonVersion: "3" },
        workerType: "G.1X",
        numberOfWorkers: args.workers ?? 2,
        timeout: args.timeoutMinutes ?? 60,
        maxRetries: 0,
        executionProperty: { maxConcurrentRuns: 1 },
        securityConfiguration: securityConfiguration.name,
        connections: args.connections ? [...args.connections] : undefined,
        defaultArguments: arguments_,
        tags: { ...args.tags },
      },
      { parent: this, dependsOn: [policy, ...grants] },
    );

    if (args.schedule) {
      new aws.glue.Trigger(
        `${name}-schedule`,
        {
          name: args.jobName,
          type: "SCHEDULED",
          schedule: args.schedule,
          startOnCreation: true,
          actions: [{ jobName: glueJob.name }],
          tags: { ...args.tags },
        },
        parent,
      );
    }

    const rule = new aws.cloudwatch.EventRule(
      `${name}-failed`,
      {
        name: `${args.jobName}-failed`,
        description: `${args.jobName}: a run failed, timed out or errored`,
        eventPattern: pulumi.jsonStringify({
          source: ["aws.glue"],
          "detail-type": ["Glue Job State Change"],
          detail: { jobName: [glueJob.name], state: ["FAILED", "TIMEOUT", "ERROR"] },
        }),
        tags: { ...args.tags },
      },
      parent,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-failed-alarm`,
      { rule: rule.name, arn: args.alarmTopicArn, targetId: "alarm-topic" },
      parent,
    );

    this.jobName = glueJob.name;
    this.roleArn = role.arn;
    this.registerOutputs({ jobName: this.jobName, roleArn: this.roleArn });
  }
}

/** The job arguments of a producer: its source, SQL, expected columns and outputs. */
function producerArguments(
  job: ProducerJob,
  upload: (id: string, file: string, key: string) => aws.s3.BucketObjectv2,
  s3Uri: (object: aws.s3.BucketObjectv2) => pulumi.Output<string>,
): Record<string, pulumi.Input<string>> {
  const { product, source } = job;
  const bucketUri = pulumi.interpolate`s3://${job.bucket}`;
  const view = job.transform.sourceView;
  const sourceArgument =
    source.kind === "jdbc"
      ? pulumi.jsonStringify({
          kind: source.kind,
          view,
          engine: source.engine,
          connection: source.connectionName,
          table: source.table,
        })
      : source.kind === "dynamodb-export"
        ? pulumi.jsonStringify({
            kind: source.kind,
            view,
            table_arn: source.tableArn,
            export_bucket: job.bucket,
            export_prefix: `exports/${product.table}/`,
            export_bucket_owner: product.accountId,
          })
        : pulumi.jsonStringify({
            kind: "parquet",
            view,
            path: pulumi.interpolate`${bucketUri}/${LANDING_PREFIX}${product.table}/`,
          });
  return {
    "--product": product.ref,
    "--source": sourceArgument,
    "--sql_file": s3Uri(upload("sql", job.transform.sqlFile, "transform.sql")),
    "--publish_sql": s3Uri(upload("publish-sql", PUBLISH_SQL, "publish.sql")),
    "--columns": JSON.stringify(
      [...product.columns, ...product.partitionKeys].map(
        (column) => `${column.name}:${GLUE_TYPES[column.kind]}`,
      ),
    ),
    "--partition_by": JSON.stringify(product.partitionKeys.map((column) => column.name)),
    "--output_path": pulumi.interpolate`${bucketUri}/${product.table}/`,
    "--quarantine_path": pulumi.interpolate`${bucketUri}/quarantine/${product.table}/`,
    "--catalog_database": product.database,
    "--catalog_table": product.table,
    "--lookback_hours": String(job.lookbackHours),
  };
}

/** What a producer's job reads and writes: its source, its product and quarantine prefixes, the catalog. */
function producerStatements(job: ProducerJob, args: EtlJobArgs): Statement[] {
  const { product, source } = job;
  const { accountId, region } = args;
  const bucketArn = pulumi.interpolate`arn:aws:s3:::${job.bucket}`;
  const catalog = `arn:aws:glue:${region}:${accountId}`;
  const statements: Statement[] = [
    { Sid: "ListProductBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
    {
      Sid: "WriteProductAndQuarantine",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: [
        pulumi.interpolate`${bucketArn}/${product.table}/*`,
        pulumi.interpolate`${bucketArn}/quarantine/${product.table}/*`,
      ],
    },
    {
      Sid: "AddPartitions",
      Effect: "Allow",
      Action: [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchCreatePartition",
        "glue:CreatePartition",
        "glue:UpdatePartition",
      ],
      Resource: [
        `${catalog}:catalog`,
        `${catalog}:database/${product.database}`,
        `${catalog}:table/${product.database}/${product.table}`,
      ],
    },
    { Sid: "LakeFormationDataAccess", Effect: "Allow", Action: "lakeformation:GetDataAccess", Resource: "*" },
  ];
  switch (source.kind) {
    case "landing":
      statements.push({
        Sid: "ReadLanding",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: pulumi.interpolate`${bucketArn}/${LANDING_PREFIX}${product.table}/*`,
      });
      break;
    case "dynamodb-export":
      statements.push(
        {
          Sid: "ExportTheTable",
          Effect: "Allow",
          Action: "dynamodb:ExportTableToPointInTime",
          Resource: source.tableArn,
        },
        {
          Sid: "FollowTheExport",
          Effect: "Allow",
          Action: "dynamodb:DescribeExport",
          Resource: pulumi.interpolate`${source.tableArn}/export/*`,
        },
        {
          Sid: "WriteAndReadTheExport",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"],
          Resource: pulumi.interpolate`${bucketArn}/exports/${product.table}/*`,
        },
      );
      break;
    case "jdbc":
      statements.push(
        {
          Sid: "ReadTheConnection",
          Effect: "Allow",
          Action: "glue:GetConnection",
          Resource: [
            `${catalog}:catalog`,
            pulumi.interpolate`${catalog}:connection/${source.connectionName}`,
          ],
        },
        {
          Sid: "ReadTheCredentials",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          Resource: source.secretArn,
        },
        {
          // The connection's network interfaces; Describe calls have no resource-level permissions.
          Sid: "DescribeTheNetwork",
          Effect: "Allow",
          Action: [
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcAttribute",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeRouteTables",
          ],
          Resource: "*",
        },
        {
          Sid: "RunInTheNetwork",
          Effect: "Allow",
          Action: ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateTags"],
          Resource: [
            `arn:aws:ec2:${region}:${accountId}:network-interface/*`,
            `arn:aws:ec2:${region}:${accountId}:subnet/*`,
            `arn:aws:ec2:${region}:${accountId}:security-group/*`,
          ],
        },
      );
      break;
  }
  return statements;
}

/** Producers' jobs run daily and publish the last three days: two missed runs lose nothing. */
export const PRODUCER_SCHEDULE = { cron: "cron(0 2 * * ? *)", lookbackHours: 72 } as const;

/**
 * The ETL job of one of a domain's products at rest, in the domain's account: the product and its
 * table from the context, the domain's key and alarm topic, the daily schedule. Throws naming the
 * product when the domain keeps no such product at rest.
 */
export function producerEtlJob(
  context: DomainInfraContext,
  transform: ProducerTransform,
  source: EtlSource,
  connections?: readonly pulumi.Input<string>[],
): EtlJob {
  const { domain } = context;
  const product = domain.atRestProducts.find((p) => p.name === transform.product);
  const table = context.tables[transform.product];
  if (!product || !table) {
    throw new Error(
      `${transform.sqlFile}: ${domain.name} keeps no product ${transform.product} at rest (products at rest: ${domain.atRestProducts.map((p) => p.name).join(", ") || "none"})`,
    );
  }
  return new EtlJob(
    `${domain.name}-${product.name}-etl`,
    {
      jobName: productJobRoleName(product),
      accountId: domain.accountId,
      region: context.config.region,
      kmsKeyArn: context.dataKeyArn,
      job: {
        kind: "producer",
        transform,
        product,
        bucket: table.bucket,
        source,
        lookbackHours: PRODUCER_SCHEDULE.lookbackHours,
      },
      connections,
      schedule: PRODUCER_SCHEDULE.cron,
      alarmTopicArn: context.alarmTopicArn,
      tags: context.tags,
    },
    { provider: context.provider },
  );
}

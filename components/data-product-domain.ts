import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { lakeTags, type AtRestProduct, type AtRestSubscription } from "../platform/at-rest";
import { GLUE_TYPES } from "../platform/columns";
import type { StackConfig } from "../platform/config";
import { Classification } from "../platform/declarations";
import { policyDocument, serviceTrust, STREAM_READ_ACTIONS, type Statement } from "../platform/iam";
import type { Domain } from "../platform/mesh";
import { TagKeys } from "../platform/tags";
import { createLfTags } from "./catalog";
import { MeshFunction } from "./lambda";
import { SecureBucket } from "./secure-bucket";
import type { ProductStream } from "./wiring";

export const DATA_PRODUCT_DOMAIN_TYPE = "mesh:data:DataProductDomain";

/** Parquet through the Hive SerDe: what Athena, Glue jobs and Firehose's conversion all read and write. */
export const PARQUET = {
  inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
  serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
} as const;

/** Lake Formation permissions a reader of a table needs; DESCRIBE alone for the central catalog. */
export const LakePermissions = {
  read: ["SELECT", "DESCRIBE"],
  describe: ["DESCRIBE"],
} as const;

/**
 * Where Firehose lands a stream product's records in its bucket (`landing/<table>/`): the raw
 * copy, duplicates and contract violations included, which the domain's ETL job reads to publish
 * the clean product under `<table>/` (components/etl-job.ts).
 */
export const LANDING_PREFIX = "landing/";

/** Firehose landing settings: Parquet conversion needs a buffer of at least 64 MiB. */
export const LandingSettings = { bufferingSizeMiB: 128, bufferingIntervalSeconds: 300, logRetentionDays: 30 };

const LANDING_HANDLER = join(__dirname, "..", "runtime", "landing.ts");

export interface DataProductDomainArgs {
  /** The producing domain; its `atRestProducts` are built. */
  readonly domain: Domain;
  /** Every at-rest subscription in the mesh to this domain's products: the only accounts granted. */
  readonly subscriptions: readonly AtRestSubscription[];
  readonly config: StackConfig;
  /** The domain's data key: product buckets and landed objects. */
  readonly dataKeyArn: pulumi.Input<string>;
  /** The platform account (central catalog), shared every database and table for DESCRIBE. */
  readonly platformAccountId: string;
  /** The domain's stream products by ref: the source of each stream product's at-rest copy. */
  readonly streams: Readonly<Record<string, ProductStream>>;
  readonly tags: Readonly<Record<string, string>>;
}

/** What a consumer's stack needs of a product at rest (stack output `atRest`). */
export interface PublishedTable {
  readonly catalogId: string;
  readonly database: pulumi.Output<string>;
  readonly table: pulumi.Output<string>;
  readonly bucket: pulumi.Output<string>;
}

/**
 * A producer domain's data at rest, in its account: for each product at rest a bucket (private,
 * TLS-only, SSE-KMS with the domain's key, versioned, protected in prod), its Glue table (columns
 * and partitions from the contract) in the domain's database, the bucket registered with Lake
 * Formation, LF-tags on database, table and pii columns, and the grants of its subscribers'
 * accounts and of the central catalog. A stream product's at-rest copy is landed by Firehose
 * straight from the stream.
 */
export class DataProductDomain extends pulumi.ComponentResource {
  /** Tables by product ref. */
  public readonly tables: Record<string, PublishedTable>;

  constructor(name: string, args: DataProductDomainArgs, opts: pulumi.ComponentResourceOptions) {
    const { domain } = args;
    if (!opts.provider) {
      throw new Error(`DataProductDomain ${name}: a provider for account ${domain.accountAlias} is required`);
    }
    if (domain.atRestProducts.length === 0) {
      throw new Error(`DataProductDomain ${name}: domain ${domain.name} keeps no product at rest`);
    }
    for (const subscription of args.subscriptions) {
      if (subscription.product.domain !== domain.name) {
        throw new Error(
          `DataProductDomain ${name}: ${subscription.ref} reads ${subscription.product.ref}, not a product of ${domain.name}`,
        );
      }
    }
    for (const product of domain.atRestProducts) {
      if (product.stream && !args.streams[product.ref]) {
        throw new Error(`DataProductDomain ${name}: no stream given for ${product.ref}'s at-rest copy`);
      }
    }
    super(DATA_PRODUCT_DOMAIN_TYPE, name, {}, opts);

    const database = new aws.glue.CatalogDatabase(
      `${name}-database`,
      {
        name: domain.atRestProducts[0]!.database,
        catalogId: domain.accountId,
        description: `Data products at rest of the ${domain.name} domain.`,
        tags: { ...args.tags },
      },
      { parent: this },
    );
    const lfTags = createLfTags(
      name,
      { domains: [domain.name], products: domain.atRestProducts.map((product) => product.ref) },
      { parent: this },
    );
    const databaseTags = new aws.lakeformation.ResourceLfTags(
      `${name}-database-lf-tags`,
      {
        catalogId: domain.accountId,
        database: { catalogId: domain.accountId, name: database.name },
        lfTags: lfTagPairs(lakeTags(domain.atRestProducts[0]!).databaseTags, lfTags),
      },
      { parent: this },
    );

    const locationRole = new aws.iam.Role(
      `${name}-lake-location`,
      {
        name: `mesh-${domain.name}-lake-location`,
        description: `Lake Formation reads and writes ${domain.name}'s product buckets for its grantees`,
        assumeRolePolicy: serviceTrust("lakeformation.amazonaws.com", domain.accountId),
        tags: { ...args.tags },
      },
      { parent: this },
    );

    this.tables = {};
    const locationStatements: Statement[] = [];
    const tagsByTable: aws.lakeformation.ResourceLfTags[] = [];
    for (const product of domain.atRestProducts) {
      const built = createProductTable(`${name}-${product.name}`, args, product, database, this);
      locationStatements.push(...bucketStatements(product, built.bucket.arn, args.dataKeyArn));
      const location = new aws.lakeformation.Resource(
        `${name}-${product.name}-location`,
        { arn: built.bucket.arn, roleArn: locationRole.arn, hybridAccessEnabled: false },
        { parent: this },
      );
      const tagged = tagTable(`${name}-${product.name}`, product, built.table, lfTags, this);
      tagsByTable.push(...tagged);
      if (product.stream) {
        createLanding(`${name}-${product.name}`, args, product, built, args.streams[product.ref]!, this, [
          location,
        ]);
      }
      grantReaders(`${name}-${product.name}`, args, product, this, [...tagged, databaseTags]);
      this.tables[product.ref] = {
        catalogId: domain.accountId,
        database: database.name,
        table: built.table.name,
        bucket: built.bucket.bucketName,
      };
    }
    new aws.iam.RolePolicy(
      `${name}-lake-location-policy`,
      { role: locationRole.name, policy: policyDocument(locationStatements) },
      { parent: this },
    );

    // The central catalog sees every database and table of the domain, never a row; each reading
    // account sees the database, to link it.
    const catalogDependsOn = [databaseTags, ...tagsByTable];
    describeDatabase(`${name}-catalog-database`, args, args.platformAccountId, this, catalogDependsOn);
    new aws.lakeformation.Permissions(
      `${name}-catalog-tables`,
      {
        principal: args.platformAccountId,
        permissions: [...LakePermissions.describe],
        lfTagPolicy: {
          catalogId: domain.accountId,
          resourceType: "TABLE",
          expressions: [{ key: TagKeys.Domain, values: [domain.name] }],
        },
      },
      { parent: this, dependsOn: catalogDependsOn },
    );
    for (const consumer of [...new Set(args.subscriptions.map((s) => s.domain))]) {
      const accountId = args.subscriptions.find((s) => s.domain === consumer)!.accountId;
      describeDatabase(`${name}-${consumer}-database`, args, accountId, this, catalogDependsOn);
    }

    this.registerOutputs({ tables: this.tables });
  }
}

/** Statements of the Lake Formation location role on one product's bucket and the domain key. */
function bucketStatements(
  product: AtRestProduct,
  bucketArn: pulumi.Output<string>,
  dataKeyArn: pulumi.Input<string>,
): Statement[] {
  const id = product.name.replace(/[^A-Za-z0-9]/g, "");
  return [
    { Sid: `List${id}`, Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
    {
      Sid: `Objects${id}`,
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: pulumi.interpolate`${bucketArn}/*`,
    },
    {
      Sid: `Key${id}`,
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: dataKeyArn,
      Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } },
    },
  ];
}

interface BuiltTable {
  readonly bucket: SecureBucket;
  readonly table: aws.glue.CatalogTable;
}

/** @internal The product's bucket and its Glue table, columns and partitions from the contract. */
export function createProductTable(
  name: string,
  args: DataProductDomainArgs,
  product: AtRestProduct,
  database: aws.glue.CatalogDatabase,
  parent: pulumi.Resource,
): BuiltTable {
  const tags = {
    ...args.tags,
    [TagKeys.Product]: product.ref,
    [TagKeys.Classification]: product.classification,
  };
  const bucket = new SecureBucket(
    name,
    { kmsKeyArn: args.dataKeyArn, protect: args.config.protectStateful, tags },
    { parent },
  );
  const column = (c: AtRestProduct["columns"][number]) => ({
    name: c.name,
    type: GLUE_TYPES[c.kind],
    comment: `${c.field}${c.pii ? " (pii)" : ""}`,
  });
  const table = new aws.glue.CatalogTable(
    `${name}-table`,
    {
      name: product.table,
      catalogId: product.accountId,
      databaseName: database.name,
      description: product.description,
      tableType: "EXTERNAL_TABLE",
      parameters: { classification: "parquet", EXTERNAL: "TRUE", "parquet.compression": "SNAPPY" },
      partitionKeys: product.partitionKeys.map(column),
      storageDescriptor: {
        location: pulumi.interpolate`s3://${bucket.bucketName}/${product.table}/`,
        inputFormat: PARQUET.inputFormat,
        outputFormat: PARQUET.outputFormat,
        serDeInfo: {
          serializationLibrary: PARQUET.serializationLibrary,
          parameters: { "serialization.format": "1" },
        },
        columns: product.columns.map(column),
      },
    },
    // Metadata only: the data stays in the (protected) bucket, and the table is derived again.
    { parent },
  );
  return { bucket, table };
}

/** LF-tag assignments for tags, each key taken from the catalog's LfTag resource so it is made after it. */
function lfTagPairs(
  tags: Readonly<Record<string, string>>,
  lfTags: ReturnType<typeof createLfTags>,
): { key: pulumi.Output<string>; value: string }[] {
  const keys: Record<string, pulumi.Output<string>> = {
    [TagKeys.Domain]: lfTags.domain.key,
    [TagKeys.Product]: lfTags.product.key,
    [TagKeys.Classification]: lfTags.classification.key,
  };
  return Object.entries(tags).map(([key, value]) => {
    if (!keys[key])
      throw new Error(`LF-tag ${key} is not one of the catalog's (${Object.keys(keys).join(", ")})`);
    return { key: keys[key], value };
  });
}

/**
 * The LF-tags `lakeTags` gives the table and its columns (platform/at-rest.ts: the one definition
 * of the vocabulary): the table's domain, product and classification, and one assignment per distinct
 * set of column tags (a pii product's other columns are tagged confidential).
 */
function tagTable(
  name: string,
  product: AtRestProduct,
  table: aws.glue.CatalogTable,
  lfTags: ReturnType<typeof createLfTags>,
  parent: pulumi.Resource,
): aws.lakeformation.ResourceLfTags[] {
  const pairs = (tags: Readonly<Record<string, string>>) => lfTagPairs(tags, lfTags);
  const ref = { catalogId: product.accountId, databaseName: table.databaseName, name: table.name };
  const wanted = lakeTags(product);
  const tagged = [
    new aws.lakeformation.ResourceLfTags(
      `${name}-lf-tags`,
      { catalogId: product.accountId, table: ref, lfTags: pairs(wanted.tags) },
      { parent },
    ),
  ];
  const groups = new Map<string, { tags: Readonly<Record<string, string>>; columns: string[] }>();
  for (const column of wanted.columns) {
    if (!Object.keys(column.tags).length) continue;
    const id = Object.values(column.tags).join("-");
    const group = groups.get(id) ?? { tags: column.tags, columns: [] };
    group.columns.push(column.name);
    groups.set(id, group);
  }
  for (const [id, group] of groups) {
    tagged.push(
      new aws.lakeformation.ResourceLfTags(
        `${name}-column-lf-tags${groups.size > 1 ? `-${id}` : ""}`,
        {
          catalogId: product.accountId,
          tableWithColumns: { ...ref, columnNames: group.columns },
          lfTags: pairs(group.tags),
        },
        // Column tags override the table's: they are assigned after it.
        { parent, dependsOn: [tagged[0]!] },
      ),
    );
  }
  return tagged;
}

/** Classifications a reader without `includePii` may see: every one but pii. */
const NOT_PII = Object.values(Classification).filter((c) => c !== Classification.Pii);

/**
 * The grants of the product's readers to their accounts, one per consumer domain, through LF-tag
 * expressions only (the accounts' own stacks grant their roles, narrowed to the subscribed
 * columns): DESCRIBE on the domain's database (`mesh:domain`), and SELECT on the table
 * (`mesh:product = <ref>`), without the pii columns (`mesh:classification` other than pii) unless
 * a subscription of that domain declares includePii.
 */
function grantReaders(
  name: string,
  args: DataProductDomainArgs,
  product: AtRestProduct,
  parent: pulumi.Resource,
  dependsOn: pulumi.Resource[],
): void {
  const readers = args.subscriptions.filter((s) => s.product.ref === product.ref);
  for (const consumer of [...new Set(readers.map((s) => s.domain))]) {
    const own = readers.filter((s) => s.domain === consumer);
    const withholdPii = product.classification === Classification.Pii && !own.some((s) => s.includePii);
    new aws.lakeformation.Permissions(
      `${name}-${consumer}-read`,
      {
        principal: own[0]!.accountId,
        permissions: [...LakePermissions.read],
        lfTagPolicy: {
          catalogId: product.accountId,
          resourceType: "TABLE",
          expressions: [
            { key: TagKeys.Product, values: [product.ref] },
            ...(withholdPii ? [{ key: TagKeys.Classification, values: NOT_PII }] : []),
          ],
        },
      },
      { parent, dependsOn },
    );
  }
}

/** DESCRIBE on the domain's database (`mesh:domain`) for an account: resource links need it. */
function describeDatabase(
  name: string,
  args: DataProductDomainArgs,
  principal: string,
  parent: pulumi.Resource,
  dependsOn: pulumi.Resource[],
): aws.lakeformation.Permissions {
  return new aws.lakeformation.Permissions(
    name,
    {
      principal,
      permissions: [...LakePermissions.describe],
      lfTagPolicy: {
        catalogId: args.domain.accountId,
        resourceType: "DATABASE",
        expressions: [{ key: TagKeys.Domain, values: [args.domain.name] }],
      },
    },
    { parent, dependsOn },
  );
}

/**
 * @internal Firehose landing a stream product at rest: reads exactly that stream, flattens each
 * envelope (runtime/landing.ts), converts to Parquet through the Glue table, partitions by the
 * table's partition columns and writes SSE-KMS with the domain key; failed records go, untouched,
 * under `errors/`.
 */
export function createLanding(
  name: string,
  args: DataProductDomainArgs,
  product: AtRestProduct,
  built: BuiltTable,
  stream: ProductStream,
  parent: pulumi.Resource,
  dependsOn: pulumi.Resource[],
): aws.kinesis.FirehoseDeliveryStream {
  const { domain, config } = args;
  const region = config.region;
  const partitions = Object.fromEntries(product.partitionKeys.map((c) => [c.name, c.field]));
  const timestamps = product.columns.filter((c) => c.kind === "timestamp").map((c) => c.name);
  const transform = new MeshFunction(
    `${name}-landing-transform`,
    {
      functionName: `mesh-${domain.name}-${product.name}-landing`,
      roleName: `mesh-${domain.name}-${product.name}-transform`,
      entry: LANDING_HANDLER,
      description: `Flattens ${product.ref} events into rows of ${product.database}.${product.table}`,
      accountId: domain.accountId,
      region,
      statements: [],
      environment: {
        PARTITION_FIELDS: JSON.stringify(partitions),
        TIMESTAMP_COLUMNS: JSON.stringify(timestamps),
      },
      timeoutSeconds: 60,
      tags: args.tags,
    },
    { parent },
  );
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-landing-logs`,
    {
      name: `/aws/kinesisfirehose/mesh-${domain.name}-${product.name}-landing`,
      retentionInDays: LandingSettings.logRetentionDays,
      tags: { ...args.tags },
    },
    { parent },
  );
  const logStream = new aws.cloudwatch.LogStream(
    `${name}-landing-log`,
    { logGroupName: logGroup.name, name: "DestinationDelivery" },
    { parent },
  );
  const role = new aws.iam.Role(
    `${name}-landing-role`,
    {
      name: product.landingRoleName!,
      assumeRolePolicy: serviceTrust("firehose.amazonaws.com", domain.accountId),
      tags: { ...args.tags },
    },
    { parent },
  );
  const catalog = `arn:aws:glue:${region}:${domain.accountId}`;
  const policy = new aws.iam.RolePolicy(
    `${name}-landing-policy`,
    {
      role: role.name,
      policy: policyDocument([
        {
          Sid: "ReadTheStream",
          Effect: "Allow",
          Action: [...STREAM_READ_ACTIONS],
          Resource: stream.streamArn,
        },
        {
          Sid: "DecryptTheStream",
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: stream.keyArn,
          Condition: { StringEquals: { "kms:ViaService": `kinesis.${region}.amazonaws.com` } },
        },
        {
          Sid: "ReadTheTableSchema",
          Effect: "Allow",
          Action: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
          Resource: [
            `${catalog}:catalog`,
            `${catalog}:database/${product.database}`,
            `${catalog}:table/${product.database}/${product.table}`,
          ],
        },
        {
          Sid: "WriteTheBucket",
          Effect: "Allow",
          Action: [
            "s3:AbortMultipartUpload",
            "s3:GetBucketLocation",
            "s3:ListBucket",
            "s3:ListBucketMultipartUploads",
          ],
          Resource: built.bucket.arn,
        },
        {
          Sid: "WriteObjects",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
          Resource: pulumi.interpolate`${built.bucket.arn}/*`,
        },
        {
          Sid: "EncryptObjects",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: args.dataKeyArn,
          Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
        },
        {
          Sid: "Transform",
          Effect: "Allow",
          Action: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
          Resource: transform.arn,
        },
        { Sid: "LogDeliveryErrors", Effect: "Allow", Action: "logs:PutLogEvents", Resource: logStream.arn },
      ]),
    },
    { parent },
  );
  const partitionPath = product.partitionKeys
    .map((c) => `${c.name}=!{partitionKeyFromLambda:${c.name}}/`)
    .join("");
  return new aws.kinesis.FirehoseDeliveryStream(
    `${name}-landing`,
    {
      name: `mesh-${domain.name}-${product.name}-landing`,
      destination: "extended_s3",
      kinesisSourceConfiguration: { kinesisStreamArn: stream.streamArn, roleArn: role.arn },
      extendedS3Configuration: {
        roleArn: role.arn,
        bucketArn: built.bucket.arn,
        kmsKeyArn: args.dataKeyArn,
        bufferingSize: LandingSettings.bufferingSizeMiB,
        bufferingInterval: LandingSettings.bufferingIntervalSeconds,
        prefix: `${LANDING_PREFIX}${product.table}/${partitionPath}`,
        errorOutputPrefix: `errors/${product.table}/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/`,
        dynamicPartitioningConfiguration: { enabled: true, retryDuration: 300 },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: "Lambda",
              parameters: [
                { parameterName: "LambdaArn", parameterValue: pulumi.interpolate`${transform.arn}:$LATEST` },
              ],
            },
          ],
        },
        dataFormatConversionConfiguration: {
          enabled: true,
          inputFormatConfiguration: { deserializer: { hiveJsonSerDe: { timestampFormats: ["millis"] } } },
          outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
          schemaConfiguration: {
            catalogId: domain.accountId,
            databaseName: built.table.databaseName,
            tableName: built.table.name,
            region,
            roleArn: role.arn,
          },
        },
        cloudwatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.name,
          logStreamName: logStream.name,
        },
      },
      tags: { ...args.tags, [TagKeys.Product]: product.ref },
    },
    { parent, dependsOn: [...dependsOn, policy, transform.rolePolicy] },
  );
}

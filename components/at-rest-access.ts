import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { readerRoleName, type AtRestSubscription } from "../platform/at-rest";
import { accountRoot, policyDocument, type Statement } from "../platform/iam";
import type { Domain } from "../platform/mesh";
import { LakePermissions } from "./data-product-domain";

export const AT_REST_ACCESS_TYPE = "mesh:data:AtRestAccess";

/** Where a product's table lives: the producer's catalog (its account id), database and table. */
export interface TableLocation {
  readonly catalogId: pulumi.Input<string>;
  readonly database: pulumi.Input<string>;
  readonly table: pulumi.Input<string>;
}

export interface AtRestAccessArgs {
  /** The consuming domain; its `atRestSubscriptions` are built. */
  readonly domain: Domain;
  readonly region: string;
  /** The subscribed products' tables by product ref (from the producers' stacks). */
  readonly tables: Readonly<Record<string, TableLocation>>;
  readonly tags: Readonly<Record<string, string>>;
}

/** One at-rest subscription as the consumer's own code uses it. */
export interface AtRestReader {
  /** Role that may read exactly the subscribed columns, named `mesh-<domain>-<subscription>`. */
  readonly roleName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  /** The resource link in the consumer's catalog that names the producer's database. */
  readonly database: pulumi.Output<string>;
  readonly table: pulumi.Input<string>;
  /** The producer's table the link leads to. */
  readonly location: TableLocation;
  /** The granted columns, partition columns included; undefined when every column is. */
  readonly columns?: readonly string[];
}

/** The resource link's name: `<producer database>_shared` in the consumer's catalog. */
export const resourceLinkName = (database: string): string => `${database}_shared`;

/**
 * A consumer's read access to products at rest, in its own account: a resource link per producer
 * database (pointing at the producer's catalog, which shared the tables to this account), and per
 * subscription a reader role with Lake Formation grants on the link (DESCRIBE) and on the shared
 * table (SELECT on the subscribed columns). Data access goes through Lake Formation's credential
 * vending, so the role holds no S3 or KMS permission of the producer's.
 */
export class AtRestAccess extends pulumi.ComponentResource {
  /** Readers by subscription name. */
  public readonly readers: Record<string, AtRestReader>;

  constructor(name: string, args: AtRestAccessArgs, opts: pulumi.ComponentResourceOptions) {
    const { domain } = args;
    if (!opts.provider) {
      throw new Error(`AtRestAccess ${name}: a provider for account ${domain.accountAlias} is required`);
    }
    const missing = domain.atRestSubscriptions.filter((s) => !args.tables[s.product.ref]);
    if (missing.length) {
      throw new Error(
        `AtRestAccess ${name}: no table given for ${missing.map((s) => s.product.ref).join(", ")}`,
      );
    }
    super(AT_REST_ACCESS_TYPE, name, {}, opts);

    const links = new Map<string, aws.glue.CatalogDatabase>();
    for (const subscription of domain.atRestSubscriptions) {
      const { database } = subscription.product;
      if (links.has(database)) continue;
      const location = args.tables[subscription.product.ref]!;
      links.set(
        database,
        new aws.glue.CatalogDatabase(
          `${name}-${database.replace(/_/g, "-")}-link`,
          {
            name: resourceLinkName(database),
            catalogId: domain.accountId,
            targetDatabase: { catalogId: location.catalogId, databaseName: location.database },
            tags: { ...args.tags },
          },
          { parent: this },
        ),
      );
    }

    this.readers = {};
    for (const subscription of domain.atRestSubscriptions) {
      const link = links.get(subscription.product.database)!;
      this.readers[subscription.name] = createReader(
        `${name}-${subscription.name}`,
        args,
        subscription,
        link,
        args.tables[subscription.product.ref]!,
        this,
      );
    }
    this.registerOutputs({ readers: this.readers });
  }
}

/** @internal The reader role of one subscription and its Lake Formation grants. */
export function createReader(
  name: string,
  args: AtRestAccessArgs,
  subscription: AtRestSubscription,
  link: aws.glue.CatalogDatabase,
  location: TableLocation,
  parent: pulumi.Resource,
): AtRestReader {
  const { domain, region } = args;
  const role = new aws.iam.Role(
    `${name}-reader`,
    {
      name: readerRoleName(subscription),
      description: `Reads ${subscription.product.ref} at rest for ${subscription.ref}`,
      // The account's own principals (its jobs, its analysts) are allowed to assume it through IAM.
      assumeRolePolicy: policyDocument([
        { Effect: "Allow", Principal: { AWS: accountRoot(domain.accountId) }, Action: "sts:AssumeRole" },
      ]),
      tags: { ...args.tags },
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-reader-policy`,
    {
      role: role.name,
      policy: policyDocument(readerStatements(domain.accountId, region, link.name, location)),
    },
    { parent },
  );
  // Partition columns are paths, readable by every subscriber (as lakeFormationAccess declares).
  const columns = subscription.allColumns
    ? undefined
    : [...subscription.columns, ...subscription.product.partitionKeys.map((column) => column.name)];
  grantRead(name, role.arn, { catalogId: domain.accountId, name: link.name }, location, columns, {
    parent,
    dependsOn: [policy],
  });
  return {
    roleName: role.name,
    roleArn: role.arn,
    database: link.name,
    table: location.table,
    location,
    columns,
  };
}

/** What a reader of a table through a resource link calls: credential vending and the catalog. */
export function readerStatements(
  accountId: string,
  region: string,
  link: pulumi.Input<string>,
  location: TableLocation,
): Statement[] {
  const catalog = (account: pulumi.Input<string>) => pulumi.interpolate`arn:aws:glue:${region}:${account}`;
  return [
    {
      // Lake Formation's credential vending has no resource-level permissions.
      Sid: "LakeFormationDataAccess",
      Effect: "Allow",
      Action: "lakeformation:GetDataAccess",
      Resource: "*",
    },
    {
      Sid: "CatalogMetadata",
      Effect: "Allow",
      Action: [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetTables",
        "glue:GetPartition",
        "glue:GetPartitions",
      ],
      Resource: [
        pulumi.interpolate`${catalog(accountId)}:catalog`,
        pulumi.interpolate`${catalog(accountId)}:database/${link}`,
        pulumi.interpolate`${catalog(accountId)}:table/${link}/*`,
        pulumi.interpolate`${catalog(location.catalogId)}:catalog`,
        pulumi.interpolate`${catalog(location.catalogId)}:database/${location.database}`,
        pulumi.interpolate`${catalog(location.catalogId)}:table/${location.database}/${location.table}`,
      ],
    },
  ];
}

/**
 * The Lake Formation grants of one reader: DESCRIBE on the resource link and SELECT on the shared
 * table, on `columns` (every column when undefined).
 */
export function grantRead(
  name: string,
  principal: pulumi.Input<string>,
  link: { readonly catalogId: string; readonly name: pulumi.Input<string> },
  location: TableLocation,
  columns: readonly string[] | undefined,
  opts: pulumi.CustomResourceOptions,
): void {
  new aws.lakeformation.Permissions(
    `${name}-link-describe`,
    { principal, permissions: [...LakePermissions.describe], database: link },
    opts,
  );
  new aws.lakeformation.Permissions(
    `${name}-select`,
    {
      principal,
      permissions: ["SELECT"],
      tableWithColumns: {
        catalogId: location.catalogId,
        databaseName: location.database,
        name: location.table,
        ...(columns ? { columnNames: [...columns] } : { wildcard: true }),
      },
    },
    opts,
  );
}

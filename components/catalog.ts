import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AtRestProduct } from "../platform/at-rest";
import { Classification } from "../platform/declarations";
import { TagKeys } from "../platform/tags";

export const MESH_CATALOG_TYPE = "mesh:data:Catalog";

/** Lake Formation's cross-account version the mesh requires (v4: RAM shares, hybrid access modes). */
export const CROSS_ACCOUNT_VERSION = "4";

/**
 * An account's Lake Formation settings the way the mesh wants them in every account that shares
 * or reads data at rest: the given admins, no `IAM_ALLOWED_PRINCIPALS` default permissions on new
 * databases and tables (so Lake Formation, not IAM alone, decides access), cross-account version 4.
 * One per account: the account's own stack writes it.
 */
export function createLakeSettings(
  name: string,
  admins: readonly pulumi.Input<string>[],
  opts: pulumi.CustomResourceOptions,
): aws.lakeformation.DataLakeSettings {
  return new aws.lakeformation.DataLakeSettings(
    name,
    {
      admins: [...admins],
      createDatabaseDefaultPermissions: [],
      createTableDefaultPermissions: [],
      parameters: { CROSS_ACCOUNT_VERSION },
    },
    opts,
  );
}

/** The LF-tag vocabulary: the streams' ABAC tag keys, with the values present in one catalog. */
export interface LfTagValues {
  readonly domains: readonly string[];
  readonly products: readonly string[];
}

/**
 * The three LF-tags of a catalog (`mesh:domain`, `mesh:product`, `mesh:classification`), the same
 * keys and values as the streams' ABAC tags (platform/tags.ts), so tags decide access on both planes.
 */
export function createLfTags(
  name: string,
  values: LfTagValues,
  opts: pulumi.CustomResourceOptions,
): Record<"domain" | "product" | "classification", aws.lakeformation.LfTag> {
  const tag = (suffix: string, key: string, tagValues: readonly string[]) =>
    new aws.lakeformation.LfTag(`${name}-${suffix}`, { key, values: [...tagValues].sort() }, opts);
  return {
    domain: tag("lf-tag-domain", TagKeys.Domain, values.domains),
    product: tag("lf-tag-product", TagKeys.Product, values.products),
    classification: tag("lf-tag-classification", TagKeys.Classification, Object.values(Classification)),
  };
}

export interface MeshCatalogArgs {
  /** Every product at rest in the mesh: the values of the central LF-tags. */
  readonly products: readonly AtRestProduct[];
  /** The platform's Lake Formation admins (its deploy role). */
  readonly admins: readonly pulumi.Input<string>[];
}

/**
 * The central catalog in the platform account: its Lake Formation settings (the platform's admins,
 * no IAM-only defaults, cross-account version 4) and the mesh's LF-tag vocabulary with every value
 * of the mesh. Producers share each database and table to this account (DESCRIBE, from their own
 * stacks), so the platform sees the whole catalog without being able to read a row.
 */
export class MeshCatalog extends pulumi.ComponentResource {
  public readonly tagKeys: pulumi.Output<string>[];

  constructor(name: string, args: MeshCatalogArgs, opts: pulumi.ComponentResourceOptions) {
    if (!opts.provider)
      throw new Error(`MeshCatalog ${name}: a provider for the platform account is required`);
    if (args.admins.length === 0) throw new Error(`MeshCatalog ${name}: at least one admin is required`);
    super(MESH_CATALOG_TYPE, name, {}, opts);

    const settings = createLakeSettings(`${name}-lake-settings`, args.admins, { parent: this });
    const tags = createLfTags(
      name,
      {
        domains: [...new Set(args.products.map((product) => product.domain))],
        products: args.products.map((product) => product.ref),
      },
      // Creating LF-tags needs the deploy role to be an admin first.
      { parent: this, dependsOn: [settings] },
    );

    this.tagKeys = Object.values(tags).map((tag) => tag.key);
    this.registerOutputs({ tagKeys: this.tagKeys });
  }
}

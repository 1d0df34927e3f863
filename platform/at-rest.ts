import { z } from "zod";
import { type Column, ColumnTypeError, contractColumns, EVENT_DATE as EVENT_DATE_COLUMN } from "./columns";
import { currentVersion } from "./contract";
import {
  type AtRestProductDeclaration,
  type AtRestSubscriptionDeclaration,
  Classification,
  type DomainDeclaration,
  EVENT_DATE,
} from "./declarations";
import type { Product } from "./mesh";
import { TagKeys } from "./tags";

/** The at-rest plane of the mesh model: declarations checked and resolved into tables and grants. */

export const atRestOptionsSchema = z.strictObject({
  eventTypes: z.array(z.string().min(1)).min(1).optional(),
  partitionBy: z.array(z.string().min(1)).min(1).optional(),
});

export const atRestSubscriptionSchema = z.strictObject({
  kind: z.literal("at-rest"),
  name: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "must be lower-case words joined by hyphens"),
  product: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, "must be <domain>/<product>"),
  columns: z.array(z.string().min(1)).min(1).optional(),
  includePii: z.boolean().optional(),
});

/** A product at rest: its table, where it lives and what it is landed from. */
export interface AtRestProduct extends Pick<
  Product,
  | "ref"
  | "domain"
  | "name"
  | "description"
  | "accountAlias"
  | "accountId"
  | "contract"
  | "classification"
  | "tags"
> {
  /** The stream product it is landed from; absent when the domain's own pipelines fill it. */
  readonly stream?: Product;
  /**
   * The role that lands the stream at rest (Firehose), named from the declaration: the one reader
   * of a stream that is its own domain's, not a subscription's.
   */
  readonly landingRoleName?: string;
  readonly landingRoleArn?: string;
  /** Glue database of the producing domain (`<domain>`, hyphens as underscores). */
  readonly database: string;
  /** Glue table (`<product>`, hyphens as underscores). */
  readonly table: string;
  readonly eventTypes: readonly string[];
  /** Data columns (envelope, then payload fields), partition columns excluded. */
  readonly columns: readonly Column[];
  readonly partitionKeys: readonly Column[];
}

/** A consumer's read access to a product at rest. */
export interface AtRestSubscription {
  /** `<consumer domain>/<subscription>` */
  readonly ref: string;
  readonly name: string;
  readonly domain: string;
  readonly accountAlias: string;
  readonly accountId: string;
  readonly product: AtRestProduct;
  /** The data columns granted; partition columns are always readable (they are paths, not data). */
  readonly columns: readonly string[];
  /** True when every data column is granted (a grant on the whole table). */
  readonly allColumns: boolean;
  readonly includePii: boolean;
}

/** The role of an at-rest subscription in the consumer's account: `mesh-<domain>-<subscription>`. */
export const readerRoleName = (subscription: Pick<AtRestSubscription, "domain" | "name">): string =>
  `mesh-${subscription.domain}-${subscription.name}`;

export const readerRoleArn = (subscription: AtRestSubscription): string =>
  `arn:aws:iam::${subscription.accountId}:role/${readerRoleName(subscription)}`;

/**
 * The role of the producer's own job that publishes a product at rest from its store or landing
 * (`mesh-<domain>-<product>-etl`, also the Glue job's name): it writes the product, so it reads it.
 */
export const productJobRoleName = (product: Pick<AtRestProduct, "domain" | "name">): string =>
  `mesh-${product.domain}-${product.name}-etl`;

export const productJobRoleArn = (product: AtRestProduct): string =>
  `arn:aws:iam::${product.accountId}:role/${productJobRoleName(product)}`;

/**
 * The role of a consumer domain's own job that merges what it subscribes to at rest
 * (`mesh-<domain>-merge`, also the Glue job's name): it reads each product exactly as the
 * subscription does, its columns and no more.
 */
export const mergeJobRoleName = (domain: string): string => `mesh-${domain}-merge`;

export const mergeJobRoleArn = (subscription: AtRestSubscription): string =>
  `arn:aws:iam::${subscription.accountId}:role/${mergeJobRoleName(subscription.domain)}`;

/** Glue names: lower-case letters, digits and underscores. */
export const glueName = (name: string): string => name.replace(/-/g, "_");

/**
 * Resolves the at-rest side of one product declaration (an at-rest product, or a stream product
 * with `atRest`). Pushes each problem with its path; returns undefined when the table cannot be
 * derived.
 */
export function resolveAtRestProduct(
  path: string,
  declaration: DomainDeclaration,
  accountId: string,
  product: Pick<
    AtRestProductDeclaration,
    "name" | "description" | "contract" | "classification" | "tags" | "atRest"
  >,
  stream: Product | undefined,
  problems: string[],
): AtRestProduct | undefined {
  const options = product.atRest ?? {};
  const ref = `${declaration.name}/${product.name}`;
  const events = currentVersion(product.contract).events;
  const unknown = (options.eventTypes ?? []).filter((type) => !events[type]);
  for (const type of unknown) problems.push(`${path}.atRest.eventTypes: ${ref} has no event type ${type}`);
  if (unknown.length) return undefined;
  const eventTypes = options.eventTypes ?? Object.keys(events);

  let all: Column[];
  try {
    all = contractColumns(product.contract, eventTypes);
  } catch (error) {
    if (!(error instanceof ColumnTypeError)) throw error;
    problems.push(`${path}.contract: ${error.message}`);
    return undefined;
  }

  const pii = all.filter((column) => column.pii).map((column) => column.name);
  if (pii.length && product.classification !== "pii") {
    problems.push(
      `${path}.classification: the contract marks ${pii.join(", ")} as pii, so the product must be classified pii, is ${product.classification}`,
    );
  }
  if (!pii.length && product.classification === "pii") {
    problems.push(
      `${path}.contract: the product is classified pii but its contract marks no field as pii (.meta(PII))`,
    );
  }

  const partitionKeys: Column[] = [];
  (options.partitionBy ?? [EVENT_DATE]).forEach((key, index) => {
    const where = `${path}.atRest.partitionBy[${index}]`;
    if (key === EVENT_DATE) return void partitionKeys.push(EVENT_DATE_COLUMN);
    const column = all.find((c) => c.field === key && c.name !== "event_id");
    if (column?.pii) {
      problems.push(`${where}: ${key} is pii and would appear in the S3 paths of the table`);
    } else if (!column || column.nullable || column.kind === "string-list" || column.kind === "timestamp") {
      problems.push(
        `${where}: ${key} is not ${EVENT_DATE} or a required string, number or boolean field of every stored event type`,
      );
    } else partitionKeys.push(column);
  });
  const names = partitionKeys.map((column) => column.name);
  if (new Set(names).size !== names.length) {
    problems.push(`${path}.atRest.partitionBy: partitions by a column twice`);
  }

  const landingRoleName = stream ? `mesh-${declaration.name}-${product.name}-landing` : undefined;
  if (landingRoleName && landingRoleName.length > 64) {
    problems.push(`${path}.name: landing role name ${landingRoleName} is longer than 64 characters`);
  }
  return {
    ref,
    domain: declaration.name,
    name: product.name,
    landingRoleName,
    landingRoleArn: landingRoleName && `arn:aws:iam::${accountId}:role/${landingRoleName}`,
    description: product.description,
    accountAlias: declaration.account,
    accountId,
    contract: product.contract,
    classification: product.classification,
    tags: product.tags ?? {},
    stream,
    database: glueName(declaration.name),
    table: glueName(product.name),
    eventTypes,
    columns: all.filter((column) => !names.includes(column.name)),
    partitionKeys,
  };
}

/** Resolves one at-rest subscription against the products at rest; pushes each problem with its path. */
export function resolveAtRestSubscription(
  path: string,
  declaration: DomainDeclaration,
  accountId: string,
  subscription: AtRestSubscriptionDeclaration,
  atRest: ReadonlyMap<string, AtRestProduct>,
  streams: ReadonlyMap<string, Product>,
  problems: string[],
): AtRestSubscription | undefined {
  const product = atRest.get(subscription.product);
  if (!product) {
    problems.push(
      streams.has(subscription.product)
        ? `${path}.product: ${subscription.product} is not kept at rest (declare atRest on the product)`
        : `${path}.product: no data product at rest ${subscription.product} in the mesh`,
    );
    return undefined;
  }
  const includePii = subscription.includePii ?? false;
  if (includePii && product.classification !== "pii") {
    problems.push(`${path}.includePii: ${product.ref} is classified ${product.classification}, not pii`);
  }
  const readable = product.columns.filter((column) => includePii || !column.pii);
  const known = product.columns.map((column) => column.name);
  for (const column of subscription.columns ?? []) {
    if (!known.includes(column)) {
      problems.push(`${path}.columns: ${product.ref} has no column ${column} (columns: ${known.join(", ")})`);
    } else if (!readable.some((c) => c.name === column)) {
      problems.push(`${path}.columns: ${column} is pii; declare includePii to read it`);
    }
  }
  const columns = subscription.columns ?? readable.map((column) => column.name);
  return {
    ref: `${declaration.name}/${subscription.name}`,
    name: subscription.name,
    domain: declaration.name,
    accountAlias: declaration.account,
    accountId,
    product,
    columns,
    allColumns: columns.length === product.columns.length,
    includePii,
  };
}

/**
 * The LF-tags a product's database, table and columns carry (the same vocabulary as the streams'
 * ABAC tags). A pii product's table is tagged pii and its other columns confidential, so that an
 * expression without pii reaches exactly them; partition columns are paths, never pii.
 */
export function lakeTags(product: AtRestProduct): {
  readonly databaseTags: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly columns: readonly { readonly name: string; readonly tags: Readonly<Record<string, string>> }[];
} {
  const pii = product.classification === Classification.Pii;
  const columnTags = (column: Column): Record<string, string> =>
    pii && !column.pii ? { [TagKeys.Classification]: Classification.Confidential } : {};
  return {
    databaseTags: { [TagKeys.Domain]: product.domain },
    tags: {
      [TagKeys.Domain]: product.domain,
      [TagKeys.Product]: product.ref,
      [TagKeys.Classification]: product.classification,
    },
    columns: [...product.columns, ...product.partitionKeys].map((column) => ({
      name: column.name,
      tags: columnTags(column),
    })),
  };
}

/**
 * The declared tables and at-rest subscriptions in the form the policy pack's
 * `lakeFormationAccess` setting takes: what `lakeformation-grants-declared` checks each grant
 * against. Partition columns are readable by every subscriber (they are paths, not data).
 */
export function lakeFormationAccess(
  products: readonly AtRestProduct[],
  subscriptions: readonly AtRestSubscription[],
  catalogAccountId: string,
) {
  return {
    catalogAccountId,
    tables: products.map((product) => ({
      product: product.ref,
      accountId: product.accountId,
      database: product.database,
      table: product.table,
      ...lakeTags(product),
    })),
    subscriptions: subscriptions.map((subscription) => ({
      ref: subscription.ref,
      accountId: subscription.accountId,
      product: subscription.product.ref,
      columns: [...subscription.columns, ...subscription.product.partitionKeys.map((column) => column.name)],
    })),
  };
}

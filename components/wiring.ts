import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../platform/config";
import type { Statement } from "../platform/iam";
import type { Domain } from "../platform/mesh";
import type { AtRestReader } from "./at-rest-access";
import type { PublishedTable } from "./data-product-domain";

/** What a consumer handler needs beyond its stream: the variables it reads and the calls it makes. */
export interface HandlerWiring {
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Least-privilege statements for the handler's own calls (Personalize, Firehose, ...). */
  readonly statements?: readonly Statement[];
}

/** One of the domain's own stream products, as the domain's infrastructure writes to or reads it. */
export interface ProductStream {
  readonly streamArn: pulumi.Output<string>;
  readonly streamName: pulumi.Output<string>;
  /** The product's customer-managed key (a writer needs kms:GenerateDataKey on it). */
  readonly keyArn: pulumi.Output<string>;
}

/**
 * Everything a domain's own infrastructure is built with, in the domain's account. The program
 * creates it after the domain's `StreamingDomain` (so `products` is complete) and before its
 * `ConsumerDomain` (so the returned handler wiring can be applied).
 */
export interface DomainInfraContext {
  readonly domain: Domain;
  readonly config: StackConfig;
  readonly provider: aws.Provider;
  readonly tags: Readonly<Record<string, string>>;
  /** The domain's customer-managed data key (stores, buckets, tables, indexes, backups). */
  readonly dataKeyArn: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;
  /** Protect and retain stateful resources (prod). */
  readonly protect: boolean;
  /** The domain's own stream products by product name (`user-events`); empty for a pure consumer. */
  readonly products: Readonly<Record<string, ProductStream>>;
  /** The domain's at-rest subscriptions by subscription name: reader role and resource link. */
  readonly atRest: Readonly<Record<string, AtRestReader>>;
  /** The domain's own products at rest by product name (`users`): table and bucket. */
  readonly tables: Readonly<Record<string, PublishedTable>>;
}

/** What a domain's own infrastructure hands back to the program. */
export interface DomainInfraResult {
  /** Wiring of the domain's subscriptions by subscription name; a producer has none. */
  readonly handlers?: Readonly<Record<string, HandlerWiring>>;
  /** Added to the domain's stack outputs (`domains.<name>`), for other units and operators. */
  readonly outputs?: Readonly<Record<string, pulumi.Input<unknown>>>;
}

/**
 * A domain's own infrastructure (stores, Personalize, OpenSearch, APIs, relays), producer or
 * consumer. Called once per deployed domain that has an entry in the program's infra map.
 */
export type DomainInfra = ((context: DomainInfraContext) => DomainInfraResult) & {
  /**
   * Names of the roles this infrastructure writes the domain's stream products with (an outbox
   * relay), known before it is built: the streams' policies and keys let them write, besides the
   * producer role, and nobody else.
   */
  readonly streamWriterRoles?: (domain: Domain) => readonly string[];
};

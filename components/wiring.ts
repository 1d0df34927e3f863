import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../platform/config";
import type { Statement } from "../platform/iam";
import type { Domain } from "../platform/mesh";

/** What a consumer handler needs beyond its stream: the variables it reads and the calls it makes. */
export interface HandlerWiring {
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Least-privilege statements for the handler's own calls (Personalize, Firehose, ...). */
  readonly statements?: readonly Statement[];
}

/** Everything a domain's own infrastructure is built with, in the domain's account. */
export interface DomainInfraContext {
  readonly domain: Domain;
  readonly config: StackConfig;
  readonly provider: aws.Provider;
  readonly tags: Readonly<Record<string, string>>;
  /** The domain's customer-managed data key (failure bucket, tables, indexes, backups). */
  readonly dataKeyArn: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;
  /** Protect and retain stateful resources (prod). */
  readonly protect: boolean;
}

/**
 * A consumer domain's own infrastructure (Personalize, OpenSearch, APIs), created before its
 * subscriptions so that each handler can be wired to it. Returns the wiring by subscription name.
 */
export type DomainInfra = (context: DomainInfraContext) => {
  readonly handlers: Readonly<Record<string, HandlerWiring>>;
  readonly outputs?: Readonly<Record<string, pulumi.Input<unknown>>>;
};

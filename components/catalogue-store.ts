import * as pulumi from "@pulumi/pulumi";
import { createCatalogueTable } from "./catalogue-table";
import { producerEtlJob, type ProducerTransform } from "./etl-job";
import { OutboxRelay } from "./outbox-relay";
import type { DomainInfra, DomainInfraContext } from "./wiring";

export const CATALOGUE_STORE_TYPE = "mesh:store:CatalogueStore";

export interface CatalogueStoreArgs {
  /** The domain's context: account, key, alarms, its products' streams. */
  readonly context: DomainInfraContext;
  /** Absolute path of the domain's relay handler (it compiles in the domain's contracts). */
  readonly relayEntry: string;
}

/**
 * A catalogue service's store and its outbox relay: the DynamoDB table (`catalogue-table.ts`) the
 * service writes its items and their events to in one transaction (`runtime/outbox.ts`), and the
 * relay that publishes those events to every stream product of the domain.
 */
export class CatalogueStore extends pulumi.ComponentResource {
  public readonly tableName: pulumi.Output<string>;
  public readonly tableArn: pulumi.Output<string>;
  public readonly relayFunctionName: pulumi.Output<string>;

  constructor(name: string, args: CatalogueStoreArgs, opts: pulumi.ComponentResourceOptions) {
    const { context } = args;
    const products = context.domain.products.map((product) => {
      const stream = context.products[product.name];
      if (!stream) {
        throw new Error(`CatalogueStore ${name}: no stream for ${product.ref} in the domain's context`);
      }
      return { name: product.name, ref: product.ref, streamArn: stream.streamArn, keyArn: stream.keyArn };
    });
    if (products.length === 0) {
      throw new Error(`CatalogueStore ${name}: domain ${context.domain.name} publishes no stream product`);
    }
    super(CATALOGUE_STORE_TYPE, name, {}, opts);

    const domain = context.domain.name;
    const tableName = `mesh-${domain}-catalogue`;
    const table = createCatalogueTable(
      `${name}-table`,
      { tableName, kmsKeyArn: context.dataKeyArn, protect: context.protect, tags: context.tags },
      { parent: this },
    );
    const relay = new OutboxRelay(
      `${name}-outbox-relay`,
      {
        functionName: relayName(domain),
        entry: args.relayEntry,
        accountId: context.domain.accountId,
        region: context.config.region,
        tableName,
        tableArn: table.arn,
        tableStreamArn: table.streamArn,
        dataKeyArn: context.dataKeyArn,
        products,
        alarmTopicArn: context.alarmTopicArn,
        protect: context.protect,
        tags: context.tags,
      },
      { parent: this, provider: context.provider },
    );

    this.tableName = table.name;
    this.tableArn = table.arn;
    this.relayFunctionName = relay.functionName;
    this.registerOutputs({
      tableName: this.tableName,
      tableArn: this.tableArn,
      relayFunctionName: this.relayFunctionName,
    });
  }
}

/** The relay's function and role name: it writes the domain's streams. */
const relayName = (domain: string) => `mesh-${domain}-outbox-relay`;

/**
 * A domain's infrastructure that is a catalogue store with its outbox relay, and the ETL job that
 * exports the table (DynamoDB export, no read capacity used) into the domain's product at rest.
 */
export function catalogueStoreInfra(relayEntry: string, transform: ProducerTransform): DomainInfra {
  const build = (context: DomainInfraContext) => {
    const store = new CatalogueStore(
      `${context.domain.name}-catalogue`,
      { context, relayEntry },
      { provider: context.provider },
    );
    const etl = producerEtlJob(context, transform, { kind: "dynamodb-export", tableArn: store.tableArn });
    return {
      outputs: {
        etlJob: etl.jobName,
        catalogueTable: store.tableName,
        catalogueTableArn: store.tableArn,
        outboxRelay: store.relayFunctionName,
      },
    };
  };
  return Object.assign(build, { streamWriterRoles: (domain: { name: string }) => [relayName(domain.name)] });
}

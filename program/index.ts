import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { AtRestAccess, type TableLocation } from "../components/at-rest-access";
import { createLakeSettings, MeshCatalog } from "../components/catalog";
import { DataProductDomain, type PublishedTable } from "../components/data-product-domain";
import { AlarmTopic } from "../components/alarm-topic";
import { ApiGatewayLogging } from "../components/api-gateway-logging";
import { ConsumerDomain } from "../components/consumer-domain";
import { holdBundling } from "../components/lambda";
import { glueLogsGrant } from "../components/etl-job";
import { BREAK_GLASS_ROLE_NAME, createMeshKey } from "../components/kms";
import type { DomainInfra } from "../components/wiring";
import { domainInfra } from "../domains/infra";
import { MeshGovernance } from "../components/governance";
import { StreamingDomain, type PublishedProduct } from "../components/streaming-domain";
import { domains } from "../domains";
import { AccountProviders } from "../platform/accounts";
import { CONFIG_NAMESPACE, deployRoleArn, PLATFORM_UNIT, stackReferenceName } from "../platform/config";
import { AccessPattern, type DomainDeclaration } from "../platform/declarations";
import { loadMesh, MeshConfigError, type Mesh } from "../platform/mesh";
import { handlerProblems } from "./handlers";
import { unitTags } from "../platform/tags";

/**
 * The `mesh:*` keys of a stack's config without their namespace, structured values parsed: what
 * `parseMeshConfig` reads. Accepts the runtime's config (JSON strings) and a stack file's (values).
 */
export function readStackConfigFrom(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const [namespace, name] = key.split(":");
    if (namespace !== CONFIG_NAMESPACE || !name) continue;
    if (typeof value !== "string") {
      raw[name] = value;
      continue;
    }
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  return raw;
}

/** Stack config as the program sees it under the Pulumi runtime. */
export function readStackConfig(): Record<string, unknown> {
  return readStackConfigFrom(pulumi.runtime.allConfig());
}

/** Stack outputs another unit's stack reads with `requireOutput`. */
export interface UnitOutputs {
  platform?: { auditorRoleArn: pulumi.Output<string>; tagGuardScp: pulumi.Output<string> };
  products?: Record<string, PublishedProduct>;
  consumers?: Record<string, Record<string, unknown>>;
  /** Products at rest by ref: where consumers' resource links and grants point. */
  atRest?: Record<string, PublishedTable>;
  /** Outputs of each domain's own infrastructure (stores, Personalize, APIs), by domain. */
  domains?: Record<string, Record<string, unknown>>;
  /** Each deployed domain's alarm topic ARN, by domain. */
  alarmTopics?: Record<string, pulumi.Output<string>>;
}

/**
 * Values this stack needs from units it does not deploy, read from their stacks. Throws (through
 * `requireOutput`) when the other stack has not exported them yet, naming the stack and output.
 */
class PeerStacks {
  private readonly references = new Map<string, pulumi.StackReference>();
  constructor(private readonly mesh: Mesh) {}

  private stack(unit: string): pulumi.StackReference {
    let reference = this.references.get(unit);
    if (!reference) {
      const name = stackReferenceName(this.mesh.config.stackReferencePattern, {
        organization: pulumi.getOrganization(),
        project: pulumi.getProject(),
        environment: this.mesh.config.environment,
        unit,
      });
      reference = new pulumi.StackReference(`peer-${unit}`, { name });
      this.references.set(unit, reference);
    }
    return reference;
  }

  auditorRoleArn(): pulumi.Output<string> {
    return this.stack(PLATFORM_UNIT)
      .requireOutput("platform")
      .apply((platform: { auditorRoleArn: string }) => platform.auditorRoleArn);
  }

  product(domain: string, ref: string): PublishedProduct {
    const output = this.stack(domain)
      .requireOutput("products")
      .apply((products: Record<string, Record<string, unknown>>) => {
        const product = products[ref];
        if (!product) throw new Error(`stack of unit ${domain} does not export product ${ref}`);
        return product as {
          streamArn: string;
          streamName: string;
          keyArn: string;
          efoConsumerArns: Record<string, string>;
        };
      });
    return {
      streamArn: output.streamArn,
      streamName: output.streamName,
      keyArn: output.keyArn,
      efoConsumerArns: output.efoConsumerArns,
    };
  }

  /** A product's table at rest, from the producer's stack: its share to this account exists then. */
  table(domain: string, ref: string): TableLocation {
    const output = this.stack(domain)
      .requireOutput("atRest")
      .apply((tables: Record<string, TableLocation>) => {
        const table = tables[ref];
        if (!table) throw new Error(`stack of unit ${domain} does not export table ${ref}`);
        return table as { catalogId: string; database: string; table: string };
      });
    return { catalogId: output.catalogId, database: output.database, table: output.table };
  }
}

/**
 * The program: stack config -> mesh -> the units this stack deploys. A broken declaration throws
 * before any resource is registered.
 *
 * Domains are made one turn of the event loop apart ({@link nextDomain}), and the handlers of all
 * of them bundled in one esbuild call once every resource is made ({@link holdBundling}).
 */
export async function deployMesh(
  declarations: readonly DomainDeclaration[] = domains,
  infra: Readonly<Record<string, DomainInfra>> = domainInfra,
  /** Folder of the domain folders holding the handlers. @default the repository's `domains/` */
  domainsRoot?: string,
): Promise<UnitOutputs> {
  const release = holdBundling();
  try {
    return await deployUnits(declarations, infra, domainsRoot);
  } finally {
    release();
  }
}

/**
 * Lets the SDK register what the previous domain made before the next domain's resources are
 * made. Each resource holds a few dozen promises and outputs until it is registered; made all at
 * once, a mesh's resources all hold them at the same time (2.6 GB for 200 domains under the mock
 * runtime, docs/consumer-performance.md), made a domain at a time, only about one domain's do.
 * The resources, their order and their inputs are the same either way.
 */
function nextDomain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function deployUnits(
  declarations: readonly DomainDeclaration[],
  infra: Readonly<Record<string, DomainInfra>>,
  domainsRoot: string | undefined,
): Promise<UnitOutputs> {
  const mesh = loadMesh(readStackConfig(), declarations);
  const handlers = handlerProblems(mesh, domainsRoot ?? join(__dirname, "..", "domains"));
  if (handlers.length) throw new MeshConfigError(handlers);
  const providers = new AccountProviders(mesh.config);
  const peers = new PeerStacks(mesh);
  const outputs: UnitOutputs = {};

  let auditorRoleArn: pulumi.Output<string> | undefined;
  if (mesh.units.has(PLATFORM_UNIT)) {
    const governance = new MeshGovernance(
      PLATFORM_UNIT,
      { mesh },
      { provider: providers.get(PLATFORM_UNIT) },
    );
    auditorRoleArn = governance.auditorRoleArn;
    outputs.platform = { auditorRoleArn, tagGuardScp: governance.tagGuardScp };
    if (mesh.atRestProducts.length) {
      new MeshCatalog(
        `${PLATFORM_UNIT}-catalog`,
        { products: mesh.atRestProducts, admins: [deployRoleArn(mesh.config, PLATFORM_UNIT)] },
        { provider: providers.get(PLATFORM_UNIT) },
      );
    }
  }

  const products: Record<string, PublishedProduct> = {};
  const deployed = mesh.domains.filter((d) => mesh.units.has(d.name));
  const alarms = new Map(
    deployed.map((domain) => [
      domain.name,
      new AlarmTopic(
        `${domain.name}-alarms`,
        {
          accountId: domain.accountId,
          tags: unitTags(mesh.config, domain.name),
          protect: mesh.config.protectStateful,
          keyAdministrators: [
            deployRoleArn(mesh.config, domain.accountAlias),
            `arn:aws:iam::${domain.accountId}:role/${BREAK_GLASS_ROLE_NAME}`,
          ],
          subscribers: {
            owner: domain.declaration.owner.contact,
            ...(mesh.config.platformAlarmContact ? { platform: mesh.config.platformAlarmContact } : {}),
          },
        },
        { provider: providers.get(domain.accountAlias) },
      ),
    ]),
  );
  // API Gateway's CloudWatch role is one setting per account: once for every account with a push channel.
  const pushAccounts = new Set(
    deployed
      .filter((d) => d.subscriptions.some((s) => s.access.pattern === AccessPattern.PushWithoutReplay))
      .map((d) => d.accountAlias),
  );
  const apiGatewayLogging = new Map(
    [...pushAccounts].map((alias) => [
      alias,
      new ApiGatewayLogging(
        `${alias}-apigateway-logging`,
        {
          accountId: mesh.config.accounts[alias]!.id,
          region: mesh.config.region,
          tags: unitTags(mesh.config, deployed.find((d) => d.accountAlias === alias)!.name),
        },
        { provider: providers.get(alias) },
      ).account,
    ]),
  );
  for (const domain of deployed.filter((d) => d.products.length)) {
    await nextDomain();
    const streaming = new StreamingDomain(
      domain.name,
      {
        domain,
        subscriptions: mesh.subscriptions.filter((s) => s.product.domain === domain.name),
        config: mesh.config,
        auditorRoleArn: auditorRoleArn ?? peers.auditorRoleArn(),
        alarmTopicArn: alarms.get(domain.name)!.topicArn,
        writerRoleArns: (infra[domain.name]?.streamWriterRoles?.(domain) ?? []).map(
          (role) => `arn:aws:iam::${domain.accountId}:role/${role}`,
        ),
      },
      { provider: providers.get(domain.accountAlias) },
    );
    Object.assign(products, streaming.products);
  }

  // Each domain's data key and data at rest come after every stream of this stack (a stream
  // product's at-rest copy is landed from it); then each domain's own infrastructure (a producer's
  // stores and relays write to its streams) and its subscriptions, which that infrastructure wires.
  const tables: Record<string, PublishedTable> = {};
  const dataKeys = new Map<string, aws.kms.Key>();
  const lakeSettings = new Map<string, aws.lakeformation.DataLakeSettings>();
  for (const domain of deployed) {
    await nextDomain();
    const hasData = [
      domain.products,
      domain.subscriptions,
      domain.atRestProducts,
      domain.atRestSubscriptions,
    ];
    if (!hasData.some((list) => list.length) && !infra[domain.name]) continue;
    const provider = providers.get(domain.accountAlias);
    const tags = unitTags(mesh.config, domain.name);
    const dataKey = createMeshKey(
      `${domain.name}-data-key`,
      {
        description: `Encrypts ${domain.name}'s own data`,
        accountId: domain.accountId,
        grants: [glueLogsGrant(mesh.config.region, domain.accountId)],
        tags,
      },
      mesh.config.protectStateful ? { provider, protect: true, retainOnDelete: true } : { provider },
    );
    dataKeys.set(domain.name, dataKey);
    if (!domain.atRestProducts.length && !domain.atRestSubscriptions.length) continue;
    // The account's own stack makes its deploy role the Lake Formation admin that writes its grants.
    const settings = createLakeSettings(
      `${domain.name}-lake-settings`,
      [deployRoleArn(mesh.config, domain.accountAlias)],
      { provider },
    );
    lakeSettings.set(domain.name, settings);
    if (!domain.atRestProducts.length) continue;
    const data = new DataProductDomain(
      domain.name,
      {
        domain,
        subscriptions: mesh.atRestSubscriptions.filter((s) => s.product.domain === domain.name),
        config: mesh.config,
        dataKeyArn: dataKey.arn,
        platformAccountId: mesh.config.accounts[PLATFORM_UNIT]!.id,
        streams: Object.fromEntries(domain.products.map((p) => [p.ref, products[p.ref]!])),
        tags,
      },
      { provider, dependsOn: [settings] },
    );
    Object.assign(tables, data.tables);
  }

  const domainOutputs: Record<string, Record<string, unknown>> = {};
  const consumers: Record<string, Record<string, unknown>> = {};
  for (const domain of deployed) {
    await nextDomain();
    const build = infra[domain.name];
    const dataKey = dataKeys.get(domain.name);
    if (!dataKey) continue;
    const provider = providers.get(domain.accountAlias);
    const tags = unitTags(mesh.config, domain.name);
    const access = domain.atRestSubscriptions.length
      ? new AtRestAccess(
          domain.name,
          {
            domain,
            region: mesh.config.region,
            tables: Object.fromEntries(
              domain.atRestSubscriptions.map((s) => [
                s.product.ref,
                tables[s.product.ref] ?? peers.table(s.product.domain, s.product.ref),
              ]),
            ),
            tags,
          },
          { provider, dependsOn: [lakeSettings.get(domain.name)!] },
        )
      : undefined;
    const alarmTopicArn = alarms.get(domain.name)!.topicArn;
    const built = build?.({
      domain,
      config: mesh.config,
      provider,
      tags,
      dataKeyArn: dataKey.arn,
      alarmTopicArn,
      protect: mesh.config.protectStateful,
      products: Object.fromEntries(domain.products.map((p) => [p.name, products[p.ref]!])),
      atRest: access?.readers ?? {},
      tables: Object.fromEntries(domain.atRestProducts.map((p) => [p.name, tables[p.ref]!])),
    });
    if (built?.outputs) domainOutputs[domain.name] = { ...built.outputs };
    if (!domain.subscriptions.length) continue;
    const subscribed = Object.fromEntries(
      domain.subscriptions.map((s) => [
        s.product.ref,
        products[s.product.ref] ?? peers.product(s.product.domain, s.product.ref),
      ]),
    );
    const consumer = new ConsumerDomain(
      domain.name,
      {
        domain,
        config: mesh.config,
        products: subscribed,
        dataKeyArn: dataKey.arn,
        alarmTopicArn,
        handlers: built?.handlers,
        domainsRoot,
        apiGatewayLogging: apiGatewayLogging.get(domain.accountAlias),
      },
      { provider },
    );
    consumers[domain.name] = {
      functions: consumer.functionNames,
      failureBucket: consumer.failureBucketName,
      pushEndpoints: consumer.pushEndpoints,
    };
  }
  // Each domain's alarm topic, for the platform's or the teams' own tooling to subscribe to.
  if (alarms.size)
    outputs.alarmTopics = Object.fromEntries([...alarms].map(([d, topic]) => [d, topic.topicArn]));
  if (Object.keys(tables).length) outputs.atRest = tables;
  if (Object.keys(domainOutputs).length) outputs.domains = domainOutputs;
  if (Object.keys(consumers).length) outputs.consumers = consumers;
  if (Object.keys(products).length) outputs.products = products;
  return outputs;
}

import * as pulumi from "@pulumi/pulumi";
import { AlarmTopic } from "../components/alarm-topic";
import { MeshGovernance } from "../components/governance";
import { StreamingDomain, type PublishedProduct } from "../components/streaming-domain";
import { domains } from "../domains";
import { AccountProviders } from "./accounts";
import { CONFIG_NAMESPACE, PLATFORM_UNIT } from "./config";
import type { DomainDeclaration } from "./declarations";
import { loadMesh, type Mesh } from "./mesh";
import { unitTags } from "./tags";

/** Stack config as the program sees it: every `mesh:*` key, structured values parsed from JSON. */
export function readStackConfig(): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [namespace, name] = key.split(":");
    if (namespace !== CONFIG_NAMESPACE || !name) continue;
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  return raw;
}

/** Stack outputs another unit's stack reads with `requireOutput`. */
export interface UnitOutputs {
  platform?: { auditorRoleArn: pulumi.Output<string> };
  products?: Record<string, PublishedProduct>;
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
      const name = this.mesh.config.stackReferencePattern!.replace("{unit}", unit);
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
}

/**
 * The program: stack config -> mesh -> the units this stack deploys. A broken declaration throws
 * before any resource is registered.
 */
export function deployMesh(declarations: readonly DomainDeclaration[] = domains): UnitOutputs {
  const mesh = loadMesh(readStackConfig(), declarations);
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
    outputs.platform = { auditorRoleArn };
  }

  const products: Record<string, PublishedProduct> = {};
  for (const domain of mesh.domains.filter((d) => mesh.units.has(d.name))) {
    const provider = providers.get(domain.accountAlias);
    const alarms = new AlarmTopic(
      `${domain.name}-alarms`,
      { accountId: domain.accountId, tags: unitTags(mesh.config, domain.name) },
      { provider },
    );
    if (domain.products.length) {
      const streaming = new StreamingDomain(
        domain.name,
        {
          domain,
          subscriptions: mesh.subscriptions.filter((s) => s.product.domain === domain.name),
          config: mesh.config,
          auditorRoleArn: auditorRoleArn ?? peers.auditorRoleArn(),
          alarmTopicArn: alarms.topicArn,
        },
        { provider },
      );
      Object.assign(products, streaming.products);
    }
  }
  if (Object.keys(products).length) outputs.products = products;
  return outputs;
}

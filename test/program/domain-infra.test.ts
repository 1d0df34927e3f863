import * as aws from "@pulumi/aws";
import { strict as assert } from "node:assert";
import { z } from "zod";
import type { DomainInfra, DomainInfraContext } from "../../components/wiring";
import { deployMesh } from "../../program";
import { defineContract } from "../../platform/contract";
import { defineDomain } from "../../platform/declarations";
import { evaluateProgram, type Evaluation } from "../../tooling/evaluate";
import { stackFile } from "../helpers/stacks";

const SONGS = "210987654323";
const ANALYTICS = "210987654327";

const trackEvents = defineContract("catalogue.track-events", [
  { version: 1, events: { "track.added": z.object({ trackId: z.string().min(1), title: z.string() }) } },
]);

/** A producer with its own store and a consumer without any own infrastructure. */
const FIXTURE = [
  defineDomain({
    name: "catalogue",
    description: "A fixture producer.",
    owner: { team: "t", contact: "t@example.com" },
    account: "songs",
    products: [
      {
        kind: "stream",
        name: "track-events",
        description: "Tracks.",
        contract: trackEvents,
        partitionKey: "trackId",
        capacity: { mode: "on-demand" },
        classification: "public",
      },
    ],
    subscriptions: [],
  }),
  defineDomain({
    // Handlers are bundled from domains/<name>/: borrow a real one.
    name: "analytics",
    description: "A fixture consumer.",
    owner: { team: "t", contact: "t@example.com" },
    account: "analytics",
    products: [],
    subscriptions: [
      {
        name: "tracks",
        product: "catalogue/track-events",
        handler: "handlers/interactions-ingestor.ts",
        access: { pattern: "shared-replay" },
      },
    ],
  }),
];

describe("a domain's own infrastructure (DomainInfra)", () => {
  let contexts: DomainInfraContext[];
  let run: Evaluation;
  before(async () => {
    contexts = [];
    // A producer's store that records the stream it relays to: what an outbox relay would need.
    const catalogueInfra: DomainInfra = (context) => {
      contexts.push(context);
      const product = context.products["track-events"]!;
      const store = new aws.sns.Topic(
        "catalogue-store",
        { kmsMasterKeyId: context.dataKeyArn, tags: { ...context.tags, relaysTo: product.streamName } },
        { provider: context.provider },
      );
      return { outputs: { storeArn: store.arn } };
    };
    run = await evaluateProgram({
      stack: "dev",
      config: stackFile("dev"),
      program: () => deployMesh(FIXTURE, { catalogue: catalogueInfra }),
    });
  });

  it("builds a producer's infrastructure in its account with its data key and its products' streams", () => {
    assert.equal(contexts.length, 1);
    assert.equal(contexts[0]!.domain.name, "catalogue");
    assert.deepEqual(Object.keys(contexts[0]!.products), ["track-events"]);
    const store = run.resources.find((r) => r.name === "catalogue-store")!;
    assert.equal(store.account, SONGS);
    assert.equal((store.inputs.tags as Record<string, string>).relaysTo, "catalogue.track-events");
    const key = run.resources.find((r) => r.name === "catalogue-data-key")!;
    assert.equal(key.account, SONGS);
    assert.match(String(store.inputs.kmsMasterKeyId), /catalogue-data-key/);
  });

  it("creates the producer's infrastructure after its streams", () => {
    const names = run.resources.map((r) => r.name);
    assert.ok(names.indexOf("catalogue-track-events-stream") < names.indexOf("catalogue-store"));
  });

  it("gives every domain with products or subscriptions its data key, in its own account", () => {
    const keys = run.resources
      .filter((r) => r.type === "aws:kms/key:Key" && r.name.endsWith("-data-key"))
      .map((r) => [r.name, r.account]);
    assert.deepEqual(keys, [
      ["catalogue-data-key", SONGS],
      ["analytics-data-key", ANALYTICS],
    ]);
  });

  it("exports the infrastructure's outputs under domains.<name>", async () => {
    const outputs = run.outputs as { domains?: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(outputs.domains ?? {}), ["catalogue"]);
    assert.match(String(outputs.domains!.catalogue!.storeArn), /catalogue-store/);
  });
});

import { strict as assert } from "node:assert";
import { z } from "zod";
import { defineContract } from "../../platform/contract";
import type { DomainDeclaration, FilterRule, StreamProductDeclaration } from "../../platform/declarations";
import { parseMeshConfig, type ParseResult } from "../../platform/mesh";
import { domains } from "../../domains";
import { fixtureConfig, fixtureDomains } from "../fixtures/mesh";
import { meshConfig } from "../helpers/stacks";

const problemsOf = (result: ParseResult): string[] => (result.ok ? [] : result.problems);

function withDomain(
  name: string,
  change: (domain: DomainDeclaration) => DomainDeclaration,
): DomainDeclaration[] {
  return fixtureDomains.map((domain) => (domain.name === name ? change(domain) : domain));
}

function withProduct(
  domainName: string,
  change: (product: StreamProductDeclaration) => StreamProductDeclaration,
): DomainDeclaration[] {
  return withDomain(domainName, (domain) => ({
    ...domain,
    products: domain.products.map((product) => (product.kind === "stream" ? change(product) : product)),
  }));
}

describe("parseMeshConfig", () => {
  it("accepts the shipped dev and prod stacks with every domain, each a unit", () => {
    for (const stack of ["dev", "prod"] as const) {
      const result = parseMeshConfig(meshConfig(stack), domains);
      assert.deepEqual(problemsOf(result), [], stack);
      assert.ok(result.ok);
      assert.deepEqual([...result.mesh.units].sort(), ["platform", ...domains.map((d) => d.name)].sort());
    }
  });

  it("requires the push token's hash when the stack deploys a push subscription, naming the command", () => {
    const { pushTokenSha256: _, ...config } = fixtureConfig("dev");
    assert.deepEqual(problemsOf(parseMeshConfig(config, fixtureDomains)), [
      "config.pushTokenSha256: required because this stack deploys the push subscription(s) analytics/live-feed; set the hex SHA-256 of the subscribers' token with pulumi config set --secret mesh:pushTokenSha256 <hash>",
    ]);
    assert.deepEqual(problemsOf(parseMeshConfig({ ...config, units: ["songs"] }, fixtureDomains)), []);
  });

  it("accepts the fixture's dev and prod stacks with every domain", () => {
    for (const stack of ["dev", "prod"] as const) {
      const result = parseMeshConfig(fixtureConfig(stack), fixtureDomains);
      assert.deepEqual(problemsOf(result), [], stack);
      assert.ok(result.ok);
      assert.equal(result.mesh.domains.length, 6);
      assert.equal(result.mesh.products.length, 4);
      assert.equal(result.mesh.subscriptions.length, 6);
      assert.deepEqual([...result.mesh.units].sort(), [
        "analytics",
        "interactions",
        "platform",
        "podcasts",
        "recommendations",
        "songs",
        "users",
      ]);
    }
  });

  it("resolves products and subscriptions with their accounts, names and delivery defaults", () => {
    const result = parseMeshConfig(fixtureConfig("dev"), fixtureDomains);
    assert.ok(result.ok);
    const interactions = result.mesh.products.find((p) => p.ref === "interactions/interaction-events")!;
    assert.equal(interactions.accountId, "210987654325");
    assert.equal(interactions.streamName, "interactions.interaction-events");
    assert.equal(
      interactions.streamArn,
      "arn:aws:kinesis:eu-west-1:210987654325:stream/interactions.interaction-events",
    );
    const ingestor = result.mesh.subscriptions.find((s) => s.ref === "analytics/interactions-ingestor")!;
    assert.equal(ingestor.roleArn, "arn:aws:iam::210987654327:role/mesh-analytics-interactions-ingestor");
    assert.deepEqual(ingestor.delivery, {
      startingPosition: "TRIM_HORIZON",
      batchSize: 500,
      batchingWindowSeconds: 5,
      maxRetryAttempts: 5,
      maxRecordAgeSeconds: 21600,
      parallelizationFactor: 1,
      bisectOnError: true,
      timeoutSeconds: 60,
    });
  });

  it("names an unknown account alias with the known ones", () => {
    const result = parseMeshConfig(
      fixtureConfig(),
      withDomain("songs", (d) => ({ ...d, account: "music" })),
    );
    assert.deepEqual(problemsOf(result), [
      "domains.songs.account: unknown account alias music (known: platform, users, songs, podcasts, interactions, recommendations, analytics)",
    ]);
  });

  it("rejects a malformed account id and a missing platform account", () => {
    const config = fixtureConfig();
    const accounts = { ...(config.accounts as Record<string, unknown>), users: { id: "12345" } };
    delete (accounts as Record<string, unknown>).platform;
    const problems = problemsOf(parseMeshConfig({ ...config, accounts }, fixtureDomains));
    assert.ok(
      problems.includes("config.accounts.users.id: must be a 12-digit AWS account id"),
      problems.join("\n"),
    );
    assert.ok(problems.includes("config.accounts: must include the platform account"), problems.join("\n"));
  });

  it("rejects unknown config keys, so a typo is not silently ignored", () => {
    const problems = problemsOf(parseMeshConfig({ ...fixtureConfig(), retentionHour: 48 }, fixtureDomains));
    assert.deepEqual(problems, ['config: Unrecognized key: "retentionHour"']);
  });

  it("rejects duplicate domain and product names", () => {
    const songs = fixtureDomains.find((d) => d.name === "songs")!;
    const duplicated = [...fixtureDomains, songs];
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), duplicated)), [
      "domains.songs.name: duplicate domain name songs",
    ]);
    const twoProducts = withDomain("songs", (d) => ({ ...d, products: [d.products[0]!, d.products[0]!] }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), twoProducts)), [
      "domains.songs.products[1].name: duplicate product name song-events in domain songs",
    ]);
  });

  it("rejects a subscription to a product that does not exist", () => {
    const declarations = withDomain("analytics", (d) => ({
      ...d,
      subscriptions: [{ ...d.subscriptions[0]!, product: "interactions/clicks" }],
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      "domains.analytics.subscriptions[0].product: no data product interactions/clicks in the mesh",
    ]);
  });

  it("rejects a filter on a field or event type the contract does not have", () => {
    const declarations = withDomain("analytics", (d) => ({
      ...d,
      subscriptions: [
        {
          ...d.subscriptions[0]!,
          access: {
            pattern: "filtered" as const,
            filters: [
              { eventTypes: ["interaction.play"], where: { listenedMs: { numeric: [">=", 30000] } } },
              { eventTypes: ["interaction.share"] },
              { where: { sessionId: { numeric: [">", 1] } } },
            ] as FilterRule[],
          },
        },
      ],
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      "domains.analytics.subscriptions[0].access.filters[0].where.listenedMs: not a field of interactions/interaction-events (interaction.play)",
      "domains.analytics.subscriptions[0].access.filters[1].eventTypes: interactions/interaction-events has no event type interaction.share",
      "domains.analytics.subscriptions[0].access.filters[2].where.sessionId: numeric condition on a field that is not a number",
    ]);
  });

  it("rejects filter values that can never match: of another type than the field, or outside its enum", () => {
    const declarations = withDomain("analytics", (d) => ({
      ...d,
      subscriptions: [
        {
          ...d.subscriptions[0]!,
          access: {
            pattern: "filtered" as const,
            filters: [
              { eventTypes: ["interaction.play"], where: { playedMs: { equals: "30000" } } },
              { where: { device: { anyOf: ["mobile", "tv"] } } },
              { where: { device: { prefix: "mob" }, userId: { prefix: "u-" } } },
            ] as FilterRule[],
          },
        },
      ],
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      'domains.analytics.subscriptions[0].access.filters[0].where.playedMs: "30000" can never match: the field is integer',
      'domains.analytics.subscriptions[0].access.filters[1].where.device: "tv" can never match: the field is one of "mobile", "web"',
    ]);
  });

  it("rejects a contract zod cannot express as JSON Schema, naming the event type, and goes on checking the rest", () => {
    const dated = defineContract("songs.song-events", [
      { version: 1, events: { "song.published": z.object({ songId: z.string(), at: z.date() }) } },
    ]);
    const declarations = withProduct("songs", (p) => ({ ...p, contract: dated })).map((d) =>
      d.name === "users" ? { ...d, account: "nowhere" } : d,
    );
    const problems = problemsOf(parseMeshConfig(fixtureConfig(), declarations));
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0]!, /^domains\.users\.account: unknown account alias nowhere/);
    assert.match(
      problems[1]!,
      /^domains\.songs\.products\[0\]\.contract\.versions\[0\]\.events\["song\.published"\]: cannot be published as JSON Schema \(.+\); use types JSON carries, e\.g\. z\.iso\.datetime\(\) instead of z\.date\(\), and no transforms$/,
    );
  });

  it("rejects more than five filters on one mapping", () => {
    const filter = { eventTypes: ["interaction.like"] };
    const declarations = withDomain("analytics", (d) => ({
      ...d,
      subscriptions: [
        { ...d.subscriptions[0]!, access: { pattern: "filtered" as const, filters: Array(6).fill(filter) } },
      ],
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      "domains.analytics.subscriptions[0].access.filters: at most 5 filters per mapping",
    ]);
  });

  it("rejects retention outside 24-8760 hours and below the environment's floor", () => {
    for (const retentionHours of [12, 9000]) {
      const declarations = withProduct("songs", (p) => ({ ...p, retentionHours }));
      assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
        "domains.songs.products[0].retentionHours: must be between 24 and 8760",
      ]);
    }
    const declarations = withProduct("songs", (p) => ({ ...p, retentionHours: 48 }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig("prod"), declarations)), [
      "domains.songs.products[0].retentionHours: 48 is below this environment's floor of 168",
    ]);
  });

  it("rejects a partition key that is not a required string field of every event type", () => {
    const declarations = withProduct("songs", (p) => ({ ...p, partitionKey: "artistId" }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      "domains.songs.products[0].partitionKey: artistId is not a required string field of song.updated",
    ]);
  });

  it("rejects a max record age longer than the stream keeps records", () => {
    const declarations = withDomain("recommendations", (d) => ({
      ...d,
      subscriptions: d.subscriptions.map((s) =>
        s.name === "songs-update" ? { ...s, delivery: { maxRecordAgeSeconds: 172800 } } : s,
      ),
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      "domains.recommendations.subscriptions[1].delivery.maxRecordAgeSeconds: 172800 s is longer than songs/song-events's retention of 24 h",
    ]);
  });

  describe("contract compatibility", () => {
    const v1 = {
      "song.published": z.object({ songId: z.string(), title: z.string(), durationMs: z.number() }),
    };
    const withVersions = (v2: Record<string, z.ZodObject>) =>
      withProduct("songs", (p) => ({
        ...p,
        contract: defineContract("songs.song-events", [
          { version: 1, events: v1 },
          { version: 2, events: v2 },
        ]),
      }));
    const prefix = "domains.songs.products[0].contract: version 2 breaks compatibility with version 1: ";

    it("accepts a new optional field", () => {
      const v2 = { "song.published": v1["song.published"].extend({ mood: z.string().optional() }) };
      assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), withVersions(v2))), []);
    });

    it("rejects a removed field", () => {
      const v2 = { "song.published": z.object({ songId: z.string(), title: z.string() }) };
      assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), withVersions(v2))), [
        `${prefix}song.published: field durationMs was removed`,
      ]);
    });

    it("rejects a type change", () => {
      const v2 = {
        "song.published": z.object({ songId: z.string(), title: z.string(), durationMs: z.string() }),
      };
      assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), withVersions(v2))), [
        `${prefix}song.published: field durationMs changed type from number to string`,
      ]);
    });

    it("rejects a new required field", () => {
      const v2 = { "song.published": v1["song.published"].extend({ mood: z.string() }) };
      assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), withVersions(v2))), [
        `${prefix}song.published: new required field mood`,
      ]);
    });

    it("rejects a removed event type", () => {
      assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), withVersions({}))), [
        "domains.songs.products[0].contract.versions[1].events: must declare at least one event type",
        `${prefix}event type song.published was removed`,
      ]);
    });
  });

  it("returns every problem at once, each with its path", () => {
    const declarations = fixtureDomains.map((d): DomainDeclaration => {
      const stream = d.products[0] as StreamProductDeclaration;
      if (d.name === "songs") return { ...d, products: [{ ...stream, retentionHours: 1 }] };
      if (d.name === "podcasts") return { ...d, products: [{ ...stream, partitionKey: "nope" }] };
      if (d.name === "users") return { ...d, account: "x" };
      if (d.name === "analytics")
        return { ...d, subscriptions: [{ ...d.subscriptions[0]!, product: "a/b" }] };
      return d;
    });
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), declarations)), [
      "domains.songs.products[0].retentionHours: must be between 24 and 8760",
      "domains.users.account: unknown account alias x (known: platform, users, songs, podcasts, interactions, recommendations, analytics)",
      "domains.podcasts.products[0].partitionKey: nope is not a required string field of episode.published",
      "domains.podcasts.products[0].partitionKey: nope is not a required string field of episode.updated",
      "domains.analytics.subscriptions[0].product: no data product a/b in the mesh",
    ]);
  });

  it("reports a malformed config and malformed domains together", () => {
    const problems = problemsOf(
      parseMeshConfig({ ...fixtureConfig(), organizationId: "acme" }, [
        ...fixtureDomains,
        { name: "Bad Domain" },
      ]),
    );
    assert.deepEqual(problems.slice(0, 2), [
      "config.organizationId: must be an AWS Organizations id (o-...)",
      "domains[6].name: must be lower-case words joined by hyphens",
    ]);
  });

  it("defaults the stack reference pattern to one that resolves on any backend, and requires known unit names", () => {
    const config = { ...fixtureConfig(), units: ["songs", "music"] };
    delete (config as Record<string, unknown>).stackReferencePattern;
    const result = parseMeshConfig({ ...config, units: ["songs"] }, fixtureDomains);
    assert.ok(result.ok);
    assert.equal(result.mesh.config.stackReferencePattern, "{organization}/{project}/{unit}-{environment}");
    assert.deepEqual(problemsOf(parseMeshConfig(config, fixtureDomains)), [
      "config.units[1]: unknown unit music (known: platform, users, songs, podcasts, interactions, recommendations, analytics)",
    ]);
    assert.deepEqual(
      problemsOf(
        parseMeshConfig({ ...fixtureConfig(), stackReferencePattern: "acme/mesh/dev" }, fixtureDomains),
      ),
      ["config.stackReferencePattern: must contain {unit}"],
    );
  });

  it("requires protection of stateful resources in prod", () => {
    assert.deepEqual(
      problemsOf(parseMeshConfig({ ...fixtureConfig("prod"), protectStateful: false }, fixtureDomains)),
      ["config.protectStateful: must be true in prod"],
    );
  });
});

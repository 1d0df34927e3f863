import { strict as assert } from "node:assert";
import type { DomainDeclaration, SubscriptionDeclaration } from "../../platform/declarations";
import { parseMeshConfig, type ParseResult } from "../../platform/mesh";
import { fixtureConfig, fixtureDomains } from "../fixtures/mesh";

const problemsOf = (result: ParseResult): string[] => (result.ok ? [] : result.problems);

function change(name: string, edit: (domain: DomainDeclaration) => DomainDeclaration): DomainDeclaration[] {
  return fixtureDomains.map((domain) => (domain.name === name ? edit(domain) : domain));
}

const subscribe = (domain: DomainDeclaration, ...added: SubscriptionDeclaration[]): DomainDeclaration => ({
  ...domain,
  subscriptions: [...domain.subscriptions, ...added],
});

const replay = (name: string, product: string): SubscriptionDeclaration => ({
  name,
  product,
  handler: "handler.ts",
  access: { pattern: "shared-replay" },
});

describe("declarations AWS would refuse or that break the mesh", () => {
  it("accepts the fixture mesh", () => {
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), fixtureDomains)), []);
  });

  it("refuses derived names longer than AWS accepts, per resource", () => {
    const long = "a".repeat(50);
    const domains = change("analytics", (domain) => subscribe(domain, replay(long, "songs/song-events")));
    const longProduct = change("songs", (domain) => ({
      ...domain,
      products: domain.products.map((p) => ({ ...p, name: `song-${"x".repeat(125)}` })),
    }));
    assert.deepEqual(
      problemsOf(parseMeshConfig(fixtureConfig(), domains)).filter((p) => p.includes("characters")),
      [
        `domains.analytics.subscriptions[2].name: IAM role name mesh-analytics-${long} is 65 characters, more than the 64 AWS accepts; shorten the names it is derived from`,
        `domains.analytics.subscriptions[2].name: Lambda function name mesh-analytics-${long} is 65 characters, more than the 64 AWS accepts; shorten the names it is derived from`,
      ],
    );
    const problems = problemsOf(parseMeshConfig(fixtureConfig(), longProduct));
    assert.ok(
      problems.some((p) =>
        /^domains\.songs\.products\[0\]\.name: Kinesis stream name songs\.song-x+ is 136 characters, more than the 128/.test(
          p,
        ),
      ),
    );
    assert.ok(problems.some((p) => /Glue schema name .* more than the 255/.test(p)) === false);
  });

  it("counts the push channel's own function names", () => {
    const name = "b".repeat(40); // mesh-analytics-<40> is 55 characters; -disconnect makes 66
    const domains = change("analytics", (domain) =>
      subscribe(domain, { ...replay(name, "songs/song-events"), access: { pattern: "push-without-replay" } }),
    );
    assert.deepEqual(
      problemsOf(parseMeshConfig(fixtureConfig(), domains)),
      ["authorizer", "disconnect"].map(
        (suffix) =>
          `domains.analytics.subscriptions[2].name: Lambda function name mesh-analytics-${name}-${suffix} is 66 characters, more than the 64 AWS accepts; shorten the names it is derived from`,
      ),
    );
  });

  it("refuses two aliases of one account id and a region that does not exist", () => {
    const config = fixtureConfig();
    const accounts = config.accounts as Record<string, { id: string }>;
    const problems = problemsOf(
      parseMeshConfig(
        {
          ...config,
          region: "eu-westeros-1",
          accounts: { ...accounts, analytics: { id: accounts.songs!.id } },
        },
        fixtureDomains,
      ),
    );
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(
      problems[0]!,
      /^config\.region: unknown region eu-westeros-1: must be a region of the aws partition \(.*eu-west-1.*\)$/,
    );
    assert.equal(
      problems[1],
      "config.accounts.analytics.id: account id 210987654323 is already the id of songs: each alias must be its own account",
    );
    assert.match(
      problemsOf(parseMeshConfig({ ...config, region: "cn-north-1" }, fixtureDomains))[0]!,
      /^config\.region: unknown region cn-north-1/,
    );
  });

  it("refuses product tags that would replace the mesh's own", () => {
    const domains = change("songs", (domain) => ({
      ...domain,
      products: domain.products.map((p) => ({
        ...p,
        tags: { "mesh:domain": "users", "AWS:x": "y", team: "ok" },
      })),
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), domains)), [
      "domains.songs.products[0].tags.mesh:domain: tag keys starting with mesh: are set by the mesh and AWS, not declared",
      "domains.songs.products[0].tags.AWS:x: tag keys starting with aws: are set by the mesh and AWS, not declared",
    ]);
  });

  it("refuses throughput beyond the account's shard quota and an on-demand stream's maximum", () => {
    const heavy = change("interactions", (domain) => ({
      ...domain,
      products: domain.products.map((p) => ({
        ...p,
        capacity: { mode: "provisioned", writeMiBps: 600, writeRecordsPerSecond: 6000 },
      })),
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), heavy)), [
      "domains.interactions.products.interaction-events.capacity: 600 MiB/s and 6000 records/s with 2 standard consumers need 1200 shards, more than the 500 shards an account may have in eu-west-1",
    ]);
    assert.deepEqual(problemsOf(parseMeshConfig({ ...fixtureConfig(), capacityMode: "on-demand" }, heavy)), [
      "domains.interactions.products[0].capacity: 600 MiB/s and 6000 records/s exceed what an on-demand stream takes by default (200 MiB/s, 200000 records/s), and this stack makes every stream on-demand",
    ]);
  });

  it("refuses a domain subscribing to its own product, or twice to one product with one access pattern", () => {
    const domains = change("recommendations", (domain) =>
      subscribe(domain, replay("users-again", "users/user-events")),
    ).map((domain) =>
      domain.name === "songs" ? subscribe(domain, replay("own", "songs/song-events")) : domain,
    );
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), domains)), [
      "domains.songs.subscriptions[0].product: songs cannot subscribe to its own product songs/song-events: the mesh shares products across accounts; read your own stream directly",
      "domains.recommendations.subscriptions[4].product: recommendations already subscribes to users/user-events as shared-replay (subscriptions[0]); one subscription per product and access pattern",
    ]);
  });

  it("refuses domain names that are units", () => {
    for (const name of ["platform", "all"]) {
      const domains = change("songs", (domain) => ({ ...domain, name, account: "songs" }));
      const problems = problemsOf(parseMeshConfig(fixtureConfig(), domains));
      assert.ok(
        problems.includes(
          `domains.${name}.name: ${name} is reserved for a unit of mesh:units (platform, all); choose another domain name`,
        ),
        problems.join("\n"),
      );
    }
  });

  it("shortens the default function timeout to fit retries in the record age, and refuses a declared one that does not fit", () => {
    const result = parseMeshConfig(fixtureConfig(), fixtureDomains);
    assert.ok(result.ok);
    for (const { delivery, ref } of result.mesh.subscriptions) {
      const invocations =
        1 +
        delivery.maxRetryAttempts +
        (delivery.bisectOnError ? Math.ceil(Math.log2(delivery.batchSize)) : 0);
      assert.ok(invocations * delivery.timeoutSeconds <= delivery.maxRecordAgeSeconds, ref);
    }
    const domains = change("analytics", (domain) =>
      subscribe(domain, {
        ...replay("slow", "songs/song-events"),
        delivery: { timeoutSeconds: 900, maxRetryAttempts: 10, maxRecordAgeSeconds: 3600 },
      }),
    );
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), domains)), [
      "domains.analytics.subscriptions[2].delivery: 18 invocations (1 + 10 retries + 7 bisections of a batch of 100) of up to 900 s each do not fit in maxRecordAgeSeconds 3600: raise maxRecordAgeSeconds or lower maxRetryAttempts, batchSize or timeoutSeconds",
    ]);
  });

  it("reports every problem at once: a broken config hides no declaration problem, a broken product none of its subscribers'", () => {
    const domains = change("songs", (domain) => ({
      ...domain,
      products: domain.products.map((p) => ({ ...p, retentionHours: 1 })),
    })).map((domain) =>
      domain.name === "analytics"
        ? subscribe(domain, replay("songs-a", "songs/song-events"), replay("songs-b", "songs/song-events"))
        : domain,
    );
    const problems = problemsOf(parseMeshConfig({ ...fixtureConfig(), region: "mars-1" }, domains));
    assert.deepEqual(
      problems.map((p) => p.replace(/ \(.*$/, "").replace(/:.*$/, "")),
      [
        "config.region",
        "domains.songs.products[0].retentionHours",
        "domains.analytics.subscriptions[3].product",
      ],
    );
  });
});

describe("alarms reach people", () => {
  it("refuses an owner contact alarms cannot be sent to, naming the domain", () => {
    const domains = change("songs", (domain) => ({
      ...domain,
      owner: { ...domain.owner, contact: "#catalogue" },
    }));
    assert.deepEqual(problemsOf(parseMeshConfig(fixtureConfig(), domains)), [
      "domains.songs.owner.contact: must be an email address or an https URL: the domain's alarms are sent there",
    ]);
  });

  it("accepts an https endpoint as contact, and a platform contact in the stack config", () => {
    const domains = change("songs", (domain) => ({
      ...domain,
      owner: { ...domain.owner, contact: "https://events.pagerduty.example/integration/abc" },
    }));
    const config = { ...fixtureConfig(), platformAlarmContact: "platform-oncall@example.com" };
    assert.deepEqual(problemsOf(parseMeshConfig(config, domains)), []);
    const wrong = { ...fixtureConfig(), platformAlarmContact: "http://insecure.example" };
    assert.deepEqual(problemsOf(parseMeshConfig(wrong, fixtureDomains)), [
      "config.platformAlarmContact: must be an email address or an https URL (empty for none)",
    ]);
  });
});

describe("standard consumers a shard can serve", () => {
  it("refuses a sixth standard consumer of a stream, naming them and the way out", () => {
    const extra = ["a", "b", "c", "d", "e"].map((n) => replay(`songs-${n}`, "songs/song-events"));
    const domains = change("analytics", (domain) => subscribe(domain, ...extra));
    const problems = problemsOf(parseMeshConfig(fixtureConfig(), domains)).filter((p) =>
      p.includes("GetRecords"),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /^domains\.songs\.products\.song-events: 6 standard consumers \(.*analytics\/songs-e\) poll each shard once a second each, more than the 5 GetRecords calls a shard serves per second: subscribe the others with enhanced fan-out$/,
    );
    const five = change("analytics", (domain) => subscribe(domain, ...extra.slice(0, 4)));
    assert.deepEqual(
      problemsOf(parseMeshConfig(fixtureConfig(), five)).filter((p) => p.includes("GetRecords")),
      [],
    );
  });
});

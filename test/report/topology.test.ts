import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMesh, type Mesh } from "../../platform/mesh";
import { buildReport, writeReport, type Plan } from "../../tooling/report";
import { accessMatrix } from "../../tooling/report/access-matrix";
import { renderSvg, topologyDot } from "../../tooling/report/topology";
import { atRestMatrix } from "../../tooling/report/at-rest-matrix";
import { ACCOUNTS, fixtureConfig, fixtureDomains } from "../fixtures/mesh";
import { fixtureDomainsAtRest } from "../fixtures/mesh/at-rest";
import { evaluateFixture, evaluateFixtureAtRest } from "../helpers/stacks";

const STREAM = "stream:arn:aws:kinesis:eu-west-1:210987654325:stream/interactions.interaction-events";

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly attrs: Record<string, string>;
}

/** The edges of the generated DOT (one per line, as topologyDot writes them). */
function edgesOf(dot: string): Edge[] {
  return [...dot.matchAll(/^ {2}"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)" \[(.*)\];$/gm)].map((m) => ({
    from: m[1]!,
    to: m[2]!,
    attrs: Object.fromEntries([...m[3]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((a) => [a[1]!, a[2]!])),
  }));
}

/** Node ids declared inside each account's cluster. */
function clustersOf(dot: string): Map<string, { label: string; nodes: string[] }> {
  const clusters = new Map<string, { label: string; nodes: string[] }>();
  for (const block of dot.matchAll(
    /subgraph "cluster_(\w+)" \{\n {4}graph \[label="([^"]*)"[^\n]*\n((?: {4}.*\n)*?) {2}\}/g,
  )) {
    clusters.set(block[1]!, {
      label: block[2]!,
      nodes: [...block[3]!.matchAll(/^ {4}"((?:[^"\\]|\\.)*)"/gm)].map((n) => n[1]!),
    });
  }
  return clusters;
}

describe("report: topology picture of the dev plan", () => {
  let plan: Plan;
  let mesh: Mesh;
  let dot: string;
  before(async () => {
    const dev = await evaluateFixture("dev");
    plan = { stack: "dev", resources: dev.resources };
    mesh = loadMesh(fixtureConfig("dev"), fixtureDomains);
    dot = topologyDot(mesh, accessMatrix(plan, mesh));
  });

  it("draws one cluster per account, labelled with its alias and id", () => {
    const clusters = clustersOf(dot);
    assert.deepStrictEqual([...clusters.keys()].sort(), Object.values(ACCOUNTS).sort());
    for (const [alias, id] of Object.entries(ACCOUNTS))
      assert.equal(clusters.get(id)!.label, `${alias} (${id})`);
    assert.deepStrictEqual(clusters.get(ACCOUNTS.interactions!)!.nodes, [
      STREAM,
      "role:arn:aws:iam::210987654325:role/mesh-interactions-producer",
    ]);
    assert.deepStrictEqual(clusters.get(ACCOUNTS.analytics!)!.nodes, [
      "function:arn:aws:lambda:eu-west-1:210987654327:function:mesh-analytics-interactions-ingestor",
      "function:arn:aws:lambda:eu-west-1:210987654327:function:mesh-analytics-live-feed",
    ]);
  });

  it("draws producer -> stream -> consumer functions with the access pattern on each edge", () => {
    const edges = edgesOf(dot).filter((e) => e.from === STREAM || e.to === STREAM);
    const fn = (account: string, name: string) =>
      `function:arn:aws:lambda:eu-west-1:${account}:function:${name}`;
    assert.deepStrictEqual(edges, [
      {
        from: "role:arn:aws:iam::210987654325:role/mesh-interactions-producer",
        to: STREAM,
        attrs: { label: "write", style: "solid", color: "#000000", arrowhead: "normal" },
      },
      {
        from: STREAM,
        to: fn(ACCOUNTS.analytics!, "mesh-analytics-interactions-ingestor"),
        attrs: {
          label: "filtered: interaction.play, interaction.like, interaction.follow",
          style: "solid",
          color: "#c62828",
          arrowhead: "diamond",
        },
      },
      {
        from: STREAM,
        to: fn(ACCOUNTS.analytics!, "mesh-analytics-live-feed"),
        attrs: { label: "push without replay", style: "dashed", color: "#c62828", arrowhead: "vee" },
      },
      {
        from: STREAM,
        to: fn(ACCOUNTS.recommendations!, "mesh-recommendations-interactions-update"),
        attrs: { label: "enhanced fan-out", style: "bold", color: "#c62828", arrowhead: "normal" },
      },
      {
        from: STREAM,
        to: "role:arn:aws:iam::210987654321:role/mesh-auditor",
        attrs: { label: "describe-only", style: "dotted", color: "#757575", arrowhead: "odot" },
      },
    ]);
  });

  it("draws the shared-replay consumers of the other products and the auditor on every stream", () => {
    const edges = edgesOf(dot);
    assert.deepStrictEqual(
      edges.filter((e) => e.attrs.label === "shared-replay").map((e) => e.to.split(":").pop()),
      [
        "mesh-recommendations-users-update",
        "mesh-recommendations-songs-update",
        "mesh-recommendations-podcasts-update",
      ],
    );
    assert.equal(edges.filter((e) => e.attrs.label === "describe-only").length, 4);
    assert.equal(edges.filter((e) => e.attrs.label === "write").length, 4);
  });

  it("draws data in motion in red, and a reader without a subscription in bold magenta", () => {
    const rogue = "arn:aws:iam::210987654327:role/mesh-analytics-rogue";
    const mutated: Plan = {
      ...plan,
      resources: plan.resources.map((r) => {
        if (r.name !== "interactions-interaction-events-stream-policy") return r;
        const document = JSON.parse(r.inputs.policy as string);
        document.Statement.push({
          Sid: "Rogue",
          Effect: "Allow",
          Principal: { AWS: rogue },
          Action: "kinesis:GetRecords",
          Resource: r.inputs.resourceArn,
        });
        return { ...r, inputs: { ...r.inputs, policy: JSON.stringify(document) } };
      }),
    };
    const edge = edgesOf(topologyDot(mesh, accessMatrix(mutated, mesh))).find(
      (e) => e.to === `role:${rogue}`,
    )!;
    assert.deepStrictEqual(edge.attrs, {
      label: "read, no subscription",
      style: "bold",
      color: "#ad1457",
      arrowhead: "normal",
    });
  });

  it("renders to SVG with every account label", async () => {
    const svg = await renderSvg(dot);
    assert.match(svg, /<svg /);
    for (const [alias, id] of Object.entries(ACCOUNTS)) assert.ok(svg.includes(`${alias} (${id})`), alias);
    assert.ok(svg.includes("filtered: interaction.play, interaction.like, interaction.follow"));
    /** The SVG group of the one edge from the interactions stream whose head id ends with `to`. */
    const edge = (to: string) =>
      svg
        .split('<g id="edge')
        .map((block) => block.split("</g>")[0]!)
        .find((block) =>
          new RegExp(
            `<title>stream:[^<]*interaction&#45;events&#45;&gt;[^<]*${to.replace(/-/g, "&#45;")}</title>`,
          ).test(block),
        )!;
    assert.match(edge("function:mesh-analytics-live-feed"), /stroke-dasharray="5,2"/, "push edge dashed");
    assert.match(edge("role/mesh-auditor"), /stroke-dasharray="1,5"/, "auditor edge dotted");
    assert.match(
      edge("function:mesh-recommendations-interactions-update"),
      /stroke-width="2"/,
      "EFO edge bold",
    );
  });

  it("refuses invalid DOT", async () => {
    await assert.rejects(renderSvg("digraph { a -> }"));
  });

  it("writes <stack>.dot and <stack>.svg", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mesh-report-"));
    const written = await writeReport(dir, "dev", buildReport(plan, mesh));
    assert.deepStrictEqual(written, { dot: join(dir, "dev.dot"), svg: join(dir, "dev.svg") });
    assert.equal(readFileSync(written.dot, "utf8"), dot);
    assert.ok(existsSync(written.svg));
    assert.match(readFileSync(written.svg, "utf8"), /<svg /);
  });
});

describe("report: topology picture with both planes", () => {
  let plan: Plan;
  let mesh: Mesh;
  let dot: string;
  const TABLE = `table:${ACCOUNTS.users}/users.members`;
  before(async () => {
    const dev = await evaluateFixtureAtRest("dev");
    plan = { stack: "dev", resources: dev.resources };
    mesh = loadMesh(fixtureConfig("dev"), fixtureDomainsAtRest);
    dot = topologyDot(mesh, accessMatrix(plan, mesh), atRestMatrix(plan, mesh));
  });

  it("draws each table in its producer's account and the central catalog in the platform's", () => {
    const clusters = clustersOf(dot);
    assert.ok(clusters.get(ACCOUNTS.users)!.nodes.includes(TABLE));
    assert.ok(
      clusters
        .get(ACCOUNTS.interactions)!
        .nodes.includes(`table:${ACCOUNTS.interactions}/interactions.interaction_events`),
    );
    assert.ok(clusters.get(ACCOUNTS.platform)!.nodes.includes(`catalog:${ACCOUNTS.platform}`));
  });

  it("draws the at-rest subscriptions in blue, naming the pii columns a reader gets", () => {
    const fromTable = edgesOf(dot).filter((e) => e.from === TABLE);
    assert.deepStrictEqual(fromTable, [
      {
        from: TABLE,
        to: `role:arn:aws:iam::${ACCOUNTS.recommendations}:role/mesh-recommendations-members-history`,
        attrs: { label: "at rest: SELECT", style: "solid", color: "#1565c0", arrowhead: "normal" },
      },
      {
        from: TABLE,
        to: `role:arn:aws:iam::${ACCOUNTS.analytics}:role/mesh-analytics-members-audit`,
        attrs: {
          label: "at rest: SELECT incl. pii (email)",
          style: "solid",
          color: "#1565c0",
          arrowhead: "normal",
        },
      },
      {
        from: TABLE,
        to: `catalog:${ACCOUNTS.platform}`,
        attrs: { label: "DESCRIBE", style: "dotted", color: "#1565c0", arrowhead: "odot" },
      },
    ]);
  });

  it("draws the stream landed into its table at rest, once", () => {
    assert.ok(!edgesOf(dot).some((e) => e.to.endsWith("role/mesh-interactions-interaction-events-landing")));
    const landing = edgesOf(dot).find((e) => e.attrs.label === "landed (Firehose)");
    assert.deepStrictEqual(landing, {
      from: STREAM,
      to: `table:${ACCOUNTS.interactions}/interactions.interaction_events`,
      attrs: { label: "landed (Firehose)", style: "dashed", color: "#1565c0", arrowhead: "normal" },
    });
  });

  it("renders both planes to SVG", async () => {
    const svg = await renderSvg(dot);
    assert.ok(svg.includes("central catalog"));
    assert.ok(svg.includes('stroke="#1565c0"'));
    assert.ok(svg.includes('stroke="#c62828"'));
  });
});

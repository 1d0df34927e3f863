import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { PLATFORM_UNIT } from "../../platform/config";
import type { DomainDeclaration } from "../../platform/declarations";
import { loadMesh } from "../../platform/mesh";
import { deployOrder, unitDependencies } from "../../platform/units";
import { deployMesh } from "../../program";
import { runPlan } from "../../scripts/plan";
import type { PlannedResource } from "../../tooling/evaluate";
import { diffPlans, formatPlanDiff } from "../../tooling/plan-diff";
import { readSavedPlan, type SavedPlan } from "../../tooling/saved-plans";
import {
  ACCOUNTS,
  FIXTURE_DOMAINS_ROOT,
  fixtureConfig,
  fixtureDomains,
  fixtureStack,
} from "../fixtures/mesh";

const mesh = loadMesh(fixtureConfig("dev"), fixtureDomains);
const UNITS = [PLATFORM_UNIT, ...fixtureDomains.map((d) => d.name)];

/** A folder with the fixture's whole dev environment and one stack file per unit (`<unit>-dev`). */
function stacksDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "team-plans-"));
  // The default mesh:stackReferencePattern: {organization}/{project}/{unit}-{environment}.
  const { "mesh:stackReferencePattern": _, ...environment } = fixtureStack("dev");
  writeFileSync(join(dir, "Pulumi.dev.yaml"), stringify({ config: environment }));
  for (const unit of UNITS) {
    const config = { ...environment, "mesh:units": [unit] };
    writeFileSync(join(dir, `Pulumi.${unit}-dev.yaml`), stringify({ config }));
  }
  return dir;
}

async function plan(
  cwd: string,
  stack: string,
  options: { declarations?: readonly DomainDeclaration[]; against?: string } = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const declarations = options.declarations ?? fixtureDomains;
  const code = await runPlan({
    stack,
    cwd,
    against: options.against,
    declarations,
    program: () => deployMesh(declarations, {}, FIXTURE_DOMAINS_ROOT),
    log: (line) => out.push(line),
    error: (line) => err.push(line),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const saved = (cwd: string, stack: string): SavedPlan => readSavedPlan(join(cwd, "plan", `${stack}.json`));

/** What a resource is, whichever stack holds it: providers and stack plumbing left out. */
function comparable(resources: readonly PlannedResource[]): Map<string, unknown> {
  return new Map(
    resources
      .filter((r) => !r.type.startsWith("pulumi:"))
      .map((r) => [
        r.urn.split("::").slice(1).join("::"),
        { account: r.account, protect: r.protect, retainOnDelete: r.retainOnDelete, inputs: r.inputs },
      ]),
  );
}

describe("per-team offline plans (fixture mesh)", () => {
  let environment: string;
  before(async () => {
    environment = stacksDir();
    const result = await plan(environment, "dev");
    assert.equal(result.code, 0, result.err);
  });

  it("records the stack's outputs, units and the units each unit's stack reads", () => {
    const dev = saved(environment, "dev");
    assert.deepEqual([...dev.units].sort(), [...UNITS].sort());
    assert.deepEqual(Object.keys(dev.outputs).sort(), ["alarmTopics", "consumers", "platform", "products"]);
    assert.deepEqual(dev.dependencies.songs, ["platform"]);
    assert.deepEqual(dev.dependencies.analytics, ["interactions"]);
    assert.deepEqual(dev.dependencies.recommendations, ["interactions", "podcasts", "songs", "users"]);
  });

  it("plans a producer team's stack, its stack reference resolved from the saved environment plan", async () => {
    const result = await plan(environment, "songs-dev");
    assert.equal(result.code, 0, result.err);
    const songs = saved(environment, "songs-dev");
    const accounts = new Set(songs.resources.filter((r) => r.account).map((r) => r.account));
    assert.deepEqual([...accounts], [ACCOUNTS.songs]);
    const references = songs.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
    assert.deepEqual(
      references.map((r) => r.inputs.name),
      ["organization/mesh/platform-dev"],
    );
    const auditor = (saved(environment, "dev").outputs.platform as { auditorRoleArn: string }).auditorRoleArn;
    assert.match(JSON.stringify(songs.resources), new RegExp(auditor.replace(/[/.]/g, "\\$&")));
    assert.deepEqual(Object.keys(songs.outputs).sort(), ["alarmTopics", "products"]);
  });

  it("plans a consumer team's stack with the producer's stream, key and registered consumer from the saved plan", async () => {
    const result = await plan(environment, "recommendations-dev");
    assert.equal(result.code, 0, result.err);
    const recommendations = saved(environment, "recommendations-dev");
    const products = saved(environment, "dev").outputs.products as Record<
      string,
      { streamArn: string; efoConsumerArns: Record<string, string> }
    >;
    const mapping = recommendations.resources.find(
      (r) => r.name === "recommendations-interactions-update-mapping",
    )!;
    assert.equal(
      mapping.inputs.eventSourceArn,
      products["interactions/interaction-events"]!.efoConsumerArns["recommendations/interactions-update"],
    );
    assert.equal(recommendations.resources.filter((r) => r.type === "aws:kinesis/stream:Stream").length, 0);
  });

  it("says which saved plan is missing and how to make it, and writes nothing", async () => {
    const empty = stacksDir();
    const result = await plan(empty, "analytics-dev");
    assert.equal(result.code, 1);
    assert.equal(
      result.err,
      "plan analytics-dev: stack reference organization/mesh/interactions-dev (unit interactions): no saved plan plan/interactions-dev.json, and no saved plan of environment dev deploys interactions. " +
        "Plan that stack first (npm run plan -- interactions-dev) or the whole dev environment (npm run plan -- <stack with mesh:units [all]>).",
    );
    assert.throws(() => saved(empty, "analytics-dev"), /no such plan/);
  });

  it("names a missing or broken stack file, and the stacks there are", async () => {
    const dir = stacksDir();
    const missing = await plan(dir, "songs-prod");
    assert.equal(missing.code, 1);
    assert.match(
      missing.err,
      /^plan songs-prod: no stack file .*Pulumi\.songs-prod\.yaml \(stacks in .*: analytics-dev, dev, /,
    );
    writeFileSync(join(dir, "Pulumi.broken.yaml"), "config:\n  mesh:units: [songs\n");
    const broken = await plan(dir, "broken");
    assert.equal(broken.code, 1);
    assert.match(broken.err, /^plan broken: .*Pulumi\.broken\.yaml: not valid YAML: /);
  });

  it("yields the whole environment's resources when the environment is split into unit stacks", async () => {
    const split = stacksDir();
    const order = deployOrder(UNITS, unitDependencies(mesh));
    const resources: PlannedResource[] = [];
    for (const unit of order) {
      const result = await plan(split, `${unit}-dev`);
      assert.equal(result.code, 0, `${unit}: ${result.err}`);
      resources.push(...saved(split, `${unit}-dev`).resources);
    }
    const whole = comparable(saved(environment, "dev").resources);
    const parts = comparable(resources);
    assert.deepEqual([...parts.keys()].sort(), [...whole.keys()].sort());
    for (const [urn, resource] of whole) assert.deepEqual(parts.get(urn), resource, urn);
  });
});

describe("plan diff and deploy order (fixture mesh)", () => {
  /** The fixture with analytics also reading songs: a new grant in songs, a new consumer in analytics. */
  const subscribed = fixtureDomains.map((d): DomainDeclaration =>
    d.name === "analytics"
      ? {
          ...d,
          subscriptions: [
            ...d.subscriptions,
            {
              name: "songs-ingestor",
              product: "songs/song-events",
              handler: "handler.ts",
              access: { pattern: "shared-replay" },
            },
          ],
        }
      : d,
  );
  let dir: string;
  before(async () => {
    dir = stacksDir();
    assert.equal((await plan(dir, "dev")).code, 0);
    writeFileSync(join(dir, "base.json"), readFileSync(join(dir, "plan", "dev.json")));
  });

  it("prints the added, changed and removed resources per account and unit, the deploy order and the policy verdict", async () => {
    const result = await plan(dir, "dev", { declarations: subscribed, against: join(dir, "base.json") });
    assert.equal(result.code, 0, result.err);
    const text = result.out;
    assert.match(
      text,
      new RegExp(`^changes against ${join(dir, "base.json").replace(/[/.]/g, "\\$&")}:$`, "m"),
    );
    assert.match(
      text,
      new RegExp(`^songs \\(${ACCOUNTS.songs}\\)\\n {2}unit songs: 0 to add, 2 to change, 0 to remove$`, "m"),
    );
    assert.match(
      text,
      /^ {4}~ aws:kinesis\/resourcePolicy:ResourcePolicy songs-song-events-stream-policy \(policy\)$/m,
    );
    assert.match(text, /^ {4}~ aws:kms\/key:Key songs-song-events-key \(policy\)$/m);
    assert.match(
      text,
      /^ {4}\+ aws:lambda\/eventSourceMapping:EventSourceMapping analytics-songs-ingestor-mapping$/m,
    );
    assert.match(text, /^deploy order of the unit stacks: 1\. songs {2}2\. analytics$/m);
    assert.ok(text.indexOf("deploy order") < text.indexOf("policy pack mesh-guardrails"), text);
  });

  it("deploys a consumer that stops reading a producer before the producer withdraws its grant", async () => {
    const before = readSavedPlan(join(dir, "base.json"));
    const other = stacksDir();
    assert.equal((await plan(other, "dev", { declarations: subscribed })).code, 0);
    const after = saved(other, "dev");
    const removal = diffPlans(after, before);
    assert.deepEqual(removal.order, ["analytics", "songs"]);
    assert.ok(
      removal.changes.some((c) => c.kind === "remove" && c.name === "analytics-songs-ingestor-mapping"),
    );
    assert.deepEqual(diffPlans(before, after).order, ["songs", "analytics"]);
    assert.equal(formatPlanDiff(diffPlans(before, before), before, "x.json"), "changes against x.json: none");
  });
});

import { strict as assert } from "node:assert";
import { runLocalMesh, type LocalMeshResult } from "../../local/mesh";
import { localPlan, type LocalPlan } from "../../local/plan";
import { evaluateShipped } from "../helpers/stacks";

describe("npm run local: the dev plan's data-in-motion plane, short runs", function () {
  // Evaluating the dev program and bundling its functions: tens of seconds on a loaded machine.
  this.timeout(120_000);
  let plan: LocalPlan;

  before(async () => {
    plan = localPlan(await evaluateShipped("dev"), "the dev stack");
  });

  describe("without faults", () => {
    let result: LocalMeshResult;

    before(async () => {
      // A few hundred events; runLocalMesh stops every server and worker before it resolves.
      result = await runLocalMesh(plan, {
        rate: 100,
        durationSeconds: 3,
        seed: 7,
        faults: false,
        drainSeconds: 30,
      });
    });

    it("runs every Kinesis mapping of the plan, and no outbox relay", () => {
      assert.deepEqual(
        result.subscriptions.map((s) => s.mapping).sort(),
        plan.mappings.map((m) => m.name).sort(),
      );
      assert.ok(plan.mappings.length > 0);
      assert.ok(plan.mappings.every((m) => m.eventSourceArn.startsWith("arn:aws:kinesis:")));
    });

    it("loses nothing: every event reaches every subscription of its stream, delivered or filtered out", () => {
      assert.ok(result.produced >= 250, `produced ${result.produced}`);
      assert.equal(result.lost, 0);
      assert.equal(result.deadLettered, 0);
      for (const s of result.subscriptions) {
        assert.equal(s.delivered + s.filteredOut, s.read, s.mapping);
        assert.ok(s.read > 0, `${s.mapping} read nothing`);
      }
    });

    it("applies the filtered subscription's filter: some interactions are filtered out there and nowhere else", () => {
      assert.deepEqual(
        result.subscriptions.filter((s) => s.filteredOut > 0).map((s) => s.mapping),
        plan.mappings.filter((m) => m.filterPatterns.length > 0).map((m) => m.name),
      );
    });

    it("has the neighbours receive each effect once, Personalize per user in order", () => {
      assert.ok(result.checks.length > 0);
      for (const check of result.checks) assert.ok(check.ok, check.line);
      const lines = result.checks.map((c) => c.line).join("\n");
      assert.match(lines, /Personalize PutEvents: [1-9]\d* events/);
      assert.match(
        lines,
        /each of the 3 connected subscribers received the [1-9]\d* events the live feed completed/,
      );
    });

    it("measures end-to-end latency", () => {
      assert.ok(result.p50 > 0 && result.p99 >= result.p50);
    });
  });

  describe("with faults", () => {
    let result: LocalMeshResult;

    before(async () => {
      result = await runLocalMesh(plan, {
        rate: 100,
        durationSeconds: 4,
        seed: 11,
        faults: true,
        drainSeconds: 40,
      });
    });

    it("injects every fault and meets the required outcome: nothing lost, poison dead-lettered once with its reason", () => {
      const lines = result.checks.map((check) => `${check.ok ? "ok" : "FAIL"} ${check.line}`).join("\n");
      for (const check of result.checks) assert.ok(check.ok, lines);
      assert.equal(result.lost, 0);
      assert.match(
        lines,
        /faults injected: poison records, .*crash of mesh-recommendations-interactions-update/,
      );
      assert.match(
        lines,
        /poison poison-2 .* in analytics-live-feed-mapping: dead-lettered, dead-lettered 1 time\(s\).* reason: ContractViolationError/,
      );
      assert.match(
        lines,
        /poison poison-3 .* in recommendations-interactions-update-mapping: dead-lettered.* reason: PersonalizeCallError/,
      );
      // Every dead-lettered event is a poison record: five (one, three and one subscriptions).
      assert.equal(result.deadLettered, 5);
    });
  });
});

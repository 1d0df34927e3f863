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

  // One run, with faults: they are injected among ordinary events, so the same
  // run shows the ordinary path (every event reaches every subscription once, the filter, the
  // neighbours' effects) and each fault handled. A run of its own without faults took as long
  // again (half of this file's 20 s of CPU) and exercised no code this run does not.
  describe("a short run with faults injected", () => {
    let result: LocalMeshResult;

    before(async () => {
      result = await runLocalMesh(plan, {
        rate: 100,
        durationSeconds: 3,
        seed: 11,
        faults: true,
        drainSeconds: 40,
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

    it("loses nothing: every event of a stream reaches each of its subscriptions, delivered, filtered out or dead-lettered", () => {
      assert.ok(result.produced >= 250, `produced ${result.produced}`);
      assert.equal(result.lost, 0);
      for (const s of result.subscriptions) {
        assert.equal(s.lost, 0, s.mapping);
        assert.ok(s.delivered > 0, `${s.mapping} delivered nothing`);
        // Reads count redeliveries and retried batches again: never fewer than the outcomes.
        assert.ok(s.read >= s.delivered + s.filteredOut + s.deadLettered, s.mapping);
      }
    });

    it("applies the filtered subscription's filter: some interactions are filtered out there and nowhere else", () => {
      assert.deepEqual(
        result.subscriptions.filter((s) => s.filteredOut > 0).map((s) => s.mapping),
        plan.mappings.filter((m) => m.filterPatterns.length > 0).map((m) => m.name),
      );
    });

    it("has the neighbours receive each effect once, Personalize per user in order", () => {
      const lines = result.checks.map((c) => c.line).join("\n");
      assert.match(lines, /Personalize PutEvents: [1-9]\d* events, 0 received more than once/);
      assert.match(lines, /Personalize PutEvents: 0 events of a user received after a later one/);
      assert.match(lines, /Firehose: [1-9]\d* documents, 0 received more than once/);
      assert.match(
        lines,
        /each of the \d+ connected subscribers received the [1-9]\d* events the live feed completed; missing: 0/,
      );
    });

    it("measures end-to-end latency", () => {
      assert.ok(result.p50 > 0 && result.p99 >= result.p50);
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

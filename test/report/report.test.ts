import { strict as assert } from "node:assert";
import { loadMesh } from "../../platform/mesh";
import { buildReport, printReport, type PlanReport } from "../../tooling/report";
import { fixtureConfig, fixtureDomains } from "../fixtures/mesh";
import { evaluateFixture } from "../helpers/stacks";

describe("report: buildReport and printReport", () => {
  let report: PlanReport;
  before(async () => {
    const dev = await evaluateFixture("dev");
    report = buildReport(
      { stack: "dev", resources: dev.resources },
      loadMesh(fixtureConfig("dev"), fixtureDomains),
      {
        utilisation: 0.25,
      },
    );
  });

  it("holds both planes' matrices, their violations, the DOT source and the cost estimate", () => {
    assert.equal(report.matrix.rows.length, 14);
    assert.deepEqual(report.atRest.tables, []);
    assert.deepEqual(report.violations, [...report.matrix.violations, ...report.atRest.violations]);
    assert.deepStrictEqual(report.violations, []);
    assert.match(report.dot, /^digraph mesh \{/);
    assert.equal(report.cost.utilisation, 0.25);
    assert.equal(report.cost.streams.length, 4);
  });

  it("prints the access matrix of each plane, then the cost table", () => {
    const printed: string[] = [];
    printReport(report, (text) => printed.push(text));
    const text = printed.join("\n");
    const matrix = text.indexOf("Access to data products (from the generated policies):");
    const atRest = text.indexOf("Access to data products at rest");
    const cost = text.indexOf("Monthly Kinesis cost estimate");
    assert.ok(matrix >= 0 && atRest > matrix && cost > atRest, text);
    assert.match(text, /no violations/);
    assert.match(text, /at 25% of declared peak/);
  });
});

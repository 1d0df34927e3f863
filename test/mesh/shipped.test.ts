import { strict as assert } from "node:assert";
import { domains } from "../../domains";
import { AccessPattern } from "../../platform/declarations";
import { loadMesh, type Mesh } from "../../platform/mesh";
import { evaluatePlan } from "../../policy/evaluate";
import { savedPlan } from "../../tooling/saved-plans";
import { join } from "node:path";
import {
  checkContractLock,
  CONTRACT_LOCK_FILE,
  declaredContracts,
  readContractLock,
} from "../../tooling/contract-lock";
import type { PlannedResource } from "../../tooling/evaluate";
import { accessMatrix } from "../../tooling/report/access-matrix";
import { evaluateShipped, meshConfig, policyOf, withFinders, type StackUnderTest } from "../helpers/stacks";

/**
 * The shipped example mesh (`domains/` with Pulumi.dev.yaml and Pulumi.prod.yaml), checked by
 * properties that hold for any mesh: no count, name list or total of today's domains appears
 * here, so a team adding a domain by the README's steps keeps these tests green (and
 * test/mesh/new-domain.test.ts proves it with a generated domain).
 */

const STATEFUL = new Set([
  "aws:kinesis/stream:Stream",
  "aws:kms/key:Key",
  "aws:dynamodb/table:Table",
  "aws:s3/bucket:Bucket",
  "aws:opensearch/domain:Domain",
]);

/** The statements of every policy of a type that name a principal ARN in their condition. */
function grantsTo(stack: StackUnderTest, type: string, roleArn: string): { Action: string | string[] }[] {
  return stack
    .ofType(type)
    .flatMap((resource) => policyOf(resource).Statement)
    .filter((statement) => statement.Condition?.ArnEquals?.["aws:PrincipalArn"] === roleArn);
}

const actionsOf = (statements: { Action: string | string[] }[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

/** Checks every property of one evaluated shipped stack; returns the problems found. */
export function meshProperties(mesh: Mesh, stack: StackUnderTest): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const accountIds = new Set(Object.values(mesh.config.accounts).map((a) => a.id));
  for (const resource of stack.resources) {
    if (resource.type.startsWith("pulumi:") || resource.type.startsWith("mesh:")) continue;
    expect(
      resource.account !== null && accountIds.has(resource.account),
      `${resource.type} ${resource.name} is not deployed through a mesh account's provider`,
    );
  }

  const streams = stack.ofType("aws:kinesis/stream:Stream");
  for (const product of mesh.products) {
    const stream = streams.find((s) => s.inputs.name === product.streamName);
    expect(!!stream, `${product.ref}: no stream ${product.streamName}`);
    if (!stream) continue;
    expect(stream.account === product.accountId, `${product.ref}: stream outside ${product.accountAlias}`);
    expect(stream.inputs.encryptionType === "KMS", `${product.ref}: stream not encrypted with KMS`);
    const key = stack
      .ofType("aws:kms/key:Key")
      .find((k) => String(stream.inputs.kmsKeyId).endsWith(`:key/${k.name}`));
    expect(
      key?.account === product.accountId && key.inputs.enableKeyRotation === true,
      `${product.ref}: no rotating customer-managed key in the producer's account`,
    );
    expect(
      stack
        .ofType("aws:kinesis/resourcePolicy:ResourcePolicy")
        .some((p) => p.inputs.resourceArn === product.streamArn),
      `${product.ref}: no resource policy on its stream`,
    );
    expect(
      (stream.inputs.tags as Record<string, string>)["mesh:product"] === product.ref,
      `${product.ref}: stream not tagged with its product`,
    );
  }

  for (const subscription of mesh.subscriptions) {
    const { ref, roleArn, roleName, accountId } = subscription;
    const efo = subscription.access.pattern === AccessPattern.EnhancedFanOut;
    const reads = actionsOf(grantsTo(stack, "aws:kinesis/resourcePolicy:ResourcePolicy", roleArn));
    expect(
      reads.includes(efo ? "kinesis:SubscribeToShard" : "kinesis:GetRecords"),
      `${ref}: no grant to read ${subscription.product.ref}`,
    );
    expect(
      actionsOf(grantsTo(stack, "aws:kms/key:Key", roleArn)).includes("kms:Decrypt"),
      `${ref}: the producer's key does not let it decrypt`,
    );
    const fn = stack.ofType("aws:lambda/function:Function").find((f) => f.inputs.name === roleName);
    expect(fn?.account === accountId, `${ref}: no function ${roleName} in ${subscription.accountAlias}`);
    const mapping = stack
      .ofType("aws:lambda/eventSourceMapping:EventSourceMapping")
      .find((m: PlannedResource) => String(m.inputs.functionName).endsWith(`:function:${roleName}`));
    expect(mapping?.account === accountId, `${ref}: no event source mapping in the consumer's account`);
    expect(
      !!mapping && String(mapping.inputs.eventSourceArn).startsWith(subscription.product.streamArn),
      `${ref}: its mapping does not read ${subscription.product.streamArn}`,
    );
    if (efo) {
      expect(
        stack
          .ofType("aws:kinesis/streamConsumer:StreamConsumer")
          .some((c) => c.inputs.name === subscription.efoConsumerName),
        `${ref}: no registered stream consumer`,
      );
    }
  }

  if (mesh.config.protectStateful) {
    for (const resource of stack.resources.filter((r) => STATEFUL.has(r.type))) {
      expect(
        resource.protect && resource.retainOnDelete,
        `${resource.type} ${resource.name} is not protected and retained`,
      );
    }
  } else {
    expect(!stack.resources.some((r) => r.protect), "a dev resource is protected");
  }
  return problems;
}

describe("the shipped contracts", () => {
  it("are recorded in contracts.lock.json, every version as it was published", () => {
    const lock = readContractLock(join(__dirname, "..", "..", CONTRACT_LOCK_FILE));
    assert.ok(lock, `${CONTRACT_LOCK_FILE} is missing: npm run contracts -- lock`);
    assert.deepEqual(checkContractLock(declaredContracts(domains), lock), { changed: [], unrecorded: [] });
  });
});

describe("the shipped mesh, by properties", function () {
  // Evaluates the whole shipped mesh twice (dev and prod): minutes on a loaded machine.
  this.timeout(600_000);
  for (const stackName of ["dev", "prod"] as const) {
    describe(`stack ${stackName}`, () => {
      let mesh: Mesh;
      let stack: StackUnderTest;
      before(async () => {
        mesh = loadMesh(meshConfig(stackName), domains);
        stack = await evaluateShipped(stackName);
      });

      it("deploys every product's stream, key and policy, and every subscription's grant, function and mapping, in their accounts", () => {
        assert.deepEqual(meshProperties(mesh, stack), []);
      });

      it("would name each product and subscription whose resources were missing", () => {
        const without = stack.resources.filter(
          (r) =>
            r.type !== "aws:kinesis/stream:Stream" &&
            r.type !== "aws:lambda/eventSourceMapping:EventSourceMapping",
        );
        const problems = meshProperties(mesh, withFinders({ ...stack, resources: without }));
        for (const product of mesh.products)
          assert.ok(problems.includes(`${product.ref}: no stream ${product.streamName}`));
        for (const s of mesh.subscriptions) {
          assert.ok(problems.includes(`${s.ref}: no event source mapping in the consumer's account`));
        }
      });

      it("passes the policy pack and grants nobody a read without a subscription", async () => {
        // The plan as `npm run plan` saves it: with the declared tables and subscriptions at rest.
        const plan = savedPlan(mesh, stack);
        const policies = await evaluatePlan(plan);
        assert.deepEqual(policies.violations, []);
        assert.deepEqual(accessMatrix(plan, mesh).violations, []);
      });

      it("refuses, from the saved plan alone, a filter edited to a field its product's contract lacks", async () => {
        const plan = savedPlan(mesh, stack);
        const mapping = plan.resources.find(
          (r) =>
            r.type === "aws:lambda/eventSourceMapping:EventSourceMapping" &&
            String(r.inputs.eventSourceArn).startsWith("arn:aws:kinesis:") &&
            r.inputs.filterCriteria,
        );
        if (!mapping) return; // no filtered subscription in this stack
        const edited = structuredClone(plan);
        const target = edited.resources.find((r) => r.urn === mapping.urn)!;
        target.inputs.filterCriteria = {
          filters: [{ pattern: JSON.stringify({ data: { data: { notInAnyContract: [1] } } }) }],
        };
        const { violations } = await evaluatePlan(edited);
        assert.deepEqual(
          violations.map((v) => [v.policy, v.urn]),
          [["lambda-esm-filters-contract", mapping.urn]],
        );
      });
    });
  }
});

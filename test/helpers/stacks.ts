import { join } from "node:path";
import type { DomainDeclaration } from "../../platform/declarations";
import { deployMesh } from "../../program";
import {
  evaluateProgram,
  readStackFile,
  type Evaluation,
  type PlannedResource,
} from "../../tooling/evaluate";
import { FIXTURE_DOMAINS_ROOT, fixtureDomains, fixtureStack } from "../fixtures/mesh";
import { fixtureDomainsAtRest } from "../fixtures/mesh/at-rest";

const root = join(__dirname, "..", "..");

/** `config:` of the shipped Pulumi.<stack>.yaml, keys as in the file (`mesh:units`). */
export function stackFile(stack: "dev" | "prod"): Record<string, unknown> {
  return readStackFile(join(root, `Pulumi.${stack}.yaml`));
}

/** The `mesh:*` keys of a shipped stack file without their namespace: what `parseMeshConfig` reads. */
export function meshConfig(stack: "dev" | "prod" = "dev"): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(stackFile(stack))
      .filter(([key]) => key.startsWith("mesh:"))
      .map(([key, value]) => [key.slice("mesh:".length), value]),
  );
}

export interface StackUnderTest extends Evaluation {
  /** Resources of a type, optionally only those whose name starts with a prefix. */
  ofType(type: string, namePrefix?: string): PlannedResource[];
  /** The one resource with this name; throws when there is none. */
  named(name: string): PlannedResource;
}

export interface EvaluateStackOptions {
  readonly peerStacks?: Record<string, Record<string, unknown>>;
  /** The declarations to deploy. @default the fixture mesh's */
  readonly domains?: readonly DomainDeclaration[];
}

/**
 * Evaluates the program for the fixture mesh (test/fixtures/mesh) under the mock runtime: the
 * platform's tests, whose exact expectations do not move when a team changes `domains/`.
 */
export function evaluateFixture(
  environment: "dev" | "prod",
  overrides: Record<string, unknown> = {},
  options: EvaluateStackOptions = {},
): Promise<StackUnderTest> {
  const plain = !Object.keys(overrides).length && !options.peerStacks && !options.domains;
  return once(plain ? `fixture ${environment}` : undefined, () =>
    evaluate(environment, { ...fixtureStack(environment), ...overrides }, options.peerStacks, () =>
      deployMesh(options.domains ?? fixtureDomains, {}, FIXTURE_DOMAINS_ROOT),
    ),
  );
}

/** {@link evaluateFixture} of the fixture mesh with both planes (test/fixtures/mesh/at-rest), shared. */
export function evaluateFixtureAtRest(environment: "dev" | "prod"): Promise<StackUnderTest> {
  return once(`fixture at rest ${environment}`, () =>
    evaluate(environment, fixtureStack(environment), undefined, () =>
      deployMesh(fixtureDomainsAtRest, {}, FIXTURE_DOMAINS_ROOT),
    ),
  );
}

/** Evaluates the shipped program for a shipped stack file: checked by properties only. */
export function evaluateShipped(
  stack: "dev" | "prod",
  overrides: Record<string, unknown> = {},
): Promise<StackUnderTest> {
  return once(Object.keys(overrides).length ? undefined : `shipped ${stack}`, () =>
    evaluate(stack, { ...stackFile(stack), ...overrides }, undefined, () => deployMesh()),
  );
}

const evaluated = new Map<string, Promise<StackUnderTest>>();

/**
 * The stacks most test files evaluate unchanged (the fixture's, with and without data at rest, and
 * the shipped dev and prod) are
 * evaluated once per test process and shared, frozen so that a test cannot change what the next
 * one reads (tests change copies).
 */
function once(
  key: string | undefined,
  evaluateStack: () => Promise<StackUnderTest>,
): Promise<StackUnderTest> {
  if (key === undefined) return evaluateStack();
  let stack = evaluated.get(key);
  if (!stack) {
    stack = evaluateStack().then(deepFreeze);
    evaluated.set(key, stack);
  }
  return stack;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

async function evaluate(
  stack: string,
  config: Record<string, unknown>,
  peerStacks: Record<string, Record<string, unknown>> | undefined,
  program: () => unknown,
): Promise<StackUnderTest> {
  const evaluation = await evaluateProgram({ stack, config, peerStacks, program });
  return withFinders(evaluation);
}

export function withFinders(evaluation: Evaluation): StackUnderTest {
  return {
    ...evaluation,
    ofType: (type, prefix = "") =>
      evaluation.resources.filter((r) => r.type === type && r.name.startsWith(prefix)),
    named(name) {
      const found = evaluation.resources.find((r) => r.name === name);
      if (!found) throw new Error(`no resource named ${name}`);
      return found;
    },
  };
}

/** A policy document input, parsed. */
export function policyOf(resource: PlannedResource, input = "policy"): { Statement: any[] } {
  return JSON.parse(resource.inputs[input] as string);
}

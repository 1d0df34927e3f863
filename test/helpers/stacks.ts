import { join } from "node:path";
import type { DomainDeclaration } from "../../platform/declarations";
import { deployMesh } from "../../program";
import {
  evaluateProgram,
  readStackFile,
  type Evaluation,
  type PlannedResource,
} from "../../tooling/evaluate";

const root = join(__dirname, "..", "..");

/** `config:` of Pulumi.<stack>.yaml, keys as in the file (`mesh:units`). */
export function stackFile(stack: "dev" | "prod"): Record<string, unknown> {
  return readStackFile(join(root, `Pulumi.${stack}.yaml`));
}

/** The `mesh:*` keys of a stack file without their namespace: what `parseMeshConfig` reads. */
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

/** Evaluates the real program under the mock runtime for a stack file with config overrides. */
export async function evaluateStack(
  stack: "dev" | "prod",
  overrides: Record<string, unknown> = {},
  options: {
    peerStacks?: Record<string, Record<string, unknown>>;
    domains?: readonly DomainDeclaration[];
  } = {},
): Promise<StackUnderTest> {
  const evaluation = await evaluateProgram({
    stack,
    config: { ...stackFile(stack), ...overrides },
    peerStacks: options.peerStacks,
    program: () => deployMesh(options.domains),
  });
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

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { lakeFormationAccess } from "../platform/at-rest";
import { PLATFORM_UNIT } from "../platform/config";
import { contractFields, currentVersion, eventJsonSchema } from "../platform/contract";
import type { Mesh } from "../platform/mesh";
import { unitDependencies } from "../platform/units";
import type { Evaluation, PlannedResource } from "./evaluate";

/** What `npm run plan -- <stack>` writes to plan/<stack>.json. */
export interface SavedPlan {
  readonly stack: string;
  readonly environment: string;
  /** The units this stack deploys (`platform` and domain names). */
  readonly units: readonly string[];
  /** For each unit of the mesh, the units whose stacks its own stack reads when every unit has one. */
  readonly dependencies: Readonly<Record<string, readonly string[]>>;
  /** Account alias -> account id. */
  readonly accounts: Readonly<Record<string, string>>;
  /** The stack's outputs: what other stacks read through stack references. */
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly resources: readonly PlannedResource[];
  /** The declared tables and subscriptions at rest: the policy pack's `lakeFormationAccess`. */
  readonly lakeFormationAccess: ReturnType<typeof lakeFormationAccess>;
  /** Each stream product's event types and payload fields: the policy pack's `streamContracts`. */
  readonly streamContracts: readonly StreamContract[];
}

export interface StreamContract {
  readonly streamArn: string;
  readonly product: string;
  readonly events: Readonly<Record<string, readonly string[]>>;
}

/** What a filter on each stream may name: its contract's current event types and their fields. */
export function streamContracts(mesh: Mesh): StreamContract[] {
  return mesh.products.map((product) => ({
    streamArn: product.streamArn,
    product: product.ref,
    events: Object.fromEntries(
      Object.entries(currentVersion(product.contract).events).map(([type, schema]) => [
        type,
        [...contractFields(eventJsonSchema(schema)).keys()],
      ]),
    ),
  }));
}

/** A problem a user can fix (a missing or unreadable saved plan): printed as one line, no trace. */
export class SavedPlanError extends Error {
  override readonly name = "SavedPlanError";
}

/** Reads a saved plan, checking that it is one (`npm run plan` of this version wrote it). */
export function readSavedPlan(file: string): SavedPlan {
  if (!existsSync(file)) throw new SavedPlanError(`${file}: no such plan`);
  let plan: Partial<SavedPlan>;
  try {
    plan = JSON.parse(readFileSync(file, "utf8")) as Partial<SavedPlan>;
  } catch (error) {
    throw new SavedPlanError(`${file}: not JSON (${(error as Error).message})`);
  }
  const missing = (["stack", "environment", "units", "dependencies", "outputs", "resources"] as const).filter(
    (key) => plan[key] === undefined,
  );
  if (missing.length) {
    throw new SavedPlanError(
      `${file}: not a plan written by this version of npm run plan (no ${missing.join(", ")}); run npm run plan -- ${plan.stack ?? basename(file, ".json")} again`,
    );
  }
  return plan as SavedPlan;
}

/**
 * The outputs the stack of one unit would export, cut from a stack that deploys several (a whole
 * environment): `platform` belongs to the platform unit; in every other output, the entries keyed
 * by the unit's name or by one of its refs (`<unit>/<name>`).
 */
export function unitOutputs(
  outputs: Readonly<Record<string, unknown>>,
  unit: string,
): Record<string, unknown> {
  const cut: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(outputs)) {
    if (key === PLATFORM_UNIT) {
      if (unit === PLATFORM_UNIT) cut[key] = value;
      continue;
    }
    if (!value || typeof value !== "object") continue;
    const mine = Object.entries(value).filter(([k]) => k === unit || k.startsWith(`${unit}/`));
    if (mine.length) cut[key] = Object.fromEntries(mine);
  }
  return cut;
}

/**
 * The outputs of the stacks a stack reads (`references`: unit -> fully qualified stack name), from
 * the plans saved in `dir`: the plan of the named stack (`org/project/<stack>` -> `<stack>.json`),
 * or else the unit's outputs cut from a saved plan of the same environment that deploys the unit
 * (the whole environment's). Resolved before the program runs, so a missing plan is reported
 * before anything is registered: a {@link SavedPlanError} saying which plan is missing and how to
 * make it.
 */
export function peerStacksFromPlans(
  dir: string,
  environment: string,
  references: ReadonlyMap<string, string>,
): Record<string, Record<string, unknown>> {
  const peers: Record<string, Record<string, unknown>> = {};
  let saved: SavedPlan[] | undefined;
  for (const [unit, name] of references) {
    const stack = name.split("/").pop()!;
    const own = join(dir, `${stack}.json`);
    if (existsSync(own)) {
      peers[name] = { ...readSavedPlan(own).outputs };
      continue;
    }
    saved ??= existsSync(dir)
      ? readdirSync(dir)
          .filter((file) => file.endsWith(".json"))
          .sort()
          .map((file) => readSavedPlan(join(dir, file)))
      : [];
    const covering = saved.find((plan) => plan.environment === environment && plan.units.includes(unit));
    if (!covering) {
      throw new SavedPlanError(
        `stack reference ${name} (unit ${unit}): no saved plan ${join("plan", `${stack}.json`)}, and no saved plan of environment ${environment} deploys ${unit}. ` +
          `Plan that stack first (npm run plan -- ${stack}) or the whole ${environment} environment (npm run plan -- <stack with mesh:units [all]>).`,
      );
    }
    peers[name] = unitOutputs(covering.outputs, unit);
  }
  return peers;
}

/** The plan of an evaluated stack, as `npm run plan` saves it. */
export function savedPlan(mesh: Mesh, evaluation: Evaluation): SavedPlan {
  return {
    stack: evaluation.stack,
    environment: mesh.config.environment,
    units: [...mesh.units],
    dependencies: Object.fromEntries(
      [...unitDependencies(mesh)].map(([unit, needs]) => [unit, [...needs].sort()]),
    ),
    accounts: Object.fromEntries(Object.entries(mesh.config.accounts).map(([alias, a]) => [alias, a.id])),
    outputs: evaluation.outputs,
    resources: evaluation.resources,
    lakeFormationAccess: lakeFormationAccess(
      mesh.atRestProducts,
      mesh.atRestSubscriptions,
      mesh.config.accounts[PLATFORM_UNIT]!.id,
    ),
    streamContracts: streamContracts(mesh),
  };
}

import { Ajv } from "ajv";
import RandExp from "randexp";
import { strict as assert } from "node:assert";
import {
  contractJsonSchema,
  currentVersion,
  parseEnvelope,
  type Contract,
  type JsonSchema,
} from "../../platform/contract";
import { domains } from "../../domains";
import { declaredContracts } from "../../tooling/contract-lock";
import { fixtureDomains } from "../fixtures/mesh";

/**
 * The registry's JSON Schema and the runtime's zod contract must give the same verdict on every
 * event, both ways: what one accepts the other accepts, what one refuses the other refuses.
 */

/** A value the schema accepts, built from its keywords (the subset contracts use). */
function sample(schema: JsonSchema, withOptional: boolean, where: string): unknown {
  if ("const" in schema) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) {
    const branch = schema.anyOf.find((s) => s.type !== "null") ?? schema.anyOf[0]!;
    return sample(branch, withOptional, where);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string": {
      if (schema.format === "date-time") return "2026-12-03T10:15:30.000Z";
      if (typeof schema.pattern === "string") {
        const generator = new RandExp(schema.pattern);
        generator.randInt = (low: number) => low; // deterministic: the shortest match
        return generator.gen();
      }
      const min = Number(schema.minLength ?? 1);
      return "x".repeat(Math.max(min, 1));
    }
    case "integer":
    case "number": {
      if (typeof schema.minimum === "number") return Math.max(schema.minimum, 0);
      if (typeof schema.exclusiveMinimum === "number") return schema.exclusiveMinimum + 1;
      return 1;
    }
    case "boolean":
      return true;
    case "array":
      return [];
    case "object": {
      const required = new Set(schema.required ?? []);
      return Object.fromEntries(
        Object.entries(schema.properties ?? {})
          .filter(([key]) => withOptional || required.has(key))
          .map(([key, property]) => [key, sample(property, withOptional, `${where}.${key}`)]),
      );
    }
    default:
      throw new Error(`${where}: cannot generate a value of type ${String(type)}`);
  }
}

interface Case {
  readonly label: string;
  readonly event: unknown;
}

/** Valid events of every type (with and without optional fields) and mutations of them. */
function cases(contract: Contract): Case[] {
  const schema = contractJsonSchema(contract);
  const variants = (schema.oneOf ?? []) as JsonSchema[];
  const all: Case[] = [];
  for (const variant of variants) {
    const type = String(variant.properties?.type?.const);
    for (const withOptional of [false, true]) {
      const event = sample(variant, withOptional, `${contract.name} ${type}`) as Record<string, unknown>;
      const data = event.data as Record<string, unknown>;
      const label = `${type}${withOptional ? " with optional fields" : ""}`;
      all.push({ label, event });
      all.push({
        label: `${label}, an extra payload field`,
        event: { ...event, data: { ...data, addedLater: 1 } },
      });
      all.push({ label: `${label}, an extra envelope field`, event: { ...event, traceparent: "00-abc" } });
      for (const field of variant.required ?? []) {
        const { [field]: _dropped, ...rest } = event;
        all.push({ label: `${label} without ${field}`, event: rest });
        if (typeof event[field] === "string")
          all.push({ label: `${label}, empty ${field}`, event: { ...event, [field]: "" } });
        all.push({
          label: `${label}, ${field} of the wrong type`,
          event: { ...event, [field]: { wrong: true } },
        });
      }
      for (const [field, value] of Object.entries(data)) {
        const { [field]: _dropped, ...rest } = data;
        all.push({ label: `${label} without data.${field}`, event: { ...event, data: rest } });
        const wrong = typeof value === "string" ? 42 : "not-a-number";
        all.push({
          label: `${label}, data.${field} of the wrong type`,
          event: { ...event, data: { ...data, [field]: wrong } },
        });
        if (typeof value === "string") {
          all.push({
            label: `${label}, empty data.${field}`,
            event: { ...event, data: { ...data, [field]: "" } },
          });
          all.push({
            label: `${label}, data.${field} outside its enum or length`,
            event: { ...event, data: { ...data, [field]: "§".repeat(300) } },
          });
        }
      }
    }
  }
  all.push({
    label: "an unknown event type",
    event: { ...(all[0]!.event as object), type: "nobody.declared" },
  });
  all.push({
    label: "a version that is not an integer",
    event: { ...(all[0]!.event as object), dataversion: 1.5 },
  });
  all.push({
    label: "a time without offset",
    event: { ...(all[0]!.event as object), time: "2026-12-03T10:15:30" },
  });
  return all;
}

function verdicts(contract: Contract) {
  // The registry validates formats with its own validator; the pattern zod emits carries the date-time rule.
  const validate = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(
    contractJsonSchema(contract),
  );
  return cases(contract).map(({ label, event }) => {
    let runtime = true;
    try {
      parseEnvelope(contract, event);
    } catch {
      runtime = false;
    }
    return { label, registry: validate(event) === true, runtime };
  });
}

describe("contracts agree: the registry's JSON Schema and the runtime give the same verdict", () => {
  for (const contract of declaredContracts(fixtureDomains)) {
    it(`on ${contract.name} (fixture), for valid events and mutations of each field`, () => {
      const results = verdicts(contract);
      const disagreements = results.filter((r) => r.registry !== r.runtime);
      assert.deepEqual(disagreements, []);
      // The cases are not all one verdict: some are accepted and some refused.
      assert.ok(results.filter((r) => r.runtime).length > 2);
      assert.ok(results.filter((r) => !r.runtime).length > 2);
    });
  }

  it("accept a payload field the contract does not declare (a later version's optional field)", () => {
    for (const contract of declaredContracts(fixtureDomains)) {
      const accepted = verdicts(contract).filter((r) => r.label.endsWith("an extra payload field"));
      assert.ok(accepted.length > 0 && accepted.every((r) => r.registry && r.runtime), contract.name);
    }
  });

  it("refuse an envelope without a partition key or with an empty source, in both", () => {
    for (const contract of declaredContracts(fixtureDomains)) {
      const refused = verdicts(contract).filter((r) =>
        / without partitionkey$|, empty source$/.test(r.label),
      );
      assert.ok(refused.length > 0 && refused.every((r) => !r.registry && !r.runtime), contract.name);
    }
  });

  it("on every shipped contract's current version", () => {
    const contracts = declaredContracts(domains);
    assert.ok(contracts.length > 0);
    for (const contract of contracts) {
      const disagreements = verdicts(contract).filter((r) => r.registry !== r.runtime);
      assert.deepEqual(disagreements, [], `${contract.name} v${currentVersion(contract).version}`);
    }
  });
});

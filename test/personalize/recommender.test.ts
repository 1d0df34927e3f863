import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import {
  PersonalizeRecommender,
  type PersonalizeRecommenderArgs,
} from "../../components/personalize/recommender";
import { DEFAULT_RECIPE_ARN, schemaName } from "../../components/personalize/resources";
import type {
  AvroField,
  DatasetSchemaName,
  PersonalizeAvroSchema,
} from "../../components/personalize/schemas";

const REGION = "eu-west-1";
const DYNAMIC = "pulumi-nodejs:dynamic/personalize:";
const arnOf = (kind: string, name: string) => `arn:aws:personalize:${REGION}:111122223333:${kind}/${name}`;

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** Fixture schemas: the component takes whatever its domain derives, it derives nothing itself. */
const avro = (name: DatasetSchemaName, fields: AvroField[]): PersonalizeAvroSchema => ({
  type: "record",
  name,
  namespace: "com.amazonaws.personalize.schema",
  fields,
  version: "1.0",
});
const SCHEMAS = {
  users: avro("Users", [{ name: "USER_ID", type: "string" }]),
  items: avro("Items", [
    { name: "ITEM_ID", type: "string" },
    { name: "CREATION_TIMESTAMP", type: "long" },
  ]),
  interactions: avro("Interactions", [
    { name: "USER_ID", type: "string" },
    { name: "ITEM_ID", type: "string" },
    { name: "TIMESTAMP", type: "long" },
  ]),
};

function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** Constructs the component under the mock runtime; returns it, its children and their URNs. */
async function construct(args: PersonalizeRecommenderArgs) {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource({ type, name, inputs }) {
        registered.push({ type, name, inputs });
        if (!type.startsWith(DYNAMIC)) return { id: `${name}-id`, state: inputs };
        const kind = type.slice(DYNAMIC.length);
        const state = { ...inputs, arn: arnOf(kind, inputs.name) };
        if (kind === "EventTracker") state.trackingId = "tracking-id-1";
        return { id: state.arn, state };
      },
      call: ({ inputs }) => inputs,
    },
    "mesh",
    "test",
    false,
  );
  const children: pulumi.Resource[] = [];
  // Transformations of a component also see its children as they are constructed.
  const recommender = new PersonalizeRecommender("recs", args, {
    transformations: [({ resource, type }) => void (type.startsWith(DYNAMIC) && children.push(resource))],
  });
  const outputs = [
    recommender.datasetGroupArn,
    recommender.eventTrackerArn,
    recommender.trackingId,
    recommender.solutionArn,
    recommender.usersDatasetArn,
    recommender.itemsDatasetArn,
    recommender.interactionsDatasetArn,
  ];
  await Promise.all(outputs.map(promiseOf));
  const urns = await Promise.all(children.map((child) => promiseOf(child.urn)));
  const named = (name: string): Registered => {
    const found = registered.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}`);
    return found;
  };
  return { recommender, registered, urns, named };
}

describe("PersonalizeRecommender under the mock runtime", () => {
  let world: Awaited<ReturnType<typeof construct>>;
  before(async () => {
    world = await construct({ schemas: SCHEMAS, region: REGION });
  });

  it("creates the dataset group, three schemas and datasets, tracker and solution: no training in `up`", () => {
    assert.deepEqual(
      world.registered.map((r) => `${r.type} ${r.name}`).sort(),
      [
        "mesh:recommendations:Personalize recs",
        `${DYNAMIC}Dataset recs-interactions-dataset`,
        `${DYNAMIC}Dataset recs-items-dataset`,
        `${DYNAMIC}Dataset recs-users-dataset`,
        `${DYNAMIC}DatasetGroup recs-dataset-group`,
        `${DYNAMIC}EventTracker recs-event-tracker`,
        `${DYNAMIC}Schema recs-interactions-schema`,
        `${DYNAMIC}Schema recs-items-schema`,
        `${DYNAMIC}Schema recs-users-schema`,
        `${DYNAMIC}Solution recs-solution`,
      ].sort(),
    );
  });

  it("parents every child to the component", () => {
    assert.equal(world.urns.length, 9);
    for (const urn of world.urns) {
      assert.match(urn, /::mesh:recommendations:Personalize\$pulumi-nodejs:dynamic\/personalize:\w+::recs-/);
    }
  });

  it("wires each resource to its parent's ARN, so that deletes run in reverse order", () => {
    const group = arnOf("DatasetGroup", "recs-dataset-group");
    const { inputs: items } = world.named("recs-items-dataset");
    assert.equal(items.datasetGroupArn, group);
    assert.equal(items.schemaArn, arnOf("Schema", world.named("recs-items-schema").inputs.name));
    assert.equal(items.datasetType, "Items");
    assert.equal(world.named("recs-users-dataset").inputs.datasetType, "Users");
    assert.equal(world.named("recs-interactions-dataset").inputs.datasetType, "Interactions");
    assert.equal(world.named("recs-event-tracker").inputs.datasetGroupArn, group);
    assert.equal(world.named("recs-solution").inputs.datasetGroupArn, group);
  });

  it("creates the schemas it is handed, named after their content", () => {
    for (const [name, schema] of [
      ["recs-users-schema", SCHEMAS.users],
      ["recs-items-schema", SCHEMAS.items],
      ["recs-interactions-schema", SCHEMAS.interactions],
    ] as const) {
      const { inputs } = world.named(name);
      assert.deepEqual(JSON.parse(inputs.schema), schema);
      assert.equal(inputs.name, schemaName(name, inputs.schema));
      assert.match(inputs.name, new RegExp(`^${name}-[0-9a-f]{8}$`));
    }
  });

  it("uses the default recipe without automatic training", () => {
    const { inputs: solution } = world.named("recs-solution");
    assert.equal(solution.recipeArn, DEFAULT_RECIPE_ARN);
    assert.equal(solution.recipeArn, "arn:aws:personalize:::recipe/aws-user-personalization-v2");
    assert.equal(solution.performAutoTraining, false);
    assert.equal(solution.performHPO, false);
  });

  it("carries a small serialised provider on every dynamic resource", () => {
    for (const resource of world.registered.filter((r) => r.type.startsWith(DYNAMIC))) {
      const provider = resource.inputs.__provider;
      assert.equal(typeof provider, "string", resource.name);
      assert.match(provider, /^exports\.handler = /);
      assert.ok(provider.length < 40_000, `${resource.name}: ${provider.length} characters`);
    }
  });

  it("serialises the provider of each resource's own type, which loads and diffs", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const requireFromString = require("require-from-string") as (code: string) => {
      handler(): pulumi.dynamic.ResourceProvider;
    };
    const { inputs } = world.named("recs-items-dataset");
    const dataset = requireFromString(inputs.__provider).handler();
    const { __provider, ...state } = inputs;
    const diff = await dataset.diff!(state.arn, state, { ...state, schemaArn: "arn:other" });
    assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("exposes the outputs, with the tracking id secret", async () => {
    const { recommender } = world;
    assert.equal(await promiseOf(recommender.datasetGroupArn), arnOf("DatasetGroup", "recs-dataset-group"));
    assert.equal(await promiseOf(recommender.eventTrackerArn), arnOf("EventTracker", "recs-event-tracker"));
    assert.equal(await promiseOf(recommender.itemsDatasetArn), arnOf("Dataset", "recs-items-dataset"));
    assert.equal(await promiseOf(recommender.trackingId), "tracking-id-1");
    assert.equal(await pulumi.isSecret(recommender.trackingId), true);
    assert.equal(await pulumi.isSecret(recommender.datasetGroupArn), false);
  });

  it("passes the recipe it is given", async () => {
    const custom = await construct({
      schemas: SCHEMAS,
      region: REGION,
      recipeArn: "arn:aws:personalize:::recipe/aws-similar-items",
    });
    assert.equal(
      custom.named("recs-solution").inputs.recipeArn,
      "arn:aws:personalize:::recipe/aws-similar-items",
    );
  });

  it("refuses a schema handed in for the wrong dataset type", () => {
    assert.throws(
      () =>
        new PersonalizeRecommender("recs", {
          schemas: { ...SCHEMAS, items: SCHEMAS.users },
          region: REGION,
        }),
      { message: "recs: the items schema must be named Items, is Users" },
    );
  });
});

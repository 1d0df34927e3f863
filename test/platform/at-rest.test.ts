import { strict as assert } from "node:assert";
import { z } from "zod";
import { contractColumns, PII } from "../../platform/columns";
import { defineContract } from "../../platform/contract";
import {
  type AtRestProductDeclaration,
  type AtRestSubscriptionDeclaration,
  defineDomain,
  type DomainDeclaration,
} from "../../platform/declarations";
import { parseMeshConfig, type Mesh, type ParseResult } from "../../platform/mesh";
import { meshConfig } from "../helpers/stacks";

const problemsOf = (result: ParseResult): string[] => (result.ok ? [] : result.problems);

const memberEvents = defineContract("members.member-events", [
  {
    version: 1,
    events: {
      "member.joined": z.object({
        memberId: z.string().min(1),
        email: z.email().meta(PII),
        plan: z.enum(["basic", "plus"]),
        seats: z.number().int().min(1).max(100),
        joinedAt: z.iso.datetime({ offset: true }),
      }),
      "member.left": z.object({ memberId: z.string().min(1), plan: z.enum(["basic", "plus"]) }),
    },
  },
]);

const visitEvents = defineContract("members.visit-events", [
  {
    version: 1,
    events: { "visit.started": z.object({ memberId: z.string().min(1), pages: z.array(z.string()) }) },
  },
]);

const members: AtRestProductDeclaration = {
  kind: "at-rest",
  name: "members",
  description: "Members.",
  contract: memberEvents,
  classification: "pii",
};

/** A fixture mesh: a producer with an at-rest product and a stream copied at rest, and a reader. */
function fixture(
  product: Partial<AtRestProductDeclaration> = {},
  subscriptions: readonly AtRestSubscriptionDeclaration[] = [
    { kind: "at-rest", name: "members-history", product: "members/members" },
  ],
): DomainDeclaration[] {
  return [
    defineDomain({
      name: "members",
      description: "A fixture producer.",
      owner: { team: "t", contact: "t@example.com" },
      account: "users",
      products: [
        { ...members, ...product },
        {
          kind: "stream",
          name: "visit-events",
          description: "Visits.",
          contract: visitEvents,
          partitionKey: "memberId",
          capacity: { mode: "on-demand" },
          classification: "internal",
          atRest: {},
        },
      ],
      subscriptions: [],
    }),
    defineDomain({
      name: "reader",
      description: "A fixture consumer.",
      owner: { team: "t", contact: "t@example.com" },
      account: "analytics",
      products: [],
      subscriptions,
    }),
  ];
}

function parse(declarations: DomainDeclaration[]): Mesh {
  const result = parseMeshConfig(meshConfig(), declarations);
  assert.deepEqual(problemsOf(result), []);
  assert.ok(result.ok);
  return result.mesh;
}

describe("products and subscriptions at rest", () => {
  describe("columns derived from the contract", () => {
    it("starts with the envelope, then each payload field once, nullable where some event type lacks it", () => {
      assert.deepEqual(
        contractColumns(memberEvents).map((c) => [c.name, c.kind, c.nullable, c.pii]),
        [
          ["event_id", "string", false, false],
          ["event_type", "string", false, false],
          ["event_time", "timestamp", false, false],
          ["member_id", "string", false, false],
          ["email", "string", true, true],
          ["plan", "string", false, false],
          ["seats", "int", true, false],
          ["joined_at", "timestamp", true, false],
        ],
      );
    });

    it("refuses two event types that disagree on a field's kind", () => {
      const broken = defineContract("x.y", [
        {
          version: 1,
          events: { a: z.object({ n: z.number().int() }), b: z.object({ n: z.string() }) },
        },
      ]);
      assert.throws(() => contractColumns(broken), {
        name: "ColumnTypeError",
        message: "x.y b.n is string but x.y a.n is long",
      });
    });
  });

  describe("resolution", () => {
    it("resolves an at-rest product and a stream's at-rest copy into tables partitioned by event date", () => {
      const mesh = parse(fixture());
      assert.deepEqual(
        mesh.atRestProducts.map((p) => [
          p.ref,
          p.database,
          p.table,
          !!p.stream,
          p.partitionKeys.map((k) => k.name),
        ]),
        [
          ["members/members", "members", "members", false, ["event_date"]],
          ["members/visit-events", "members", "visit_events", true, ["event_date"]],
        ],
      );
      assert.deepEqual(
        mesh.products.map((p) => p.ref),
        ["members/visit-events"],
      );
      const visits = mesh.atRestProducts[1]!;
      assert.deepEqual(
        visits.columns.map((c) => `${c.name} ${c.kind}`),
        [
          "event_id string",
          "event_type string",
          "event_time timestamp",
          "member_id string",
          "pages string-list",
        ],
      );
    });

    it("partitions by declared payload fields, which leave the data columns", () => {
      const mesh = parse(fixture({ atRest: { partitionBy: ["plan", "event_date"] } }));
      const product = mesh.atRestProducts[0]!;
      assert.deepEqual(
        product.partitionKeys.map((k) => k.name),
        ["plan", "event_date"],
      );
      assert.ok(!product.columns.some((c) => c.name === "plan"));
    });

    it("withholds pii columns from a subscription that does not declare includePii", () => {
      const mesh = parse(
        fixture({}, [
          { kind: "at-rest", name: "without", product: "members/members" },
          { kind: "at-rest", name: "with", product: "members/members", includePii: true },
          { kind: "at-rest", name: "some", product: "members/members", columns: ["member_id", "plan"] },
        ]),
      );
      const [without, withPii, some] = mesh.atRestSubscriptions;
      assert.ok(!without!.columns.includes("email"));
      assert.equal(without!.allColumns, false);
      assert.ok(withPii!.columns.includes("email"));
      assert.equal(withPii!.allColumns, true);
      assert.deepEqual(some!.columns, ["member_id", "plan"]);
      assert.deepEqual(
        mesh.domains.find((d) => d.name === "reader")!.atRestSubscriptions.map((s) => s.ref),
        ["reader/without", "reader/with", "reader/some"],
      );
      assert.deepEqual(mesh.subscriptions, []);
    });
  });

  describe("validation", () => {
    it("reports every at-rest problem at once, each with its path", () => {
      const declarations = fixture(
        { classification: "internal", atRest: { eventTypes: ["member.gone"], partitionBy: ["email"] } },
        [
          { kind: "at-rest", name: "a", product: "members/nothing" },
          { kind: "at-rest", name: "b", product: "members/members", includePii: true },
          { kind: "at-rest", name: "c", product: "members/visit-events", columns: ["nope"] },
        ],
      );
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), declarations)), [
        "domains.members.products[0].atRest.eventTypes: members/members has no event type member.gone",
        "domains.reader.subscriptions[0].product: no data product at rest members/nothing in the mesh",
        "domains.reader.subscriptions[2].columns: members/visit-events has no column nope (columns: event_id, event_type, event_time, member_id, pages)",
      ]);
    });

    it("requires pii fields to be in pii products, and pii products to mark them", () => {
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), fixture({ classification: "internal" }))), [
        "domains.members.products[0].classification: the contract marks email as pii, so the product must be classified pii, is internal",
      ]);
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), fixture({ contract: visitEvents }, []))), [
        "domains.members.products[0].contract: the product is classified pii but its contract marks no field as pii (.meta(PII))",
      ]);
    });

    it("refuses partitions that are pii, optional, lists or repeated", () => {
      const declarations = fixture({ atRest: { partitionBy: ["email", "seats", "memberId", "memberId"] } });
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), declarations)), [
        "domains.members.products[0].atRest.partitionBy[0]: email is pii and would appear in the S3 paths of the table",
        "domains.members.products[0].atRest.partitionBy[1]: seats is not event_date or a required string, number or boolean field of every stored event type",
        "domains.members.products[0].atRest.partitionBy: partitions by a column twice",
      ]);
    });

    it("refuses pii columns without includePii, and includePii on a product that is not pii", () => {
      const declarations = fixture({}, [
        { kind: "at-rest", name: "a", product: "members/members", columns: ["member_id", "email"] },
        { kind: "at-rest", name: "b", product: "members/visit-events", includePii: true },
      ]);
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), declarations)), [
        "domains.reader.subscriptions[0].columns: email is pii; declare includePii to read it",
        "domains.reader.subscriptions[1].includePii: members/visit-events is classified internal, not pii",
      ]);
    });

    it("tells a stream subscription to an at-rest product, and an at-rest one to a stream without a copy, what to do", () => {
      const [producer, reader] = fixture();
      const noCopy: DomainDeclaration = {
        ...producer!,
        products: producer!.products.map((p) => (p.kind === "stream" ? { ...p, atRest: undefined } : p)),
      };
      const declarations: DomainDeclaration[] = [
        noCopy,
        {
          ...reader!,
          subscriptions: [
            { kind: "at-rest", name: "a", product: "members/visit-events" },
            {
              name: "b",
              product: "members/members",
              handler: "handlers/b.ts",
              access: { pattern: "shared-replay" },
            },
          ],
        },
      ];
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), declarations)), [
        "domains.reader.subscriptions[0].product: members/visit-events is not kept at rest (declare atRest on the product)",
        'domains.reader.subscriptions[1].product: members/members is kept at rest only; subscribe with kind "at-rest"',
      ]);
    });

    it("checks the shape of at-rest declarations with zod, with paths", () => {
      const declarations = fixture({ atRest: { partitionBy: [] } }, [
        {
          kind: "at-rest",
          name: "A",
          product: "members/members",
          columns: [],
        } as AtRestSubscriptionDeclaration,
      ]);
      assert.deepEqual(problemsOf(parseMeshConfig(meshConfig(), declarations)), [
        "domains.members.products[0].atRest.partitionBy: Too small: expected array to have >=1 items",
        "domains.reader.subscriptions[0].name: must be lower-case words joined by hyphens",
        "domains.reader.subscriptions[0].columns: Too small: expected array to have >=1 items",
      ]);
    });
  });
});

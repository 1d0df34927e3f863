import { strict as assert } from "node:assert";
import { loadMesh, type Mesh } from "../../platform/mesh";
import type { PlannedResource } from "../../tooling/evaluate";
import { roleNameOf, ViolationKind, type Plan } from "../../tooling/report/access-matrix";
import {
  atRestMatrix,
  formatAtRestMatrix,
  IAM_ALLOWED_PRINCIPALS,
  RestParty,
  TableAccess,
} from "../../tooling/report/at-rest-matrix";
import { buildReport } from "../../tooling/report";
import { ACCOUNTS, fixtureConfig } from "../fixtures/mesh";
import { fixtureDomainsAtRest } from "../fixtures/mesh/at-rest";
import { evaluateFixtureAtRest } from "../helpers/stacks";

const MEMBERS = "users/members";
const INTERACTIONS = "interactions/interaction-events";
const role = (account: keyof typeof ACCOUNTS, name: string) =>
  `arn:aws:iam::${ACCOUNTS[account]}:role/${name}`;
const root = (account: keyof typeof ACCOUNTS) => `arn:aws:iam::${ACCOUNTS[account]}:root`;

/** A copy of the plan with one resource's inputs rewritten. */
function withInputs(
  plan: Plan,
  name: string,
  edit: (inputs: Record<string, any>) => Record<string, any>,
): Plan {
  assert.ok(
    plan.resources.some((r) => r.name === name),
    `no resource ${name} in the plan`,
  );
  return {
    ...plan,
    resources: plan.resources.map((r) => (r.name === name ? { ...r, inputs: edit({ ...r.inputs }) } : r)),
  };
}

const withResource = (plan: Plan, resource: PlannedResource): Plan => ({
  ...plan,
  resources: [...plan.resources, resource],
});

describe("report: access matrix at rest (fixture mesh with both planes)", () => {
  let plan: Plan;
  let mesh: Mesh;
  before(async () => {
    const dev = await evaluateFixtureAtRest("dev");
    plan = { stack: "dev", resources: dev.resources };
    mesh = loadMesh(fixtureConfig("dev"), fixtureDomainsAtRest);
  });

  const rowOf = (matrix: ReturnType<typeof atRestMatrix>, product: string, principal: string) =>
    matrix.rows.find((r) => r.product === product && r.principal === principal);

  it("finds no violation in the generated plan, on either plane", () => {
    const report = buildReport(plan, mesh);
    assert.deepEqual(report.atRest.violations, []);
    assert.deepEqual(report.violations, []);
  });

  it("reads each product's table, its columns and its declared pii columns back from the plan", () => {
    const matrix = atRestMatrix(plan, mesh);
    assert.deepEqual(
      matrix.tables.map((t) => [t.product, t.accountId, `${t.database}.${t.table}`, t.pii]),
      [
        [MEMBERS, ACCOUNTS.users, "users.members", ["email"]],
        [INTERACTIONS, ACCOUNTS.interactions, "interactions.interaction_events", []],
      ],
    );
    assert.deepEqual(matrix.tables[0]!.columns, [
      "event_id",
      "event_type",
      "event_time",
      "user_id",
      "email",
      "country",
      "event_date",
    ]);
  });

  it("resolves LF-tag expressions: the account without includePii gets every column but the pii one", () => {
    const matrix = atRestMatrix(plan, mesh);
    const account = rowOf(matrix, MEMBERS, root("recommendations"))!;
    assert.equal(account.access, TableAccess.Read);
    assert.equal(account.party, RestParty.ConsumerAccount);
    assert.deepEqual(account.pii, []);
    assert.ok(!account.columns.includes("email"));
    assert.deepEqual(account.via, ["Lake Formation grant users-members-recommendations-read"]);

    const reader = rowOf(matrix, MEMBERS, role("recommendations", "mesh-recommendations-members-history"))!;
    assert.equal(reader.party, RestParty.Subscriber);
    assert.deepEqual(reader.subscriptions, ["recommendations/members-history"]);
    assert.deepEqual(reader.columns, [
      "event_id",
      "event_type",
      "event_time",
      "user_id",
      "country",
      "event_date",
    ]);
    assert.equal(reader.iam, true);
  });

  it("gives the pii column only to the subscription that declares includePii", () => {
    const matrix = atRestMatrix(plan, mesh);
    const audit = rowOf(matrix, MEMBERS, role("analytics", "mesh-analytics-members-audit"))!;
    assert.deepEqual(audit.pii, ["email"]);
    assert.deepEqual(audit.subscriptions, ["analytics/members-audit"]);
  });

  it("narrows a role's grant on a shared table to the subscribed columns and partitions", () => {
    const matrix = atRestMatrix(plan, mesh);
    const history = rowOf(matrix, INTERACTIONS, role("analytics", "mesh-analytics-interactions-history"))!;
    assert.deepEqual(history.columns, ["user_id", "item_id", "event_date"]);
  });

  it("shows the producer's own Lake Formation location role and landing, and the catalog's DESCRIBE", () => {
    const matrix = atRestMatrix(plan, mesh);
    assert.equal(
      rowOf(matrix, INTERACTIONS, role("interactions", "mesh-interactions-lake-location"))?.party,
      RestParty.LakeFormation,
    );
    assert.equal(
      rowOf(matrix, INTERACTIONS, role("interactions", "mesh-interactions-interaction-events-landing"))
        ?.party,
      RestParty.Landing,
    );
    const catalog = rowOf(matrix, MEMBERS, root("platform"))!;
    assert.equal(catalog.access, TableAccess.Describe);
    assert.equal(catalog.party, RestParty.Catalog);
  });

  it("reports an extra Lake Formation grant to an account without a subscription", () => {
    const extra = withResource(plan, {
      urn: "urn:pulumi:dev::mesh::aws:lakeformation/permissions:Permissions::users-members-songs-read",
      type: "aws:lakeformation/permissions:Permissions",
      name: "users-members-songs-read",
      id: "",
      account: ACCOUNTS.users,
      parent: null,
      protect: false,
      retainOnDelete: false,
      inputs: {
        principal: ACCOUNTS.songs,
        permissions: ["SELECT"],
        tableWithColumns: {
          catalogId: ACCOUNTS.users,
          databaseName: "users",
          name: "members",
          columnNames: ["user_id", "country"],
        },
      },
    } as PlannedResource);
    const { violations } = atRestMatrix(extra, mesh);
    assert.deepEqual(
      violations.map((v) => [v.kind, v.product, v.roleArn]),
      [[ViolationKind.ReadWithoutSubscription, MEMBERS, root("songs")]],
    );
    assert.match(
      violations[0]!.message,
      /songs \(210987654323\) can read users\/members at rest \(user_id, country\)/,
    );
    assert.match(violations[0]!.message, /users-members-songs-read/);
  });

  it("reports an LF-tag expression that matches the pii column for an account without includePii", () => {
    const broad = withInputs(plan, "users-members-recommendations-read", (inputs) => ({
      ...inputs,
      lfTagPolicy: { ...inputs.lfTagPolicy, expressions: [{ key: "mesh:product", values: [MEMBERS] }] },
    }));
    const { violations } = atRestMatrix(broad, mesh);
    assert.deepEqual(
      violations.map((v) => [v.kind, v.product, v.roleArn]),
      [[ViolationKind.PiiWithoutSubscription, MEMBERS, root("recommendations")]],
    );
    assert.equal(
      violations[0]!.message,
      `the account (${root("recommendations")}) in recommendations (${ACCOUNTS.recommendations}) can read the pii column(s) email of ${MEMBERS}, but no subscription of it (recommendations/members-history) declares includePii.`,
    );
  });

  it("reports a role reading the pii column, or columns beyond its subscription", () => {
    const wildcard = withInputs(plan, "recommendations-members-history-select", (inputs) => ({
      ...inputs,
      tableWithColumns: { ...inputs.tableWithColumns, columnNames: undefined, wildcard: true },
    }));
    // The account's grant withholds email, so a wildcard role grant still cannot read it.
    assert.deepEqual(atRestMatrix(wildcard, mesh).violations, []);

    const wide = withInputs(plan, "analytics-interactions-history-select", (inputs) => ({
      ...inputs,
      tableWithColumns: { ...inputs.tableWithColumns, columnNames: ["user_id", "item_id", "session_id"] },
    }));
    const { violations } = atRestMatrix(wide, mesh);
    assert.deepEqual(
      violations.map((v) => [v.kind, v.roleArn, v.message]),
      [
        [
          ViolationKind.ColumnsWithoutSubscription,
          role("analytics", "mesh-analytics-interactions-history"),
          `mesh-analytics-interactions-history in analytics (${ACCOUNTS.analytics}) can read session_id of ${INTERACTIONS}, beyond the columns of analytics/interactions-history.`,
        ],
      ],
    );
  });

  it("reports a bucket policy that lets another account read the product's objects", () => {
    const policyName = plan.resources.find(
      (r) => r.type === "aws:s3/bucketPolicy:BucketPolicy" && r.name.startsWith("users-members"),
    )!.name;
    const open = withInputs(plan, policyName, (inputs) => {
      const document = JSON.parse(inputs.policy);
      const bucket = String(inputs.bucket);
      document.Statement.push({
        Sid: "PartnerReads",
        Effect: "Allow",
        Principal: { AWS: root("songs") },
        Action: ["s3:GetObject"],
        Resource: `arn:aws:s3:::${bucket}/*`,
      });
      return { ...inputs, policy: JSON.stringify(document) };
    });
    const { violations } = atRestMatrix(open, mesh);
    assert.deepEqual(
      violations.map((v) => [v.kind, v.product, v.roleArn]),
      [[ViolationKind.ReadWithoutSubscription, MEMBERS, root("songs")]],
    );
    assert.match(
      violations[0]!.message,
      /every column\) without a subscription, through bucket policy .*: PartnerReads/,
    );
  });

  it("reports Lake Formation settings that hand new tables to IAM_ALLOWED_PRINCIPALS", () => {
    const iam = withInputs(plan, "users-lake-settings", (inputs) => ({
      ...inputs,
      createTableDefaultPermissions: [{ principal: IAM_ALLOWED_PRINCIPALS, permissions: ["ALL"] }],
    }));
    const { violations } = atRestMatrix(iam, mesh);
    assert.deepEqual(
      violations.map((v) => [v.kind, v.product, v.roleArn, v.accountId]),
      [[ViolationKind.ReadWithoutSubscription, MEMBERS, IAM_ALLOWED_PRINCIPALS, ACCOUNTS.users]],
    );
  });

  it("reports a grant to IAM_ALLOWED_PRINCIPALS, and a role of the producer's account reading the bucket through IAM", () => {
    const iamGrant = withInputs(plan, "users-members-analytics-read", (inputs) => ({
      ...inputs,
      principal: IAM_ALLOWED_PRINCIPALS,
    }));
    assert.deepEqual(
      atRestMatrix(iamGrant, mesh).violations.map((v) => [v.kind, v.product, v.roleArn, v.accountId]),
      [
        [ViolationKind.ReadWithoutSubscription, MEMBERS, IAM_ALLOWED_PRINCIPALS, ACCOUNTS.users],
        // analytics lost its share, so its pii-reading subscription is no longer served.
        [
          ViolationKind.SubscriptionWithoutGrant,
          MEMBERS,
          role("analytics", "mesh-analytics-members-audit"),
          ACCOUNTS.analytics,
        ],
      ],
    );

    const bucket = String(plan.resources.find((r) => r.name === "users-members-location")!.inputs.arn);
    const rogue = withResource(plan, {
      urn: "urn:pulumi:dev::mesh::aws:iam/rolePolicy:RolePolicy::users-reporting-policy",
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "users-reporting-policy",
      id: "",
      account: ACCOUNTS.users,
      parent: null,
      protect: false,
      retainOnDelete: false,
      inputs: {
        role: "mesh-users-reporting",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "ReadEverything", Effect: "Allow", Action: "s3:Get*", Resource: `${bucket}/*` }],
        }),
      },
    } as PlannedResource);
    const { violations } = atRestMatrix(rogue, mesh);
    assert.deepEqual(
      violations.map((v) => [v.kind, v.product, v.roleArn]),
      [[ViolationKind.ReadWithoutSubscription, MEMBERS, role("users", "mesh-users-reporting")]],
    );
    assert.match(violations[0]!.message, /through role policy mesh-users-reporting: ReadEverything\.$/);
  });

  it("reports a subscription whose role is not granted its columns, or may not call Lake Formation", () => {
    const ungranted = {
      ...plan,
      resources: plan.resources.filter((r) => r.name !== "analytics-interactions-history-select"),
    };
    assert.deepEqual(
      atRestMatrix(ungranted, mesh).violations.map((v) => [v.kind, v.roleArn, v.message]),
      [
        [
          ViolationKind.SubscriptionWithoutGrant,
          role("analytics", "mesh-analytics-interactions-history"),
          `analytics/interactions-history: mesh-analytics-interactions-history in analytics (${ACCOUNTS.analytics}) subscribes to ${INTERACTIONS} at rest but no grant in the plan gives it user_id, item_id; it would fail at runtime.`,
        ],
      ],
    );

    const noIam = withInputs(plan, "analytics-members-audit-reader-policy", (inputs) => {
      const document = JSON.parse(inputs.policy);
      document.Statement = document.Statement.filter(
        (s: { Sid?: string }) => s.Sid !== "LakeFormationDataAccess",
      );
      return { ...inputs, policy: JSON.stringify(document) };
    });
    const [violation] = atRestMatrix(noIam, mesh).violations;
    assert.equal(violation?.kind, ViolationKind.SubscriptionWithoutGrant);
    assert.match(violation!.message, /does not allow lakeformation:GetDataAccess and glue:GetTable/);
  });

  it("prints a table per product and the violations", () => {
    const text = formatAtRestMatrix(atRestMatrix(plan, mesh));
    assert.match(text, /^users\/members {2}\(table users\.members in users \(210987654322\), pii: email\)$/m);
    assert.match(text, /mesh-analytics-members-audit +read +every column +yes +analytics\/members-audit/);
    assert.match(text, /no violations at rest/);
  });
});

describe("report: access matrix at rest of a consumer team's stack", () => {
  let plan: Plan;
  let mesh: Mesh;
  before(async () => {
    const dev = await evaluateFixtureAtRest("dev");
    // What the analytics unit's stack holds: its own account's resources only.
    plan = {
      stack: "analytics-dev",
      resources: dev.resources.filter((r) => r.account === ACCOUNTS.analytics),
    };
    mesh = loadMesh({ ...fixtureConfig("dev"), units: ["analytics"] }, fixtureDomainsAtRest);
  });

  it("resolves the grants it writes on producers' tables against the declared tables, and finds no violation", () => {
    const matrix = atRestMatrix(plan, mesh);
    assert.deepEqual(
      matrix.tables.map((t) => [t.product, t.inPlan]),
      [
        [MEMBERS, false],
        [INTERACTIONS, false],
      ],
    );
    assert.deepEqual(
      matrix.rows.map((r) => [r.product, roleNameOf(r.principal), r.columns.length]),
      [
        [INTERACTIONS, "mesh-analytics-interactions-history", 3],
        [MEMBERS, "mesh-analytics-members-audit", 7],
      ],
    );
    assert.deepEqual(matrix.violations, []);
    assert.match(formatAtRestMatrix(matrix), /as declared, its producer's stack is not in this plan/);
  });

  it("reports a role of its own granted more than its subscription", () => {
    const wide = withInputs(plan, "analytics-interactions-history-select", (inputs) => ({
      ...inputs,
      tableWithColumns: { ...inputs.tableWithColumns, columnNames: undefined, wildcard: true },
    }));
    const [violation, ...rest] = atRestMatrix(wide, mesh).violations;
    assert.deepEqual(rest, []);
    assert.equal(violation?.kind, ViolationKind.ColumnsWithoutSubscription);
    assert.match(
      violation!.message,
      /^mesh-analytics-interactions-history in analytics .* can read event_id, event_type/,
    );
  });
});

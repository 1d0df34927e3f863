import { strict as assert } from "node:assert";
import { ACCOUNTS, edit, LAKE_ACCESS, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { UNKNOWN_STRING } from "../lib/values";
import {
  lakeformationDataSharingVersion,
  lakeformationExternalGrantsLfTags,
  lakeformationExternalGrantsReadOnly,
  lakeformationGrantsDeclared,
  lakeformationNoIamAllowedPrincipals,
  lakeformationResourceNoHybridAccess,
  lakeformationSettingsAdmins,
} from "./lakeformation";

const grant = (change: Record<string, unknown>) => edit(mesh(), "lake-grant-analytics", change);

describe("lakeformation-data-sharing-version", () => {
  const policy = lakeformationDataSharingVersion;
  it("passes version 4", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects version 3", async () => {
    assert.deepEqual(
      await messages(policy, edit(mesh(), "lake-settings", { parameters: { CROSS_ACCOUNT_VERSION: "3" } })),
      ["Lake Formation parameters.CROSS_ACCOUNT_VERSION must be at least 4 (it is 3)."],
    );
  });
  it("rejects an unset version (version 1)", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "lake-settings", { parameters: undefined })), [
      "Lake Formation parameters.CROSS_ACCOUNT_VERSION must be at least 4 (it is unset).",
    ]);
  });
});

describe("lakeformation-no-iam-allowed-principals", () => {
  const policy = lakeformationNoIamAllowedPrincipals;
  it("passes", async () => assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects a grant to IAM_ALLOWED_PRINCIPALS", async () => {
    assert.deepEqual(
      await messages(policy, grant({ principal: "IAM_ALLOWED_PRINCIPALS", database: { name: "songs" } })),
      ["Lake Formation permissions must not be granted to IAM_ALLOWED_PRINCIPALS."],
    );
  });
  it("rejects default database permissions for IAM_ALLOWED_PRINCIPALS", async () => {
    const defaults = [{ principal: "IAM_ALLOWED_PRINCIPALS", permissions: ["ALL"] }];
    assert.deepEqual(
      await messages(policy, edit(mesh(), "lake-settings", { createDatabaseDefaultPermissions: defaults })),
      ["Lake Formation createDatabaseDefaultPermissions must not grant IAM_ALLOWED_PRINCIPALS."],
    );
  });
});

describe("lakeformation-external-grants-lf-tags", () => {
  const policy = lakeformationExternalGrantsLfTags;
  it("passes an external grant through an LF-tag expression", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects an external grant on a named database", async () => {
    assert.deepEqual(await messages(policy, grant({ lfTagPolicy: undefined, database: { name: "songs" } })), [
      `Lake Formation grant to external principal ${ACCOUNTS.analytics} must use an LF-tag policy (lfTagPolicy), not database.`,
    ]);
  });
  it("rejects a grant to another account's role on a named table", async () => {
    const role = `arn:aws:iam::${ACCOUNTS.analytics}:role/reader`;
    assert.deepEqual(
      await messages(
        policy,
        grant({ principal: role, lfTagPolicy: undefined, table: { databaseName: "songs", name: "plays" } }),
      ),
      [
        `Lake Formation grant to external principal ${role} must use an LF-tag policy (lfTagPolicy), not table.`,
      ],
    );
  });
  it("passes a consumer account granting its own role a table another account shared with it", async () => {
    const role = `arn:aws:iam::${ACCOUNTS.analytics}:role/mesh-analytics-history`;
    const shared = { catalogId: ACCOUNTS.songs, databaseName: "songs", name: "plays", columnNames: ["a"] };
    assert.deepEqual(
      await messages(
        policy,
        edit(
          mesh(),
          "lake-grant-analytics",
          { principal: role, lfTagPolicy: undefined, tableWithColumns: shared },
          { account: ACCOUNTS.analytics },
        ),
      ),
      [],
    );
  });
  it("rejects a producer account's named grant to another account on its own table", async () => {
    const shared = { catalogId: ACCOUNTS.songs, databaseName: "songs", name: "plays", columnNames: ["a"] };
    assert.deepEqual(
      await messages(
        policy,
        edit(
          mesh(),
          "lake-grant-analytics",
          { lfTagPolicy: undefined, tableWithColumns: shared },
          { account: ACCOUNTS.songs },
        ),
      ),
      [
        `Lake Formation grant to external principal ${ACCOUNTS.analytics} must use an LF-tag policy (lfTagPolicy), not tableWithColumns.`,
      ],
    );
  });
  it("passes a grant to a role of the catalog's own account on a named database", async () => {
    const role = `arn:aws:iam::${ACCOUNTS.platform}:role/etl`;
    assert.deepEqual(
      await messages(policy, grant({ principal: role, lfTagPolicy: undefined, database: { name: "songs" } })),
      [],
    );
  });
});

describe("lakeformation-settings-admins", () => {
  const policy = lakeformationSettingsAdmins;
  const admins = (list: unknown) => edit(mesh(), "lake-settings", { admins: list });
  it("passes a role of the catalog's account", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects settings without admins", async () => {
    assert.deepEqual(await messages(policy, admins(undefined)), [
      "Lake Formation settings must name at least one data lake admin (admins).",
    ]);
  });
  it("rejects an admin of another account", async () => {
    const role = `arn:aws:iam::${ACCOUNTS.analytics}:role/lake-admin`;
    assert.deepEqual(await messages(policy, admins([role])), [
      `Lake Formation admin ${role} must belong to the catalog's account ${ACCOUNTS.platform}.`,
    ]);
  });
  it("rejects an admin that is not a role or user ARN", async () => {
    assert.deepEqual(await messages(policy, admins([ACCOUNTS.platform])), [
      `Lake Formation admin ${ACCOUNTS.platform} must be an IAM role or user ARN.`,
    ]);
  });
  it("passes an admin ARN unknown during preview", async () => {
    assert.deepEqual(await messages(policy, admins([UNKNOWN_STRING])), []);
  });
});

describe("lakeformation-external-grants-read-only", () => {
  const policy = lakeformationExternalGrantsReadOnly;
  it("passes DESCRIBE through an LF-tag expression", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("passes SELECT and DESCRIBE with grant option", async () => {
    const change = {
      permissions: ["SELECT", "DESCRIBE"],
      permissionsWithGrantOptions: ["SELECT", "DESCRIBE"],
    };
    assert.deepEqual(await messages(policy, grant(change)), []);
  });
  it("rejects ALTER and DROP for another account", async () => {
    assert.deepEqual(await messages(policy, grant({ permissions: ["SELECT", "ALTER", "DROP"] })), [
      `Lake Formation grant to external principal ${ACCOUNTS.analytics} must only give DESCRIBE and SELECT (it gives ALTER and DROP).`,
    ]);
  });
  it("rejects ALL with grant option", async () => {
    assert.deepEqual(await messages(policy, grant({ permissionsWithGrantOptions: ["ALL"] })), [
      `Lake Formation grant to external principal ${ACCOUNTS.analytics} must only give DESCRIBE and SELECT with grant option (it gives ALL).`,
    ]);
  });
  it("passes ASSOCIATE on an LF-tag", async () => {
    const tag = { lfTagPolicy: undefined, lfTag: { key: "mesh:domain", values: ["songs"] } };
    assert.deepEqual(await messages(policy, grant({ ...tag, permissions: ["DESCRIBE", "ASSOCIATE"] })), []);
  });
  it("passes any permission for a role of the catalog's own account", async () => {
    const role = `arn:aws:iam::${ACCOUNTS.platform}:role/etl`;
    assert.deepEqual(await messages(policy, grant({ principal: role, permissions: ["ALL"] })), []);
  });
});

describe("lakeformation-resource-no-hybrid-access", () => {
  const policy = lakeformationResourceNoHybridAccess;
  it("passes a location registered in Lake Formation mode", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("rejects hybrid access mode", async () => {
    assert.deepEqual(await messages(policy, edit(mesh(), "lake-location", { hybridAccessEnabled: true })), [
      "Lake Formation registered location must not enable hybrid access mode (hybridAccessEnabled).",
    ]);
  });
});

describe("lakeformation-grants-declared", () => {
  const policy = lakeformationGrantsDeclared;
  const analytics = `arn:aws:iam::${ACCOUNTS.analytics}:role/analytics-athena`;
  const plays = { databaseName: "songs", name: "plays" };
  it("passes DESCRIBE on the database of a subscribed product, by LF-tag expression", async () =>
    assert.deepEqual(await messages(policy, mesh()), []));
  it("passes SELECT on the subscribed columns", async () => {
    const change = { lfTagPolicy: undefined, permissions: ["SELECT"] };
    const columns = { tableWithColumns: { ...plays, columnNames: ["event_id", "song_id"] } };
    assert.deepEqual(await messages(policy, grant({ ...change, ...columns })), []);
  });
  it("passes a TABLE expression that leaves out the pii column", async () => {
    const lfTagPolicy = {
      resourceType: "TABLE",
      expressions: [
        { key: "mesh:product", values: ["songs/plays"] },
        { key: "mesh:classification", values: ["internal"] },
      ],
    };
    assert.deepEqual(await messages(policy, grant({ lfTagPolicy, permissions: ["SELECT"] })), []);
  });
  it("rejects a TABLE expression that also reaches the pii column", async () => {
    const lfTagPolicy = { resourceType: "TABLE", expressions: [{ key: "mesh:domain", values: ["songs"] }] };
    assert.deepEqual(await messages(policy, grant({ lfTagPolicy, permissions: ["SELECT"] })), [
      `Lake Formation grant to ${ACCOUNTS.analytics} on songs/plays must stay within the columns of analytics/plays-at-rest (it also gives user_id).`,
    ]);
  });
  it("rejects a grant on the whole table from a role of the subscriber's account", async () => {
    const change = { principal: analytics, lfTagPolicy: undefined, table: plays, permissions: ["SELECT"] };
    assert.deepEqual(await messages(policy, grant(change)), [
      `Lake Formation grant to ${analytics} on songs/plays must stay within the columns of analytics/plays-at-rest (it also gives user_id).`,
    ]);
  });
  it("rejects a grant to a mesh account without an at-rest subscription", async () => {
    const reader = `arn:aws:iam::${ACCOUNTS.analytics}:role/reader`;
    const access = { ...LAKE_ACCESS, subscriptions: [] };
    assert.deepEqual(
      await messages(policy, grant({ principal: reader }), {
        [policy.name]: { lakeFormationAccess: access },
      }),
      [
        `Lake Formation grant to ${reader} on LF-tag expression mesh:domain=songs must match an at-rest subscription of account ${ACCOUNTS.analytics} (none to songs/plays).`,
      ],
    );
  });
  it("rejects a grant on something that is no table of the mesh", async () => {
    const change = { lfTagPolicy: undefined, database: { name: "scratch" } };
    assert.deepEqual(await messages(policy, grant(change)), [
      `Lake Formation grant to ${ACCOUNTS.analytics} on database scratch must match an at-rest subscription of account ${ACCOUNTS.analytics} (it reaches no table of the mesh).`,
    ]);
  });
  it("rejects a principal outside the mesh's accounts", async () => {
    assert.deepEqual(await messages(policy, grant({ principal: "999999999999" })), [
      "Lake Formation grant to 999999999999 must name a principal of the mesh's accounts (999999999999 is not one).",
    ]);
  });
  it("rejects an organization principal", async () => {
    const org = "arn:aws:organizations::111111111111:organization/o-a1b2c3d4e5";
    assert.deepEqual(await messages(policy, grant({ principal: org })), [
      `Lake Formation grant to ${org} must name an account or role of the mesh, not an organization or organizational unit.`,
    ]);
  });
  it("passes the producer's own roles and the central catalog's", async () => {
    const producer = `arn:aws:iam::${ACCOUNTS.songs}:role/songs-etl`;
    const platform = `arn:aws:iam::${ACCOUNTS.platform}:role/lake-admin`;
    for (const principal of [producer, platform]) {
      const change = { principal, lfTagPolicy: undefined, table: plays, permissions: ["ALL"] };
      assert.deepEqual(await messages(policy, grant(change)), [], principal);
    }
  });
  it("cannot check a table unknown during preview", async () => {
    const change = { lfTagPolicy: undefined, table: { databaseName: UNKNOWN_STRING, name: "plays" } };
    assert.deepEqual(await messages(policy, grant(change)), [
      "Lake Formation permissions resource could not be checked during preview.",
    ]);
  });
});

import { strict as assert } from "node:assert";
import { ACCOUNTS, edit, mesh } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { UNKNOWN_STRING } from "../lib/values";
import {
  lakeformationDataSharingVersion,
  lakeformationExternalGrantsLfTags,
  lakeformationExternalGrantsReadOnly,
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

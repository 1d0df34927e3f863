import * as aws from "@pulumi/aws";
import { strict as assert } from "node:assert";
import { AtRestAccess } from "../../components/at-rest-access";
import { MeshCatalog } from "../../components/catalog";
import { DataProductDomain } from "../../components/data-product-domain";
import { QueryWorkgroup } from "../../components/query-workgroup";
import { loadMesh } from "../../platform/mesh";
import { TagKeys } from "../../platform/tags";
import { evaluateProgram, type PlannedResource } from "../../tooling/evaluate";
import { ACCOUNTS, fixtureConfig, PROD_ACCOUNTS } from "../fixtures/mesh";
import { fixtureDomainsAtRest } from "../fixtures/mesh/at-rest";
import { evaluateFixtureAtRest, policyOf, type StackUnderTest } from "../helpers/stacks";

/**
 * The at-rest components on the fixture mesh with both planes, as a user checks them: encrypted
 * with the domain's key, LF-tags that are the streams' ABAC tags, no IAM_ALLOWED_PRINCIPALS
 * anywhere, protection in prod, and each subscription reading exactly its columns.
 */
const T = {
  stream: "aws:kinesis/stream:Stream",
  bucket: "aws:s3/bucket:Bucket",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  table: "aws:glue/catalogTable:CatalogTable",
  database: "aws:glue/catalogDatabase:CatalogDatabase",
  lfTag: "aws:lakeformation/lfTag:LfTag",
  resourceLfTags: "aws:lakeformation/resourceLfTags:ResourceLfTags",
  permissions: "aws:lakeformation/permissions:Permissions",
  settings: "aws:lakeformation/dataLakeSettings:DataLakeSettings",
  location: "aws:lakeformation/resource:Resource",
  firehose: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  role: "aws:iam/role:Role",
  workgroup: "aws:athena/workgroup:Workgroup",
} as const;

const pairs = (resource: PlannedResource) =>
  Object.fromEntries(
    (resource.inputs.lfTags as { key: string; value: string }[]).map((t) => [t.key, t.value]),
  );

for (const environment of ["dev", "prod"] as const) {
  const prod = environment === "prod";
  const ids = prod ? PROD_ACCOUNTS : ACCOUNTS;
  const dataKey = (domain: "users" | "interactions") =>
    `arn:aws:kms:eu-west-1:${ids[domain]}:key/${domain}-data-key`;

  describe(`at-rest components on the fixture mesh (${environment})`, () => {
    let stack: StackUnderTest;
    before(async () => {
      stack = await evaluateFixtureAtRest(environment);
    });

    describe("DataProductDomain", () => {
      it("keeps each product in a private, versioned bucket encrypted with its domain's key, in its account", () => {
        for (const [domain, name] of [
          ["users", "users-members"],
          ["interactions", "interactions-interaction-events"],
        ] as const) {
          const bucket = stack.named(`${name}-bucket`);
          assert.equal(bucket.account, ids[domain]);
          assert.equal(bucket.inputs.forceDestroy, false);
          assert.ok(bucket.urn.includes("mesh:storage:SecureBucket$aws:s3/bucket:Bucket::"));
          assert.ok(
            stack.named(name).urn.includes("mesh:data:DataProductDomain$mesh:storage:SecureBucket::"),
          );
          assert.deepEqual(stack.named(`${name}-encryption`).inputs.rules, [
            {
              applyServerSideEncryptionByDefault: {
                sseAlgorithm: "aws:kms",
                kmsMasterKeyId: dataKey(domain),
              },
              bucketKeyEnabled: true,
            },
          ]);
          assert.deepEqual(stack.named(`${name}-versioning`).inputs.versioningConfiguration, {
            status: "Enabled",
          });
          const publicAccess = stack.named(`${name}-public-access`).inputs;
          assert.ok(
            ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
              (k) => publicAccess[k] === true,
            ),
          );
          assert.equal(bucket.protect, prod, "protected in prod only");
          assert.equal(bucket.retainOnDelete, prod, "retained in prod only");
        }
      });

      it("lands the stream's copy with Firehose, writing with the domain's key", () => {
        const landing = stack.ofType(T.firehose).filter((f) => f.account === ids.interactions);
        assert.deepEqual(
          landing.map((f) => f.inputs.name),
          ["mesh-interactions-interaction-events-landing"],
        );
        const s3 = landing[0]!.inputs.extendedS3Configuration as Record<string, unknown>;
        assert.equal(s3.kmsKeyArn, dataKey("interactions"));
        assert.deepEqual(landing[0]!.inputs.kinesisSourceConfiguration, {
          kinesisStreamArn: `arn:aws:kinesis:eu-west-1:${ids.interactions}:stream/interactions.interaction-events`,
          roleArn: `arn:aws:iam::${ids.interactions}:role/mesh-interactions-interaction-events-landing`,
        });
      });

      it("lets the landing role, and no other role of the producer's account, read and decrypt the stream", () => {
        const landingRole = `arn:aws:iam::${ids.interactions}:role/mesh-interactions-interaction-events-landing`;
        const streamArn = `arn:aws:kinesis:eu-west-1:${ids.interactions}:stream/interactions.interaction-events`;
        const readers = policyOf(stack.named("interactions-interaction-events-stream-policy")).Statement.find(
          (s) => s.Sid === "OnlyDeclaredConsumersRead",
        );
        // Enhanced fan-out reads through its consumer, so the polling readers and the landing.
        assert.deepEqual(readers.Condition.ArnNotEquals["aws:PrincipalArn"], [
          `arn:aws:iam::${ids.analytics}:role/mesh-analytics-interactions-ingestor`,
          `arn:aws:iam::${ids.analytics}:role/mesh-analytics-live-feed`,
          landingRole,
        ]);
        const decrypt = policyOf(stack.named("interactions-interaction-events-key")).Statement.filter(
          (s) => s.Action === "kms:Decrypt" && s.Principal.AWS === `arn:aws:iam::${ids.interactions}:root`,
        );
        assert.deepEqual(decrypt, [
          {
            Sid: "DecryptInteractionsInteractionEventsAtRest",
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ids.interactions}:root` },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: {
              ArnEquals: { "aws:PrincipalArn": landingRole },
              StringEquals: {
                "aws:PrincipalOrgID": "o-a1b2c3d4e5",
                "kms:ViaService": "kinesis.eu-west-1.amazonaws.com",
                "kms:EncryptionContext:aws:kinesis:arn": streamArn,
              },
            },
          },
        ]);
      });

      it("tags each table with the same LF-tag keys and values as its stream's ABAC tags", () => {
        const stream = stack.ofType(T.stream).find((s) => s.account === ids.interactions)!;
        const streamTags = stream.inputs.tags as Record<string, string>;
        const tableTags = pairs(stack.named("interactions-interaction-events-lf-tags"));
        assert.deepEqual(tableTags, {
          [TagKeys.Domain]: streamTags[TagKeys.Domain],
          [TagKeys.Product]: streamTags[TagKeys.Product],
          [TagKeys.Classification]: streamTags[TagKeys.Classification],
        });
        assert.deepEqual(tableTags, {
          "mesh:domain": "interactions",
          "mesh:product": "interactions/interaction-events",
          "mesh:classification": "confidential",
        });
        assert.deepEqual(pairs(stack.named("users-database-lf-tags")), { "mesh:domain": "users" });
        // The bucket carries the same tags, so one vocabulary decides access on both planes.
        const bucketTags = stack.named("users-members-bucket").inputs.tags as Record<string, string>;
        assert.deepEqual(pairs(stack.named("users-members-lf-tags")), {
          "mesh:domain": bucketTags["mesh:domain"],
          "mesh:product": bucketTags["mesh:product"],
          "mesh:classification": bucketTags["mesh:classification"],
        });
      });

      it("leaves only the pii column under the table's pii tag, the others confidential", () => {
        const columns = stack.named("users-members-column-lf-tags");
        assert.deepEqual(pairs(columns), { "mesh:classification": "confidential" });
        const tagged = (columns.inputs.tableWithColumns as { columnNames: string[] }).columnNames;
        const table = stack.named("users-members-table");
        const all = [
          ...(table.inputs.storageDescriptor as { columns: { name: string }[] }).columns,
          ...(table.inputs.partitionKeys as { name: string }[]),
        ].map((c) => c.name);
        assert.deepEqual(
          all.filter((c) => !tagged.includes(c)),
          ["email"],
        );
        // A public or confidential product's columns inherit the table's tags.
        assert.ok(
          !stack
            .ofType(T.resourceLfTags)
            .some((r) => r.name === "interactions-interaction-events-column-lf-tags"),
        );
      });

      it("shares to consumer accounts by LF-tag expression only, withholding pii without includePii", () => {
        const grants = stack.ofType(T.permissions).filter((p) => p.account === ids.users);
        const read = Object.fromEntries(
          grants
            .filter((g) => g.name.endsWith("-read"))
            .map((g) => [g.inputs.principal, g.inputs.lfTagPolicy]),
        );
        assert.deepEqual(read, {
          [ids.recommendations]: {
            catalogId: ids.users,
            resourceType: "TABLE",
            expressions: [
              { key: "mesh:product", values: ["users/members"] },
              { key: "mesh:classification", values: ["public", "internal", "confidential"] },
            ],
          },
          [ids.analytics]: {
            catalogId: ids.users,
            resourceType: "TABLE",
            expressions: [{ key: "mesh:product", values: ["users/members"] }],
          },
        });
        for (const grant of grants) {
          assert.ok(
            grant.inputs.lfTagPolicy,
            `${grant.name} names a resource instead of an LF-tag expression`,
          );
          assert.ok(/^\d{12}$/.test(String(grant.inputs.principal)), `${grant.name} grants an account`);
        }
      });

      it("registers each bucket with Lake Formation without hybrid access", () => {
        const locations = stack.ofType(T.location);
        assert.deepEqual(
          locations.map((l) => [l.account, l.inputs.arn, l.inputs.hybridAccessEnabled, l.inputs.roleArn]),
          [
            [
              ids.users,
              "arn:aws:s3:::users-members-mock",
              false,
              `arn:aws:iam::${ids.users}:role/mesh-users-lake-location`,
            ],
            [
              ids.interactions,
              "arn:aws:s3:::interactions-interaction-events-mock",
              false,
              `arn:aws:iam::${ids.interactions}:role/mesh-interactions-lake-location`,
            ],
          ],
        );
      });
    });

    describe("Lake Formation settings and MeshCatalog", () => {
      it("writes each account's settings in its own stack: its deploy role as admin, no IAM_ALLOWED_PRINCIPALS defaults, version 4", () => {
        const settings = stack.ofType(T.settings);
        assert.deepEqual(
          settings.map((s) => s.account).sort(),
          [ids.platform, ids.users, ids.interactions, ids.recommendations, ids.analytics].sort(),
        );
        for (const s of settings) {
          assert.deepEqual(s.inputs.createDatabaseDefaultPermissions, [], s.name);
          assert.deepEqual(s.inputs.createTableDefaultPermissions, [], s.name);
          assert.deepEqual(s.inputs.parameters, { CROSS_ACCOUNT_VERSION: "4" }, s.name);
          assert.equal((s.inputs.admins as string[]).length, 1);
          assert.match((s.inputs.admins as string[])[0]!, new RegExp(`^arn:aws:iam::${s.account}:role/`));
        }
        assert.ok(
          !JSON.stringify(stack.resources.map((r) => r.inputs)).includes("IAM_ALLOWED_PRINCIPALS"),
          "no resource names IAM_ALLOWED_PRINCIPALS",
        );
      });

      it("defines the central LF-tags in the platform account with every domain and product of the mesh", () => {
        const central = stack.ofType(T.lfTag).filter((t) => t.account === ids.platform);
        assert.ok(central.every((t) => t.urn.includes("mesh:data:Catalog$aws:lakeformation/lfTag:LfTag")));
        assert.deepEqual(Object.fromEntries(central.map((t) => [t.inputs.key, t.inputs.values])), {
          "mesh:domain": ["interactions", "users"],
          "mesh:product": ["interactions/interaction-events", "users/members"],
          "mesh:classification": ["confidential", "internal", "pii", "public"],
        });
      });

      it("shares every database and table with the central catalog for DESCRIBE only", () => {
        const toCatalog = stack.ofType(T.permissions).filter((p) => p.inputs.principal === ids.platform);
        assert.equal(toCatalog.length, 4);
        for (const grant of toCatalog) assert.deepEqual(grant.inputs.permissions, ["DESCRIBE"], grant.name);
      });
    });

    describe("AtRestAccess", () => {
      it("links each producer's database into the consumer's catalog", () => {
        const links = stack.ofType(T.database).filter((d) => d.inputs.targetDatabase);
        assert.deepEqual(
          links.map((l) => [l.account, l.inputs.name, l.inputs.targetDatabase]).sort(),
          [
            [
              ids.analytics,
              "interactions_shared",
              { catalogId: ids.interactions, databaseName: "interactions" },
            ],
            [ids.analytics, "users_shared", { catalogId: ids.users, databaseName: "users" }],
            [
              ids.recommendations,
              "interactions_shared",
              { catalogId: ids.interactions, databaseName: "interactions" },
            ],
            [ids.recommendations, "users_shared", { catalogId: ids.users, databaseName: "users" }],
          ].sort(),
        );
      });

      it("gives each subscription a reader role of its own account, granted exactly its columns and partitions", () => {
        const select = (name: string) => stack.named(`${name}-select`).inputs;
        assert.deepEqual(select("analytics-interactions-history").tableWithColumns, {
          catalogId: ids.interactions,
          databaseName: "interactions",
          name: "interaction_events",
          columnNames: ["user_id", "item_id", "event_date"],
        });
        assert.deepEqual(select("recommendations-members-history").tableWithColumns, {
          catalogId: ids.users,
          databaseName: "users",
          name: "members",
          columnNames: ["event_id", "event_type", "event_time", "user_id", "country", "event_date"],
        });
        assert.equal(
          select("analytics-members-audit").principal,
          `arn:aws:iam::${ids.analytics}:role/mesh-analytics-members-audit`,
        );
        const role = stack.named("analytics-members-audit-reader");
        assert.equal(role.inputs.name, "mesh-analytics-members-audit");
        assert.deepEqual(policyOf(role, "assumeRolePolicy").Statement, [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ids.analytics}:root` },
            Action: "sts:AssumeRole",
          },
        ]);
        // Data comes through Lake Formation's credential vending: the reader holds no S3 or KMS permission.
        const actions = policyOf(stack.named("analytics-members-audit-reader-policy")).Statement.flatMap(
          (s) => [s.Action].flat(),
        );
        assert.ok(!actions.some((a: string) => /^(s3|kms):/.test(a)), actions.join(", "));
      });
    });
  });
}

describe("at-rest components refuse", () => {
  const REGION = "eu-west-1";
  const construct = (program: () => void) =>
    evaluateProgram({ stack: "dev", config: { "mesh:region": REGION }, program });
  const mesh = loadMesh(fixtureConfig("dev"), fixtureDomainsAtRest);
  const provider = () => new aws.Provider("account", { region: REGION, allowedAccountIds: [ACCOUNTS.users] });
  const users = mesh.domains.find((d) => d.name === "users")!;
  const analytics = mesh.domains.find((d) => d.name === "analytics")!;

  it("to build a domain's data without a provider, or for a domain with nothing at rest", async () => {
    const args = {
      domain: users,
      subscriptions: [],
      config: mesh.config,
      dataKeyArn: "arn:aws:kms:eu-west-1:210987654322:key/k",
      platformAccountId: ACCOUNTS.platform,
      streams: {},
      tags: {},
    };
    await assert.rejects(
      construct(() => new DataProductDomain("users", args, {})),
      {
        message: "DataProductDomain users: a provider for account users is required",
      },
    );
    const songs = mesh.domains.find((d) => d.name === "songs")!;
    await assert.rejects(
      construct(() => new DataProductDomain("songs", { ...args, domain: songs }, { provider: provider() })),
      { message: "DataProductDomain songs: domain songs keeps no product at rest" },
    );
  });

  it("a catalog without admins, and a consumer without the tables it reads", async () => {
    await assert.rejects(
      construct(
        () =>
          new MeshCatalog("catalog", { products: mesh.atRestProducts, admins: [] }, { provider: provider() }),
      ),
      { message: "MeshCatalog catalog: at least one admin is required" },
    );
    await assert.rejects(
      construct(
        () =>
          new AtRestAccess(
            "analytics",
            { domain: analytics, region: REGION, tables: {}, tags: {} },
            { provider: provider() },
          ),
      ),
      {
        message: "AtRestAccess analytics: no table given for users/members, interactions/interaction-events",
      },
    );
  });
});

describe("QueryWorkgroup", () => {
  const REGION = "eu-west-1";
  const KEY = `arn:aws:kms:eu-west-1:${ACCOUNTS.analytics}:key/analytics-data-key`;
  const build = (protect: boolean) =>
    evaluateProgram({
      stack: "dev",
      config: { "mesh:region": REGION },
      program: () =>
        new QueryWorkgroup(
          "queries",
          {
            workgroupName: "mesh-analytics",
            accountId: ACCOUNTS.analytics,
            region: REGION,
            dataKeyArn: KEY,
            queryRoles: { history: "mesh-analytics-interactions-history" },
            protect,
            tags: {},
          },
          {
            provider: new aws.Provider("analytics", {
              region: REGION,
              allowedAccountIds: [ACCOUNTS.analytics],
            }),
          },
        ),
    });

  it("enforces its configuration and encrypts results with the domain's key, cancelling queries past 10 GiB", async () => {
    const { resources } = await build(false);
    const workgroup = resources.find((r) => r.type === T.workgroup)!;
    const configuration = workgroup.inputs.configuration as Record<string, any>;
    assert.equal(configuration.enforceWorkgroupConfiguration, true);
    assert.equal(configuration.bytesScannedCutoffPerQuery, 10 * 1024 ** 3);
    assert.deepEqual(configuration.resultConfiguration.encryptionConfiguration, {
      encryptionOption: "SSE_KMS",
      kmsKeyArn: KEY,
    });
    assert.equal(configuration.resultConfiguration.expectedBucketOwner, ACCOUNTS.analytics);
    assert.equal(workgroup.inputs.forceDestroy, false);
    const encryption = resources.find((r) => r.type === T.encryption)!;
    assert.equal((encryption.inputs.rules as any)[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, KEY);
  });

  it("lets each query role run queries in this workgroup only, and decrypt results only through S3", async () => {
    const { resources } = await build(false);
    const policy = resources.find((r) => r.name === "queries-query-history")!;
    assert.equal(policy.inputs.role, "mesh-analytics-interactions-history");
    const statements = policyOf(policy).Statement;
    const run = statements.find((s) => s.Sid === "RunQueries");
    // The workgroup's own ARN (the mock runtime's form of it), never a wildcard.
    assert.match(
      run.Resource,
      new RegExp(`^arn:aws:[a-z]+:eu-west-1:${ACCOUNTS.analytics}:.*workgroup/mesh-analytics$`),
    );
    const key = statements.find((s) => s.Sid === "EncryptResults");
    assert.deepEqual(key.Condition, { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
  });

  it("protects and retains the results bucket when asked (prod)", async () => {
    const bucket = (await build(true)).resources.find((r) => r.type === T.bucket)!;
    assert.equal(bucket.protect, true);
    assert.equal(bucket.retainOnDelete, true);
    assert.equal((await build(false)).resources.find((r) => r.type === T.bucket)!.protect, false);
  });
});

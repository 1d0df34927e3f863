import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "node:assert";
import {
  INTERACTIONS_INDEX_TYPE,
  InteractionsIndex,
  type InteractionsIndexArgs,
} from "../../components/interactions-index";
import type { DomainInfra } from "../../components/wiring";
import { domains } from "../../domains";
import { analyticsInfra } from "../../domains/analytics/infra";
import { loadMesh } from "../../platform/mesh";
import { unitTags } from "../../platform/tags";
import { evaluatePlan } from "../../policy/evaluate";
import { evaluateProgram, type Evaluation, type PlannedResource } from "../../tooling/evaluate";
import { meshConfig, policyOf, stackFile } from "../helpers/stacks";

const ACCOUNTS = { dev: "210987654327", prod: "310987654327" } as const;
const DEV = ACCOUNTS.dev;
const NAME = "analytics-interactions-index";
const keyArn = (account: string) => `arn:aws:kms:eu-west-1:${account}:key/analytics-data`;
const topicArn = (account: string) => `arn:aws:sns:eu-west-1:${account}:analytics-alarms`;
/** ARNs as the mock runtime reports them (tooling/evaluate.ts `mockState`). */
const MOCK = {
  deliveryRole: `arn:aws:iam::${DEV}:role/${NAME}-delivery-role`,
  adminRole: `arn:aws:iam::${DEV}:role/${NAME}-admin`,
  domain: `arn:aws:es:eu-west-1:${DEV}:domain/${NAME}`,
  bucket: `arn:aws:s3:::${NAME}-backup-mock`,
  destinationLog: `arn:aws:mock:eu-west-1:${DEV}:cloudwatch/logStream/DestinationDelivery`,
  backupLog: `arn:aws:mock:eu-west-1:${DEV}:cloudwatch/logStream/BackupDelivery`,
  deliveryStream: `arn:aws:firehose:eu-west-1:${DEV}:deliverystream/${NAME}-delivery`,
};
const DEV_TAGS = { "mesh:domain": "analytics", "mesh:environment": "dev", "mesh:managed-by": "pulumi" };

interface Run extends Evaluation {
  /** Keys of the wiring's outputs as returned (the mock leaves the domain endpoint unresolved). */
  readonly outputKeys: string[];
  named(name: string): PlannedResource;
  ofType(type: string): PlannedResource[];
}

function withLookups(evaluation: Evaluation, outputKeys: string[] = []): Run {
  return {
    ...evaluation,
    outputKeys,
    named(name) {
      const found = evaluation.resources.find((r) => r.name === name);
      if (!found) throw new Error(`no resource named ${name}`);
      return found;
    },
    ofType: (type) => evaluation.resources.filter((r) => r.type === type),
  };
}

/** True when the resource descends from the InteractionsIndex component (URNs name only the direct parent). */
function withinIndex(run: Run, resource: PlannedResource): boolean {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  for (let parent = resource.parent; parent; parent = byUrn.get(parent)?.parent ?? null) {
    if (byUrn.get(parent)?.type === INTERACTIONS_INDEX_TYPE) return true;
  }
  return false;
}

const analyticsProvider = (account: string) =>
  new aws.Provider("account-analytics", { region: "eu-west-1", allowedAccountIds: [account] });

/** analyticsInfra under the mock runtime, with the analytics domain of a stack's mesh. */
async function evaluateAnalytics(stack: "dev" | "prod", protect?: boolean): Promise<Run> {
  const mesh = loadMesh(meshConfig(stack), domains);
  const domain = mesh.domains.find((d) => d.name === "analytics")!;
  let outputKeys: string[] = [];
  const evaluation = await evaluateProgram({
    stack,
    config: stackFile(stack),
    program: () => {
      const wiring: ReturnType<DomainInfra> = analyticsInfra({
        domain,
        config: mesh.config,
        provider: analyticsProvider(domain.accountId),
        tags: unitTags(mesh.config, "analytics"),
        dataKeyArn: pulumi.output(keyArn(domain.accountId)),
        alarmTopicArn: pulumi.output(topicArn(domain.accountId)),
        protect: protect ?? mesh.config.protectStateful,
        products: {},
        atRest: {},
        tables: {},
      });
      outputKeys = Object.keys(wiring.outputs ?? {});
      return { handlers: wiring.handlers, outputs: wiring.outputs };
    },
  });
  return withLookups(evaluation, outputKeys);
}

/** The component alone, in the dev analytics account. */
async function evaluateIndex(overrides: Partial<InteractionsIndexArgs>): Promise<Run> {
  const evaluation = await evaluateProgram({
    stack: "dev",
    config: stackFile("dev"),
    program: () => {
      new InteractionsIndex(
        NAME,
        {
          accountId: DEV,
          region: "eu-west-1",
          dataKeyArn: keyArn(DEV),
          alarmTopicArn: topicArn(DEV),
          tags: DEV_TAGS,
          ...overrides,
        },
        { provider: analyticsProvider(DEV) },
      );
    },
  });
  return withLookups(evaluation);
}

/** The mesh's policy pack over the plan, its violations as `[policy] resource: message`. */
const policyViolations = async (run: Run) =>
  (
    await evaluatePlan({
      stack: run.stack,
      accounts: { analytics: run.resources.find((r) => r.account)!.account! },
      resources: run.resources.map(({ id, ...resource }) => (id === null ? resource : { ...resource, id })),
    })
  ).violations.map((v) => `[${v.policy}] ${v.name}: ${v.message}`);

describe("analytics infrastructure: interactions indexed through Firehose into OpenSearch", () => {
  describe("in dev", () => {
    let dev: Run;
    before(async () => {
      dev = await evaluateAnalytics("dev");
    });

    it("creates the index, its delivery and alarms inside one component, all in the analytics account", () => {
      const created = dev.resources.filter((r) => r.type.startsWith("aws:"));
      assert.deepEqual(
        created.map((r) => [r.type, r.name]),
        [
          ["aws:iam/role:Role", `${NAME}-delivery-role`],
          ["aws:iam/role:Role", `${NAME}-admin`],
          ["aws:opensearch/domain:Domain", `${NAME}-domain`],
          ["aws:s3/bucket:Bucket", `${NAME}-backup-bucket`],
          ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${NAME}-backup-public-access`],
          ["aws:s3/bucketOwnershipControls:BucketOwnershipControls", `${NAME}-backup-ownership`],
          [
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            `${NAME}-backup-encryption`,
          ],
          ["aws:s3/bucketVersioning:BucketVersioning", `${NAME}-backup-versioning`],
          ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${NAME}-backup-lifecycle`],
          ["aws:s3/bucketPolicy:BucketPolicy", `${NAME}-backup-policy`],
          ["aws:cloudwatch/logGroup:LogGroup", `${NAME}-delivery-logs`],
          ["aws:cloudwatch/logStream:LogStream", `${NAME}-destination-log`],
          ["aws:cloudwatch/logStream:LogStream", `${NAME}-backup-log`],
          ["aws:iam/rolePolicy:RolePolicy", `${NAME}-delivery-policy`],
          ["aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", `${NAME}-delivery`],
          ["aws:cloudwatch/metricAlarm:MetricAlarm", `${NAME}-delivery-failing`],
          ["aws:cloudwatch/metricAlarm:MetricAlarm", `${NAME}-delivery-stale`],
          ["aws:cloudwatch/metricAlarm:MetricAlarm", `${NAME}-cluster-red`],
          ["aws:cloudwatch/metricAlarm:MetricAlarm", `${NAME}-free-storage-low`],
        ],
      );
      for (const resource of created) {
        assert.equal(resource.account, DEV, `${resource.type} ${resource.name}`);
        assert.ok(withinIndex(dev, resource), `${resource.name} is not in the component`);
      }
    });

    it("builds the OpenSearch domain encrypted with the data key, HTTPS-only and with fine-grained access control", () => {
      const { accessPolicies, ...inputs } = dev.named(`${NAME}-domain`).inputs;
      assert.equal(typeof accessPolicies, "string");
      assert.deepEqual(inputs, {
        domainName: NAME,
        engineVersion: "OpenSearch_2.19",
        clusterConfig: { instanceType: "t3.small.search", instanceCount: 1, zoneAwarenessEnabled: false },
        ebsOptions: { ebsEnabled: true, volumeType: "gp3", volumeSize: 20 },
        encryptAtRest: { enabled: true, kmsKeyId: keyArn(DEV) },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-PFS-2023-10" },
        advancedSecurityOptions: {
          enabled: true,
          internalUserDatabaseEnabled: false,
          masterUserOptions: { masterUserArn: MOCK.adminRole },
        },
        softwareUpdateOptions: { autoSoftwareUpdateEnabled: true },
        tags: DEV_TAGS,
      });
    });

    it("lets only the delivery role and the admin role call the domain's HTTP API, on its own ARN", () => {
      assert.deepEqual(policyOf(dev.named(`${NAME}-domain`), "accessPolicies").Statement, [
        {
          Sid: "FirehoseIndexes",
          Effect: "Allow",
          Principal: { AWS: MOCK.deliveryRole },
          Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"],
          Resource: `${MOCK.domain}/*`,
        },
        {
          Sid: "AdminManages",
          Effect: "Allow",
          Principal: { AWS: MOCK.adminRole },
          Action: "es:ESHttp*",
          Resource: `${MOCK.domain}/*`,
        },
      ]);
    });

    it("lets Firehose assume the delivery role only for this account, and the account assume the admin role", () => {
      assert.deepEqual(policyOf(dev.named(`${NAME}-delivery-role`), "assumeRolePolicy").Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "firehose.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": DEV } },
        },
      ]);
      assert.deepEqual(policyOf(dev.named(`${NAME}-admin`), "assumeRolePolicy").Statement, [
        { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${DEV}:root` }, Action: "sts:AssumeRole" },
      ]);
    });

    it("delivers Direct PUT records to the domain encrypted with the data key, retrying, backing up failed documents", () => {
      assert.deepEqual(dev.named(`${NAME}-delivery`).inputs, {
        destination: "opensearch",
        serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: keyArn(DEV) },
        opensearchConfiguration: {
          domainArn: MOCK.domain,
          indexName: "interactions",
          indexRotationPeriod: "OneDay",
          roleArn: MOCK.deliveryRole,
          bufferingInterval: 60,
          bufferingSize: 5,
          retryDuration: 300,
          s3BackupMode: "FailedDocumentsOnly",
          s3Configuration: {
            bucketArn: MOCK.bucket,
            roleArn: MOCK.deliveryRole,
            kmsKeyArn: keyArn(DEV),
            prefix: "interactions/",
            cloudwatchLoggingOptions: {
              enabled: true,
              logGroupName: `/aws/kinesisfirehose/${NAME}`,
              logStreamName: "BackupDelivery",
            },
          },
          cloudwatchLoggingOptions: {
            enabled: true,
            logGroupName: `/aws/kinesisfirehose/${NAME}`,
            logStreamName: "DestinationDelivery",
          },
        },
        tags: DEV_TAGS,
      });
    });

    it("grants the delivery role exactly what Firehose needs, on the domain, bucket, key and log streams", () => {
      const policy = dev.named(`${NAME}-delivery-policy`);
      assert.equal(policy.inputs.role, `${NAME}-delivery-role`);
      assert.deepEqual(policyOf(policy).Statement, [
        {
          Sid: "IndexIntoDomain",
          Effect: "Allow",
          Action: [
            "es:DescribeDomain",
            "es:DescribeDomains",
            "es:DescribeDomainConfig",
            "es:ESHttpPost",
            "es:ESHttpPut",
            "es:ESHttpGet",
          ],
          Resource: [MOCK.domain, `${MOCK.domain}/*`],
        },
        {
          Sid: "LocateBackupBucket",
          Effect: "Allow",
          Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
          Resource: MOCK.bucket,
        },
        {
          Sid: "WriteFailedDocuments",
          Effect: "Allow",
          Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
          Resource: `${MOCK.bucket}/*`,
        },
        {
          Sid: "EncryptBackupsThroughS3",
          Effect: "Allow",
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: keyArn(DEV),
          Condition: {
            StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
            StringLike: { "kms:EncryptionContext:aws:s3:arn": [MOCK.bucket, `${MOCK.bucket}/*`] },
          },
        },
        {
          Sid: "WriteDeliveryLogs",
          Effect: "Allow",
          Action: "logs:PutLogEvents",
          Resource: [MOCK.destinationLog, MOCK.backupLog],
        },
      ]);
    });

    it("keeps failed documents in a SecureBucket encrypted with the data key, for 30 days", () => {
      const bucket = dev.named(`${NAME}-backup-bucket`);
      assert.ok(
        bucket.parent?.endsWith(`${INTERACTIONS_INDEX_TYPE}$mesh:storage:SecureBucket::${NAME}-backup`),
        String(bucket.parent),
      );
      assert.deepEqual(dev.named(`${NAME}-backup-encryption`).inputs.rules, [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn(DEV) },
          bucketKeyEnabled: true,
        },
      ]);
      const [rule] = dev.named(`${NAME}-backup-lifecycle`).inputs.rules as Record<string, unknown>[];
      assert.deepEqual(rule!.expiration, { days: 30 });
    });

    it("logs delivery errors to a log group of its own, kept 30 days", () => {
      assert.deepEqual(dev.named(`${NAME}-delivery-logs`).inputs, {
        name: `/aws/kinesisfirehose/${NAME}`,
        retentionInDays: 30,
        tags: DEV_TAGS,
      });
      assert.deepEqual(
        dev.ofType("aws:cloudwatch/logStream:LogStream").map((s) => s.inputs),
        [
          { logGroupName: `/aws/kinesisfirehose/${NAME}`, name: "DestinationDelivery" },
          { logGroupName: `/aws/kinesisfirehose/${NAME}`, name: "BackupDelivery" },
        ],
      );
    });

    it("alarms to the domain's topic on failed or stale deliveries, a red cluster and low storage", () => {
      const alarms = dev.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
      assert.deepEqual(
        alarms.map(({ inputs: a }) => [
          a.namespace,
          a.metricName,
          a.dimensions,
          a.statistic,
          a.period,
          a.comparisonOperator,
          a.threshold,
          a.evaluationPeriods,
          a.treatMissingData,
        ]),
        [
          [
            "AWS/Firehose",
            "DeliveryToAmazonOpenSearchService.Success",
            { DeliveryStreamName: `${NAME}-delivery` },
            "Minimum",
            300,
            "LessThanThreshold",
            1,
            1,
            "notBreaching",
          ],
          [
            "AWS/Firehose",
            "DeliveryToAmazonOpenSearchService.DataFreshness",
            { DeliveryStreamName: `${NAME}-delivery` },
            "Maximum",
            300,
            "GreaterThanThreshold",
            720, // two rounds of 60 s buffering and 300 s retrying
            1,
            "notBreaching",
          ],
          [
            "AWS/ES",
            "ClusterStatus.red",
            { DomainName: NAME, ClientId: DEV },
            "Maximum",
            60,
            "GreaterThanOrEqualToThreshold",
            1,
            1,
            "missing",
          ],
          [
            "AWS/ES",
            "FreeStorageSpace",
            { DomainName: NAME, ClientId: DEV },
            "Minimum",
            60,
            "LessThanOrEqualToThreshold",
            5120, // a quarter of 20 GiB, in MiB
            1,
            "missing",
          ],
        ],
      );
      for (const alarm of alarms) {
        assert.deepEqual(alarm.inputs.alarmActions, [topicArn(DEV)], alarm.name);
        assert.deepEqual(alarm.inputs.okActions, [topicArn(DEV)], alarm.name);
        assert.deepEqual(alarm.inputs.tags, DEV_TAGS, alarm.name);
      }
    });

    it("tags the roles with the analytics unit's tags", () => {
      for (const name of [`${NAME}-delivery-role`, `${NAME}-admin`]) {
        assert.deepEqual(dev.named(name).inputs.tags, DEV_TAGS, name);
      }
    });

    it("protects and retains nothing in dev", () => {
      assert.deepEqual(
        dev.resources.filter((r) => r.protect || r.retainOnDelete).map((r) => r.name),
        [],
      );
    });

    it("wires the ingestor to the delivery stream with PutRecordBatch only, and exports the stream and endpoint", () => {
      assert.deepEqual(dev.outputs.handlers, {
        "interactions-ingestor": {
          environment: { DELIVERY_STREAM: `${NAME}-delivery` },
          statements: [
            {
              Sid: "DeliverInteractions",
              Effect: "Allow",
              Action: ["firehose:PutRecordBatch"],
              Resource: MOCK.deliveryStream,
            },
          ],
        },
      });
      assert.deepEqual(dev.outputKeys, ["deliveryStreamName", "domainEndpoint"]);
      assert.equal((dev.outputs.outputs as Record<string, unknown>).deliveryStreamName, `${NAME}-delivery`);
    });

    it("passes the mesh's policy pack", async () => {
      assert.deepEqual(await policyViolations(dev), []);
    });
  });

  describe("in prod", () => {
    let prod: Run;
    before(async () => {
      prod = await evaluateAnalytics("prod");
    });

    it("deploys into the prod analytics account", () => {
      const accounts = new Set(prod.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.account));
      assert.deepEqual([...accounts], [ACCOUNTS.prod]);
    });

    it("protects and retains exactly the OpenSearch domain and the backup bucket", () => {
      const kept = [`${NAME}-domain`, `${NAME}-backup-bucket`];
      assert.deepEqual(
        prod.resources.filter((r) => r.protect).map((r) => r.name),
        kept,
      );
      assert.deepEqual(
        prod.resources.filter((r) => r.retainOnDelete).map((r) => r.name),
        kept,
      );
    });

    it("passes the policy pack, which rejects the same stack unprotected", async () => {
      assert.deepEqual(await policyViolations(prod), []);
      assert.deepEqual(await policyViolations(await evaluateAnalytics("prod", false)), [
        `[mesh-protect-stateful-in-prod] ${NAME}-domain: OpenSearch domain must be protected in prod (protect: true).`,
        `[mesh-protect-stateful-in-prod] ${NAME}-backup-bucket: S3 bucket must be protected in prod (protect: true).`,
      ]);
    });
  });

  describe("InteractionsIndex options", () => {
    it("makes a given role the master user without creating one, and spreads 4 nodes over 2 zones", async () => {
      const adminRoleArn = `arn:aws:iam::${DEV}:role/search-admins`;
      const run = await evaluateIndex({
        adminRoleArn,
        instanceType: "r7g.large.search",
        instanceCount: 4,
        ebsVolumeGb: 100,
      });
      assert.deepEqual(
        run.ofType("aws:iam/role:Role").map((r) => r.name),
        [`${NAME}-delivery-role`],
      );
      const domain = run.named(`${NAME}-domain`);
      assert.deepEqual(domain.inputs.advancedSecurityOptions, {
        enabled: true,
        internalUserDatabaseEnabled: false,
        masterUserOptions: { masterUserArn: adminRoleArn },
      });
      assert.deepEqual(
        policyOf(domain, "accessPolicies").Statement.map((s) => s.Principal),
        [{ AWS: MOCK.deliveryRole }, { AWS: adminRoleArn }],
      );
      assert.deepEqual(domain.inputs.clusterConfig, {
        instanceType: "r7g.large.search",
        instanceCount: 4,
        zoneAwarenessEnabled: true,
        zoneAwarenessConfig: { availabilityZoneCount: 2 },
      });
      assert.deepEqual(domain.inputs.ebsOptions, { ebsEnabled: true, volumeType: "gp3", volumeSize: 100 });
      assert.equal(run.named(`${NAME}-free-storage-low`).inputs.threshold, 25600);
    });

    it("spreads 6 nodes over 3 zones", async () => {
      const run = await evaluateIndex({ instanceCount: 6 });
      assert.deepEqual(run.named(`${NAME}-domain`).inputs.clusterConfig, {
        instanceType: "t3.small.search",
        instanceCount: 6,
        zoneAwarenessEnabled: true,
        zoneAwarenessConfig: { availabilityZoneCount: 3 },
      });
    });

    describe("refuses", () => {
      const args: InteractionsIndexArgs = {
        accountId: DEV,
        region: "eu-west-1",
        dataKeyArn: keyArn(DEV),
        alarmTopicArn: topicArn(DEV),
        tags: DEV_TAGS,
      };
      // Checked before the component registers: no provider object is ever used.
      const provider = {} as aws.Provider;

      it("to run without a provider for the account", () => {
        assert.throws(() => new InteractionsIndex(NAME, args, {}), {
          message: `InteractionsIndex ${NAME}: a provider for account ${DEV} is required`,
        });
      });

      it("a domain name OpenSearch would reject", () => {
        assert.throws(() => new InteractionsIndex(`${NAME}-x`, args, { provider }), {
          message: `InteractionsIndex ${NAME}-x: domain name ${NAME}-x must be 3 to 28 lower-case letters, digits or hyphens, starting with a letter`,
        });
      });

      it("a node count that cannot be spread evenly over zones", () => {
        assert.throws(() => new InteractionsIndex(NAME, { ...args, instanceCount: 5 }, { provider }), {
          message: `InteractionsIndex ${NAME}: instanceCount must be 1, an even number or a multiple of 3 (it is 5)`,
        });
      });

      it("a volume smaller than OpenSearch allows", () => {
        assert.throws(() => new InteractionsIndex(NAME, { ...args, ebsVolumeGb: 8 }, { provider }), {
          message: `InteractionsIndex ${NAME}: ebsVolumeGb must be a whole number of at least 10 (it is 8)`,
        });
      });
    });
  });
});

import { strict as assert } from "node:assert";
import { outboxFilterPattern } from "../../platform/outbox";
import type { PlannedResource } from "../../tooling/evaluate";
import { evaluateShipped, policyOf, type StackUnderTest } from "../helpers/stacks";

/**
 * The domains' own stores in the shipped mesh, checked by properties: every catalogue table has its
 * relay, every relay reads exactly its table's stream and writes exactly its domain's products, and
 * the line-of-business database is private, encrypted and authenticated as declared.
 */
describe("the domains' own stores under the mock runtime", () => {
  const stacks: Record<"dev" | "prod", StackUnderTest> = {} as never;
  before(async () => {
    stacks.dev = await evaluateShipped("dev");
    stacks.prod = await evaluateShipped("prod");
  });

  const one = (stack: StackUnderTest, type: string, predicate: (r: PlannedResource) => boolean) => {
    const found = stack.ofType(type).filter(predicate);
    assert.equal(found.length, 1, `${type}: ${found.map((r) => r.name).join(", ")}`);
    return found[0]!;
  };

  for (const environment of ["dev", "prod"] as const) {
    describe(environment, () => {
      const prod = environment === "prod";

      it("gives every catalogue table point-in-time recovery, the domain's key, a new-image stream and TTL", () => {
        const stack = stacks[environment];
        const tables = stack
          .ofType("aws:dynamodb/table:Table")
          .filter((t) => /-catalogue$/.test(String(t.inputs.name)));
        assert.deepEqual(tables.map((t) => t.inputs.name).sort(), [
          "mesh-podcasts-catalogue",
          "mesh-songs-catalogue",
        ]);
        for (const table of tables) {
          const domain = table.name.split("-")[0]!;
          const key = one(stack, "aws:kms/key:Key", (k) => k.name === `${domain}-data-key`);
          assert.equal(table.account, key.account);
          assert.deepEqual(
            {
              billingMode: table.inputs.billingMode,
              hashKey: table.inputs.hashKey,
              rangeKey: table.inputs.rangeKey,
              ttl: table.inputs.ttl,
              streamEnabled: table.inputs.streamEnabled,
              streamViewType: table.inputs.streamViewType,
              serverSideEncryption: table.inputs.serverSideEncryption,
              pointInTimeRecovery: table.inputs.pointInTimeRecovery,
              deletionProtectionEnabled: table.inputs.deletionProtectionEnabled,
            },
            {
              billingMode: "PAY_PER_REQUEST",
              hashKey: "pk",
              rangeKey: "sk",
              ttl: { attributeName: "expiresAt", enabled: true },
              streamEnabled: true,
              streamViewType: "NEW_IMAGE",
              serverSideEncryption: {
                enabled: true,
                kmsKeyArn: `arn:aws:kms:eu-west-1:${key.account}:key/${key.name}`,
              },
              pointInTimeRecovery: { enabled: true },
              deletionProtectionEnabled: prod,
            },
          );
          assert.equal(table.protect, prod);
          assert.equal(table.retainOnDelete, prod);
        }
      });

      it("maps each catalogue table's stream to its relay with the mesh's safe defaults, outbox items only", () => {
        const stack = stacks[environment];
        for (const domain of ["songs", "podcasts"]) {
          const table = one(
            stack,
            "aws:dynamodb/table:Table",
            (t) => t.inputs.name === `mesh-${domain}-catalogue`,
          );
          const mapping = one(
            stack,
            "aws:lambda/eventSourceMapping:EventSourceMapping",
            (m) => m.name === `${domain}-catalogue-outbox-relay-mapping`,
          );
          const bucket = one(
            stack,
            "aws:s3/bucket:Bucket",
            (b) => b.name === `${domain}-catalogue-outbox-relay-failures-bucket`,
          );
          assert.ok(mapping.urn.includes("mesh:outbox:OutboxRelay$aws:lambda/eventSourceMapping"));
          assert.deepEqual(
            { ...mapping.inputs, tags: undefined },
            {
              functionName: `arn:aws:lambda:eu-west-1:${table.account}:function:mesh-${domain}-outbox-relay`,
              eventSourceArn: `arn:aws:dynamodb:eu-west-1:${table.account}:table/mesh-${domain}-catalogue/stream/2026-01-01T00:00:00.000`,
              startingPosition: "TRIM_HORIZON",
              batchSize: 100,
              maximumBatchingWindowInSeconds: 1,
              parallelizationFactor: 1,
              maximumRetryAttempts: 5,
              maximumRecordAgeInSeconds: 21600,
              bisectBatchOnFunctionError: true,
              functionResponseTypes: ["ReportBatchItemFailures"],
              destinationConfig: { onFailure: { destinationArn: `arn:aws:s3:::${bucket.id}` } },
              filterCriteria: { filters: [{ pattern: outboxFilterPattern() }] },
              metricsConfig: { metrics: ["EventCount"] },
              tags: undefined,
            },
          );
          assert.equal(bucket.protect, prod);
        }
      });

      it("lets each relay read exactly its table's stream and write exactly its domain's products", () => {
        const stack = stacks[environment];
        for (const [domain, product] of [
          ["songs", "song-events"],
          ["podcasts", "episode-events"],
        ] as const) {
          const account = one(
            stack,
            "aws:dynamodb/table:Table",
            (t) => t.inputs.name === `mesh-${domain}-catalogue`,
          ).account;
          const tableArn = `arn:aws:dynamodb:eu-west-1:${account}:table/mesh-${domain}-catalogue`;
          const streamArn = `arn:aws:kinesis:eu-west-1:${account}:stream/${domain}.${product}`;
          const dataKey = `arn:aws:kms:eu-west-1:${account}:key/${domain}-data-key`;
          const bucketArn = `arn:aws:s3:::${one(stack, "aws:s3/bucket:Bucket", (b) => b.name === `${domain}-catalogue-outbox-relay-failures-bucket`).id}`;
          const policy = policyOf(
            one(
              stack,
              "aws:iam/rolePolicy:RolePolicy",
              (p) => p.name === `${domain}-catalogue-outbox-relay-policy`,
            ),
          );
          const pascal = (s: string) =>
            s
              .split(/[^a-z]+/)
              .map((w) => w[0]!.toUpperCase() + w.slice(1))
              .join("");
          assert.deepEqual(policy.Statement.slice(2), [
            {
              Sid: "ReadTableStream",
              Effect: "Allow",
              Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
              Resource: `${tableArn}/stream/2026-01-01T00:00:00.000`,
            },
            {
              Sid: "ListTableStreams",
              Effect: "Allow",
              Action: "dynamodb:ListStreams",
              Resource: `${tableArn}/stream/*`,
            },
            {
              Sid: "DecryptTableStream",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: dataKey,
              Condition: { StringEquals: { "kms:ViaService": "dynamodb.eu-west-1.amazonaws.com" } },
            },
            {
              Sid: `Publish${pascal(domain)}${pascal(product)}`,
              Effect: "Allow",
              Action: [
                "kinesis:PutRecord",
                "kinesis:PutRecords",
                "kinesis:DescribeStreamSummary",
                "kinesis:ListShards",
              ],
              Resource: streamArn,
              Condition: { StringEquals: { "aws:ResourceTag/mesh:product": `${domain}/${product}` } },
            },
            {
              Sid: `Encrypt${pascal(domain)}${pascal(product)}`,
              Effect: "Allow",
              Action: "kms:GenerateDataKey",
              Resource: `arn:aws:kms:eu-west-1:${account}:key/${domain}-${product}-key`,
              Condition: {
                StringEquals: {
                  "kms:ViaService": "kinesis.eu-west-1.amazonaws.com",
                  "kms:EncryptionContext:aws:kinesis:arn": streamArn,
                },
              },
            },
            {
              Sid: "KeepFailedBatches",
              Effect: "Allow",
              Action: ["s3:PutObject"],
              Resource: `${bucketArn}/*`,
            },
            { Sid: "ListFailureBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn },
            {
              Sid: "EncryptFailedBatches",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: dataKey,
              Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
            },
          ]);
          const fn = one(
            stack,
            "aws:lambda/function:Function",
            (f) => f.inputs.name === `mesh-${domain}-outbox-relay`,
          );
          assert.deepEqual(
            JSON.parse(
              (fn.inputs.environment as { variables: Record<string, string> }).variables
                .OUTBOX_PRODUCT_STREAMS!,
            ),
            {
              [product]: streamArn,
            },
          );
        }
      });

      it("lets each relay through its streams' resource policies and keys, which only the producer and the relays pass", () => {
        const stack = stacks[environment];
        const relays = stack
          .ofType("aws:lambda/function:Function")
          .filter((f) => String(f.inputs.name).endsWith("-outbox-relay"));
        assert.ok(relays.length > 0);
        for (const relay of relays) {
          const domain = String(relay.inputs.name)
            .replace(/^mesh-/, "")
            .replace(/-outbox-relay$/, "");
          const roleArn = `arn:aws:iam::${relay.account}:role/${relay.inputs.name}`;
          const policies = stack
            .ofType("aws:kinesis/resourcePolicy:ResourcePolicy")
            .filter((p) => String(p.inputs.resourceArn).includes(`:stream/${domain}.`));
          assert.ok(policies.length > 0, domain);
          for (const policy of policies) {
            const deny = policyOf(policy).Statement.find((s) => s.Sid === "OnlyTheProducerWrites");
            assert.deepEqual(deny.Condition.ArnNotEquals["aws:PrincipalArn"], [
              `arn:aws:iam::${relay.account}:role/mesh-${domain}-producer`,
              roleArn,
            ]);
          }
          const keys = stack
            .ofType("aws:kms/key:Key")
            .filter(
              (k) => k.account === relay.account && /-key$/.test(k.name) && k.name !== `${domain}-data-key`,
            )
            .filter((k) => policyOf(k).Statement.some((s) => s.Sid === "ProducerEncrypts"));
          assert.ok(keys.length > 0, domain);
          for (const key of keys) {
            const writers = policyOf(key).Statement.find((s) => s.Sid === "DomainWritersEncrypt");
            assert.deepEqual(writers.Action, "kms:GenerateDataKey");
            assert.deepEqual(writers.Condition.ArnEquals["aws:PrincipalArn"], [roleArn]);
            assert.equal(writers.Condition.StringEquals["kms:ViaService"], "kinesis.eu-west-1.amazonaws.com");
          }
        }
      });

      it("keeps the users database private, encrypted with the domain's key, IAM-authenticated, backed up", () => {
        const stack = stacks[environment];
        const cluster = one(stack, "aws:rds/cluster:Cluster", () => true);
        const key = one(stack, "aws:kms/key:Key", (k) => k.name === "users-data-key");
        const keyArn = `arn:aws:kms:eu-west-1:${key.account}:key/users-data-key`;
        assert.equal(cluster.account, key.account);
        const {
          tags: _tags,
          dbSubnetGroupName: _subnets,
          vpcSecurityGroupIds,
          dbClusterParameterGroupName: _p,
          ...inputs
        } = cluster.inputs;
        assert.deepEqual(inputs, {
          clusterIdentifier: "mesh-users",
          engine: "aurora-postgresql",
          engineMode: "provisioned",
          engineVersion: "16.6",
          databaseName: "users",
          masterUsername: "users_admin",
          manageMasterUserPassword: true,
          masterUserSecretKmsKeyId: keyArn,
          iamDatabaseAuthenticationEnabled: true,
          storageEncrypted: true,
          kmsKeyId: keyArn,
          serverlessv2ScalingConfiguration: prod
            ? { minCapacity: 0.5, maxCapacity: 8 }
            : { minCapacity: 0, maxCapacity: 2 },
          port: 5432,
          backupRetentionPeriod: prod ? 14 : 7,
          preferredBackupWindow: "02:00-03:00",
          copyTagsToSnapshot: true,
          deletionProtection: prod,
          skipFinalSnapshot: !prod,
          ...(prod && { finalSnapshotIdentifier: "mesh-users-final" }),
          enabledCloudwatchLogsExports: ["postgresql"],
        });
        assert.equal(cluster.protect, prod);
        assert.equal(cluster.retainOnDelete, prod);
        const databaseGroup = one(
          stack,
          "aws:ec2/securityGroup:SecurityGroup",
          (g) => g.inputs.name === "mesh-users-database",
        );
        assert.deepEqual(vpcSecurityGroupIds, [databaseGroup.id]);

        const instances = stack.ofType("aws:rds/clusterInstance:ClusterInstance");
        assert.equal(instances.length, prod ? 2 : 1);
        for (const instance of instances) {
          assert.equal(instance.inputs.instanceClass, "db.serverless");
          assert.equal(instance.inputs.publiclyAccessible, false);
          assert.equal(instance.protect, prod);
        }
        const parameters = one(stack, "aws:rds/clusterParameterGroup:ClusterParameterGroup", () => true);
        assert.deepEqual(parameters.inputs.parameters, [{ name: "rds.force_ssl", value: "1" }]);
      });

      it("builds the users network with private subnets only and no ingress from anywhere", () => {
        const stack = stacks[environment];
        const vpc = one(stack, "aws:ec2/vpc:Vpc", () => true);
        assert.equal(stack.ofType("aws:ec2/internetGateway:InternetGateway").length, 0);
        assert.equal(stack.ofType("aws:ec2/natGateway:NatGateway").length, 0);
        const subnets = stack.ofType("aws:ec2/subnet:Subnet");
        assert.ok(subnets.length >= 2);
        for (const subnet of subnets) {
          assert.equal(subnet.inputs.vpcId, vpc.id);
          assert.equal(subnet.inputs.mapPublicIpOnLaunch, false);
        }
        for (const rule of stack.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
          assert.equal(rule.inputs.cidrIpv4, undefined, rule.name);
          assert.ok(rule.inputs.referencedSecurityGroupId, rule.name);
        }
      });

      it("connects Glue to the users database over JDBC with SSL, through a self-referencing group in its VPC", () => {
        const stack = stacks[environment];
        const connection = one(stack, "aws:glue/connection:Connection", () => true);
        const glue = one(
          stack,
          "aws:ec2/securityGroup:SecurityGroup",
          (g) => g.inputs.name === "mesh-users-glue",
        );
        const subnet = stack
          .ofType("aws:ec2/subnet:Subnet")
          .find(
            (s) =>
              s.id === (connection.inputs.physicalConnectionRequirements as { subnetId: string }).subnetId,
          );
        assert.ok(subnet, "the connection's subnet is one of the network's");
        assert.equal(connection.inputs.connectionType, "JDBC");
        assert.deepEqual(connection.inputs.connectionProperties, {
          JDBC_CONNECTION_URL:
            "jdbc:postgresql://mesh-users.cluster-mock.eu-west-1.rds.amazonaws.com:5432/users",
          JDBC_ENFORCE_SSL: "true",
          SECRET_ID: `arn:aws:secretsmanager:eu-west-1:${connection.account}:secret:rds!cluster-users-database-cluster`,
        });
        assert.deepEqual(
          (connection.inputs.physicalConnectionRequirements as { securityGroupIdLists: string[] })
            .securityGroupIdLists,
          [glue.id],
        );
        const selfRule = one(
          stack,
          "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          (r) => r.inputs.securityGroupId === glue.id,
        );
        assert.equal(selfRule.inputs.referencedSecurityGroupId, glue.id);
      });
    });
  }
});

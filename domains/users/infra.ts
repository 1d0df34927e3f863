import { producerEtlJob } from "../../components/etl-job";
import { LineOfBusinessDatabase } from "../../components/line-of-business-database";
import { PrivateNetwork } from "../../components/private-network";
import type { DomainInfra } from "../../components/wiring";
import { usersTransform } from "./etl";

/**
 * The users service's own store: its line-of-business database, Aurora PostgreSQL Serverless v2 in
 * a private network, with the Glue connection its ETL jobs export it through. Prod keeps a reader in
 * a second zone and two weeks of backups; dev pauses at zero capacity when idle. Its ETL job reads
 * public.users through the connection into the users product (`etl/users.sql`).
 */
export const usersInfra: DomainInfra = (context) => {
  const prod = context.config.environment === "prod";
  const region = context.config.region;
  const network = new PrivateNetwork(
    "users-network",
    {
      cidrBlock: "10.20.0.0/16",
      availabilityZones: [`${region}a`, `${region}b`],
      region,
      // What the ETL job calls from inside the VPC, which has no internet route.
      interfaceEndpoints: ["glue", "logs", "monitoring", "secretsmanager", "kms", "sts"],
      tags: context.tags,
    },
    { provider: context.provider },
  );
  const database = new LineOfBusinessDatabase(
    "users-database",
    {
      identifier: "mesh-users",
      databaseName: "users",
      masterUsername: "users_admin",
      network,
      kmsKeyArn: context.dataKeyArn,
      minCapacity: prod ? 0.5 : 0,
      maxCapacity: prod ? 8 : 2,
      instances: prod ? 2 : 1,
      backupRetentionDays: prod ? 14 : 7,
      protect: context.protect,
      tags: context.tags,
    },
    { provider: context.provider },
  );
  const etl = producerEtlJob(
    context,
    usersTransform,
    {
      kind: "jdbc",
      engine: "postgresql",
      connectionName: database.glueConnectionName,
      table: "public.users",
      secretArn: database.masterUserSecretArn,
    },
    [database.glueConnectionName],
  );
  return {
    outputs: {
      etlJob: etl.jobName,
      databaseEndpoint: database.endpoint,
      databaseReaderEndpoint: database.readerEndpoint,
      databaseSecretArn: database.masterUserSecretArn,
      databaseClientSecurityGroupId: database.clientSecurityGroupId,
      glueConnection: database.glueConnectionName,
      vpcId: network.vpcId,
    },
  };
};

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PrivateNetwork } from "./private-network";

export const LINE_OF_BUSINESS_DATABASE_TYPE = "mesh:store:LineOfBusinessDatabase";

const POSTGRES_PORT = 5432;

export interface LineOfBusinessDatabaseArgs {
  /** Cluster identifier and prefix of every child's physical name (`mesh-users`). */
  readonly identifier: string;
  readonly databaseName: string;
  /** The master user; its password is generated and rotated by Secrets Manager, never in state. */
  readonly masterUsername: string;
  /** The private network the cluster and the Glue connection live in. */
  readonly network: PrivateNetwork;
  /** The domain's customer-managed key: storage, the master user secret, logs are encrypted with it. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Aurora PostgreSQL version. @default "16.6" */
  readonly engineVersion?: string;
  /** Serverless v2 capacity floor in ACUs: what the domain pays at idle (0 pauses, engine 16.3+). @default 0.5 */
  readonly minCapacity?: number;
  /** Serverless v2 capacity ceiling in ACUs. @default 4 */
  readonly maxCapacity?: number;
  /** Instances: the writer, then readers in the other zones. @default 1 */
  readonly instances?: number;
  /** Days of automated backups (point-in-time restore window). @default 7 */
  readonly backupRetentionDays?: number;
  /** Deletion protection, a final snapshot, protect and retain (prod). @default false */
  readonly protect?: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A domain's line-of-business database: Aurora PostgreSQL Serverless v2 in the private subnets of
 * its network, storage encrypted with the domain's key, IAM database authentication, the master
 * password managed by Secrets Manager, TLS required (`rds.force_ssl`), automated backups, and a Glue
 * JDBC connection (SSL enforced) through a self-referencing security group in the same VPC, for the
 * ETL jobs that export it to the domain's data products at rest.
 */
export class LineOfBusinessDatabase extends pulumi.ComponentResource {
  public readonly clusterArn: pulumi.Output<string>;
  public readonly endpoint: pulumi.Output<string>;
  public readonly readerEndpoint: pulumi.Output<string>;
  public readonly masterUserSecretArn: pulumi.Output<string>;
  /** Attach to a service that connects to the database (it may reach port 5432, nothing else). */
  public readonly clientSecurityGroupId: pulumi.Output<string>;
  public readonly glueConnectionName: pulumi.Output<string>;

  constructor(name: string, args: LineOfBusinessDatabaseArgs, opts: pulumi.ComponentResourceOptions) {
    const minCapacity = args.minCapacity ?? 0.5;
    const maxCapacity = args.maxCapacity ?? 4;
    if (!(minCapacity >= 0 && maxCapacity >= 1 && maxCapacity <= 256 && minCapacity <= maxCapacity)) {
      throw new Error(
        `LineOfBusinessDatabase ${name}: capacity must satisfy 0 <= minCapacity <= maxCapacity, 1 <= maxCapacity <= 256 ACUs (got ${minCapacity}-${maxCapacity})`,
      );
    }
    const instances = args.instances ?? 1;
    if (!Number.isInteger(instances) || instances < 1 || instances > args.network.availabilityZones.length) {
      throw new Error(
        `LineOfBusinessDatabase ${name}: instances must be between 1 and the network's ${args.network.availabilityZones.length} zones (got ${instances})`,
      );
    }
    super(LINE_OF_BUSINESS_DATABASE_TYPE, name, {}, opts);

    const { network, tags } = args;
    const parent = { parent: this };
    const stateful: pulumi.CustomResourceOptions = args.protect
      ? { parent: this, protect: true, retainOnDelete: true }
      : parent;

    // Glue's JDBC connection needs a security group that admits itself on every TCP port (its
    // workers talk to each other); the database admits that group and the clients' on 5432 only.
    const glue = new aws.ec2.SecurityGroup(
      `${name}-glue`,
      {
        vpcId: network.vpcId,
        name: `${args.identifier}-glue`,
        description: `Glue connections to ${args.identifier}: self-referencing, as Glue requires`,
        tags: { ...tags },
      },
      parent,
    );
    const clients = new aws.ec2.SecurityGroup(
      `${name}-clients`,
      {
        vpcId: network.vpcId,
        name: `${args.identifier}-clients`,
        description: `Services that connect to ${args.identifier}`,
        tags: { ...tags },
      },
      parent,
    );
    const database = new aws.ec2.SecurityGroup(
      `${name}-database`,
      {
        vpcId: network.vpcId,
        name: `${args.identifier}-database`,
        description: `${args.identifier}: PostgreSQL from Glue and the domain's clients only`,
        tags: { ...tags },
      },
      parent,
    );
    /** One TCP rule of a security group, to or from another group or a prefix list. */
    const tcpRule = (
      suffix: string,
      direction: "in" | "out",
      securityGroupId: pulumi.Input<string>,
      peer: { referencedSecurityGroupId: pulumi.Input<string> } | { prefixListId: pulumi.Input<string> },
      [fromPort, toPort]: readonly [number, number],
      description: string,
    ) => {
      const rule = {
        securityGroupId,
        ...peer,
        ipProtocol: "tcp",
        fromPort,
        toPort,
        description,
        tags: { ...tags },
      };
      return direction === "in"
        ? new aws.vpc.SecurityGroupIngressRule(`${name}-${suffix}`, rule, parent)
        : new aws.vpc.SecurityGroupEgressRule(`${name}-${suffix}`, rule, parent);
    };
    const ALL_PORTS = [0, 65535] as const;
    const HTTPS = [443, 443] as const;
    const POSTGRES = [POSTGRES_PORT, POSTGRES_PORT] as const;
    const toGlue = { referencedSecurityGroupId: glue.id };
    tcpRule("glue-self-in", "in", glue.id, toGlue, ALL_PORTS, "Glue workers to each other");
    tcpRule("glue-self-out", "out", glue.id, toGlue, ALL_PORTS, "Glue workers to each other");
    tcpRule(
      "glue-s3-out",
      "out",
      glue.id,
      { prefixListId: network.s3PrefixListId },
      HTTPS,
      "S3 through the gateway endpoint",
    );
    if (network.endpointSecurityGroupId) {
      const endpoints = network.endpointSecurityGroupId;
      tcpRule("endpoints-from-glue", "in", endpoints, toGlue, HTTPS, "HTTPS from Glue");
      tcpRule(
        "glue-endpoints-out",
        "out",
        glue.id,
        { referencedSecurityGroupId: endpoints },
        HTTPS,
        "AWS services through the network's interface endpoints",
      );
    }
    for (const [source, group] of [
      ["glue", glue],
      ["clients", clients],
    ] as const) {
      const peer = { referencedSecurityGroupId: group.id };
      tcpRule(`database-from-${source}`, "in", database.id, peer, POSTGRES, `PostgreSQL from ${source}`);
      tcpRule(
        `${source}-to-database`,
        "out",
        group.id,
        { referencedSecurityGroupId: database.id },
        POSTGRES,
        "PostgreSQL",
      );
    }

    const subnets = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      {
        name: args.identifier,
        description: `Private subnets of ${args.identifier}`,
        subnetIds: network.subnetIds,
        tags: { ...tags },
      },
      parent,
    );
    const engineVersion = args.engineVersion ?? "16.6";
    const family = `aurora-postgresql${engineVersion.split(".")[0]}`;
    const parameters = new aws.rds.ClusterParameterGroup(
      `${name}-parameters`,
      {
        name: args.identifier,
        family,
        description: `${args.identifier}: TLS required`,
        parameters: [{ name: "rds.force_ssl", value: "1" }],
        tags: { ...tags },
      },
      parent,
    );
    const cluster = new aws.rds.Cluster(
      `${name}-cluster`,
      {
        clusterIdentifier: args.identifier,
        engine: "aurora-postgresql",
        engineMode: "provisioned",
        engineVersion,
        databaseName: args.databaseName,
        masterUsername: args.masterUsername,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: args.kmsKeyArn,
        iamDatabaseAuthenticationEnabled: true,
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        serverlessv2ScalingConfiguration: { minCapacity, maxCapacity },
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [database.id],
        dbClusterParameterGroupName: parameters.name,
        port: POSTGRES_PORT,
        backupRetentionPeriod: args.backupRetentionDays ?? 7,
        preferredBackupWindow: "02:00-03:00",
        copyTagsToSnapshot: true,
        deletionProtection: args.protect ?? false,
        skipFinalSnapshot: !args.protect,
        ...(args.protect && { finalSnapshotIdentifier: `${args.identifier}-final` }),
        enabledCloudwatchLogsExports: ["postgresql"],
        tags: { ...tags },
      },
      stateful,
    );
    for (const zone of network.availabilityZones.slice(0, instances)) {
      new aws.rds.ClusterInstance(
        `${name}-${zone}`,
        {
          identifier: `${args.identifier}-${zone}`,
          clusterIdentifier: cluster.id,
          instanceClass: "db.serverless",
          engine: "aurora-postgresql",
          engineVersion,
          availabilityZone: zone,
          publiclyAccessible: false,
          autoMinorVersionUpgrade: true,
          tags: { ...tags },
        },
        stateful,
      );
    }

    const secretArn = cluster.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn)
        throw new Error(`LineOfBusinessDatabase ${name}: the cluster reports no managed master secret`);
      return arn;
    });
    const connection = new aws.glue.Connection(
      `${name}-glue-connection`,
      {
        name: args.identifier,
        description: `JDBC to ${args.identifier} (SSL enforced), for the domain's ETL jobs`,
        connectionType: "JDBC",
        connectionProperties: {
          JDBC_CONNECTION_URL: pulumi.interpolate`jdbc:postgresql://${cluster.endpoint}:${POSTGRES_PORT}/${args.databaseName}`,
          JDBC_ENFORCE_SSL: "true",
          SECRET_ID: secretArn,
        },
        physicalConnectionRequirements: {
          availabilityZone: network.availabilityZones[0]!,
          subnetId: network.subnetIds[0]!,
          securityGroupIdLists: [glue.id],
        },
        tags: { ...tags },
      },
      parent,
    );

    this.clusterArn = cluster.arn;
    this.endpoint = cluster.endpoint;
    this.readerEndpoint = cluster.readerEndpoint;
    this.masterUserSecretArn = secretArn;
    this.clientSecurityGroupId = clients.id;
    this.glueConnectionName = connection.name;
    this.registerOutputs({
      clusterArn: this.clusterArn,
      endpoint: this.endpoint,
      readerEndpoint: this.readerEndpoint,
      masterUserSecretArn: this.masterUserSecretArn,
      clientSecurityGroupId: this.clientSecurityGroupId,
      glueConnectionName: this.glueConnectionName,
    });
  }
}

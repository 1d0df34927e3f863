import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export const PRIVATE_NETWORK_TYPE = "mesh:network:PrivateNetwork";

export interface PrivateNetworkArgs {
  /** IPv4 range of the VPC; each subnet gets a /20 of it in order. @default 10.20.0.0/16 */
  readonly cidrBlock?: string;
  /** One private subnet per zone; Aurora needs at least two. */
  readonly availabilityZones: readonly string[];
  readonly region: string;
  /**
   * AWS services reached through interface endpoints (`glue`, `logs`, ...), for code in the VPC
   * that calls them without an internet route: Glue jobs running through a connection.
   * @default none
   */
  readonly interfaceEndpoints?: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A VPC with private subnets only: no internet gateway, no NAT, no public IPs. The ways out are a
 * gateway endpoint to S3 in the region (Glue jobs in the VPC read and write S3 through it) and
 * interface endpoints for the services named in `interfaceEndpoints`.
 *
 * Built from @pulumi/aws resources rather than @pulumi/awsx `ec2.Vpc` (see README, "Stores"): awsx
 * components are remote (multi-language) components, so the plan and the policy pack would see one
 * `awsx:ec2:Vpc` resource and none of its subnets, routes or security groups.
 */
export class PrivateNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly subnetIds: pulumi.Output<string>[];
  /** Zone of each subnet, in the order of `subnetIds`. */
  public readonly availabilityZones: readonly string[];
  /** The S3 prefix list, for security group egress to the gateway endpoint. */
  public readonly s3PrefixListId: pulumi.Output<string>;
  /** The interface endpoints' security group, admitting nothing until a user adds its group; absent without endpoints. */
  public readonly endpointSecurityGroupId?: pulumi.Output<string>;

  constructor(name: string, args: PrivateNetworkArgs, opts: pulumi.ComponentResourceOptions) {
    if (args.availabilityZones.length < 2) {
      throw new Error(`PrivateNetwork ${name}: needs at least two availability zones (Aurora requires two)`);
    }
    if (new Set(args.availabilityZones).size !== args.availabilityZones.length) {
      throw new Error(
        `PrivateNetwork ${name}: availability zones repeat: ${args.availabilityZones.join(", ")}`,
      );
    }
    const cidrBlock = args.cidrBlock ?? "10.20.0.0/16";
    const [base, prefix] = cidrBlock.split("/");
    if (!base || Number(prefix) > 20 - Math.ceil(Math.log2(args.availabilityZones.length))) {
      throw new Error(
        `PrivateNetwork ${name}: ${cidrBlock} cannot hold ${args.availabilityZones.length} /20 subnets`,
      );
    }
    super(PRIVATE_NETWORK_TYPE, name, {}, opts);

    const tags = (suffix: string) => ({ ...args.tags, Name: `${name}-${suffix}` });
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock, enableDnsSupport: true, enableDnsHostnames: true, tags: tags("vpc") },
      { parent: this },
    );
    const routes = new aws.ec2.RouteTable(
      `${name}-private`,
      { vpcId: vpc.id, tags: tags("private") },
      { parent: this },
    );
    const octets = base.split(".").map(Number);
    this.subnetIds = args.availabilityZones.map((zone) => {
      const index = args.availabilityZones.indexOf(zone);
      // /20 blocks: the third octet advances by 16 per subnet.
      const subnetCidr = `${octets[0]}.${octets[1]}.${(octets[2] ?? 0) + index * 16}.0/20`;
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${zone}`,
        {
          vpcId: vpc.id,
          cidrBlock: subnetCidr,
          availabilityZone: zone,
          mapPublicIpOnLaunch: false,
          tags: tags(`private-${zone}`),
        },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${zone}`,
        { subnetId: subnet.id, routeTableId: routes.id },
        { parent: this },
      );
      return subnet.id;
    });
    const s3 = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: [routes.id],
        tags: tags("s3"),
      },
      { parent: this },
    );

    const services = args.interfaceEndpoints ?? [];
    if (services.length) {
      const endpoints = new aws.ec2.SecurityGroup(
        `${name}-endpoints`,
        {
          vpcId: vpc.id,
          // No ingress here: whoever uses the endpoints admits its own group (HTTPS only).
          description: `Interface endpoints of ${name}`,
          tags: tags("endpoints"),
        },
        { parent: this },
      );
      for (const service of services) {
        new aws.ec2.VpcEndpoint(
          `${name}-${service}`,
          {
            vpcId: vpc.id,
            serviceName: `com.amazonaws.${args.region}.${service}`,
            vpcEndpointType: "Interface",
            privateDnsEnabled: true,
            subnetIds: this.subnetIds,
            securityGroupIds: [endpoints.id],
            tags: tags(service),
          },
          { parent: this },
        );
      }
      this.endpointSecurityGroupId = endpoints.id;
    }

    this.vpcId = vpc.id;
    this.availabilityZones = args.availabilityZones;
    this.s3PrefixListId = s3.prefixListId;
    this.registerOutputs({ vpcId: this.vpcId, subnetIds: this.subnetIds });
  }
}

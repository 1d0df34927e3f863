import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployRoleArn, type StackConfig } from "./config";
import { TagKeys } from "./tags";

/**
 * One provider per account alias, created on first use. Each assumes the account's deploy role and
 * refuses to touch any other account (`allowedAccountIds`), so a wrong role or profile fails the
 * preview instead of deploying a domain into someone else's account.
 */
export class AccountProviders {
  private readonly providers = new Map<string, aws.Provider>();

  constructor(private readonly config: StackConfig) {}

  get(alias: string): aws.Provider {
    const existing = this.providers.get(alias);
    if (existing) return existing;
    const account = this.config.accounts[alias];
    if (!account) throw new Error(`unknown account alias ${alias}`);
    const provider = new aws.Provider(`account-${alias}`, {
      region: this.config.region as aws.Region,
      allowedAccountIds: [account.id],
      assumeRoles: [
        { roleArn: deployRoleArn(this.config, alias), sessionName: `mesh-${pulumi.getStack()}`.slice(0, 64) },
      ],
      defaultTags: {
        tags: { [TagKeys.Environment]: this.config.environment, [TagKeys.ManagedBy]: "pulumi" },
      },
    });
    this.providers.set(alias, provider);
    return provider;
  }
}

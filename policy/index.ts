import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./policies";

// Constructing the pack starts the gRPC server the Pulumi CLI talks to: only the CLI loads this file.
// `pulumi preview --policy-pack policy [--policy-pack-config policy-config.json]`
new PolicyPack("mesh-guardrails", {
  description:
    "Guardrails of the streaming data mesh: shared streams, consumers, keys, buckets, APIs and IAM.",
  displayName: "Mesh guardrails",
  provider: "aws",
  policies: allPolicies,
  enforcementLevel: "advisory",
});

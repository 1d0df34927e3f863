import { resourceRule, type ResourceView, type RuleContext } from "../lib/rule";
import { T } from "../lib/types";
import { get, UNKNOWN } from "../lib/values";

const DOMAIN = "OpenSearch domain";

/** TLS policies that refuse anything older than TLS 1.2. */
export const TLS_12_POLICIES = ["Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10"] as const;

function requireTrue(
  domain: ResourceView,
  context: RuleContext<never>,
  path: string[],
  message: string,
): void {
  const value = get(domain.props, ...path);
  if (value === UNKNOWN)
    context.couldNotCheck(`${DOMAIN} ${path.join(".")} could not be checked during preview.`);
  else if (value !== true) context.report(message);
}

export const opensearchEncryptionAtRest = resourceRule({
  name: "opensearch-encryption-at-rest",
  description: "OpenSearch domains must encrypt data at rest.",
  enforcementLevel: "mandatory",
  types: [T.OpenSearchDomain],
  check: (domain, context) =>
    requireTrue(
      domain,
      context,
      ["encryptAtRest", "enabled"],
      `${DOMAIN} encryptAtRest.enabled must be true.`,
    ),
});

export const opensearchNodeToNodeEncryption = resourceRule({
  name: "opensearch-node-to-node-encryption",
  description: "OpenSearch domains must encrypt traffic between nodes.",
  enforcementLevel: "mandatory",
  types: [T.OpenSearchDomain],
  check: (domain, context) =>
    requireTrue(
      domain,
      context,
      ["nodeToNodeEncryption", "enabled"],
      `${DOMAIN} nodeToNodeEncryption.enabled must be true.`,
    ),
});

export const opensearchEnforceHttps = resourceRule({
  name: "opensearch-enforce-https",
  description: "OpenSearch domains must enforce HTTPS with a TLS 1.2 (or later) security policy.",
  enforcementLevel: "mandatory",
  types: [T.OpenSearchDomain],
  check(domain, context) {
    requireTrue(
      domain,
      context,
      ["domainEndpointOptions", "enforceHttps"],
      `${DOMAIN} domainEndpointOptions.enforceHttps must be true.`,
    );
    const policy = get(domain.props, "domainEndpointOptions", "tlsSecurityPolicy");
    if (policy === UNKNOWN) {
      context.couldNotCheck(
        `${DOMAIN} domainEndpointOptions.tlsSecurityPolicy could not be checked during preview.`,
      );
    } else if (!TLS_12_POLICIES.includes(policy as (typeof TLS_12_POLICIES)[number])) {
      context.report(
        `${DOMAIN} domainEndpointOptions.tlsSecurityPolicy must be ${TLS_12_POLICIES.join(" or ")} (it is ${String(policy ?? "unset")}).`,
      );
    }
  },
});

export const opensearchFineGrainedAccessControl = resourceRule({
  name: "opensearch-fine-grained-access-control",
  description: "OpenSearch domains must enable fine-grained access control (advancedSecurityOptions).",
  enforcementLevel: "mandatory",
  types: [T.OpenSearchDomain],
  check: (domain, context) =>
    requireTrue(
      domain,
      context,
      ["advancedSecurityOptions", "enabled"],
      `${DOMAIN} advancedSecurityOptions.enabled must be true.`,
    ),
});

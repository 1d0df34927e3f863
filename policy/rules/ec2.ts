import { resourceRule } from "../lib/rule";
import { T } from "../lib/types";
import { UNKNOWN } from "../lib/values";

/** Source ranges that mean "anywhere". */
const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** The CIDR sources of one ingress rule, in whichever shape the resource declares it. */
function openSources(rule: Record<string, unknown>): string[] | typeof UNKNOWN {
  const sources: unknown[] = [];
  for (const key of ["cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6"]) {
    const value = rule[key];
    if (value === UNKNOWN) return UNKNOWN;
    if (Array.isArray(value)) sources.push(...value);
    else if (value !== undefined && value !== null) sources.push(value);
  }
  if (sources.includes(UNKNOWN)) return UNKNOWN;
  return sources.filter(
    (source): source is string => typeof source === "string" && ANYWHERE.includes(source),
  );
}

export const ec2NoPublicIngress = resourceRule({
  name: "ec2-no-public-ingress",
  description:
    "Security groups must not admit traffic from anywhere (0.0.0.0/0 or ::/0): the mesh's stores are reached from named security groups only.",
  enforcementLevel: "mandatory",
  types: [T.SecurityGroup, T.SecurityGroupRule, T.SecurityGroupIngressRule],
  check(resource, context) {
    let rules: unknown;
    if (resource.type === T.SecurityGroup) rules = resource.props.ingress;
    else if (resource.type === T.SecurityGroupRule)
      rules = resource.props.type === "egress" ? [] : [resource.props];
    else rules = [resource.props];
    if (rules === UNKNOWN || (resource.type === T.SecurityGroupRule && resource.props.type === UNKNOWN)) {
      context.couldNotCheck("Security group ingress could not be checked during preview.");
      return;
    }
    for (const rule of Array.isArray(rules) ? rules : []) {
      const open = openSources((rule ?? {}) as Record<string, unknown>);
      if (open === UNKNOWN)
        context.couldNotCheck("Security group ingress could not be checked during preview.");
      else if (open.length)
        context.report(`Security group ingress must not be open to ${open.join(" and ")}.`);
    }
  },
});

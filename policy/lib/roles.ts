import type { RuleContext, StackView } from "./rule";
import { T } from "./types";
import { asList, get, parseMaybeJson, UNKNOWN } from "./values";

/** The service principals a trust policy lets assume the role. */
export function trustedServices(assumeRolePolicy: unknown): string[] | typeof UNKNOWN {
  const document = parseMaybeJson(assumeRolePolicy);
  if (document === UNKNOWN) return UNKNOWN;
  return asList(get(document, "Statement")).flatMap((statement) => {
    if (get(statement, "Effect") !== "Allow") return [];
    return asList(get(statement, "Principal", "Service")).map(String);
  });
}

/**
 * Each resource of `type` runs with a role (`roleArn`) of its own, trusted by `service` alone, so
 * that the role's policy holds only that resource's calls. Roles declared elsewhere are checked
 * where they are declared.
 */
export function checkOwnServiceRoles(
  stack: StackView,
  context: RuleContext<never>,
  kind: { readonly type: string; readonly label: string; readonly service: string },
): void {
  const subjects = stack.ofType(kind.type);
  const roles = stack.ofType(T.IamRole);
  const users = new Map<string, string[]>();
  for (const subject of subjects) {
    const roleArn = subject.props.roleArn;
    if (roleArn === UNKNOWN || typeof roleArn !== "string") {
      context.couldNotCheck(
        `${kind.label} ${subject.name} roleArn could not be checked during preview.`,
        subject.urn,
      );
      continue;
    }
    users.set(roleArn, [...(users.get(roleArn) ?? []), subject.name]);
    const roleName = roleArn.split("/").pop();
    const role = roles.find((candidate) => candidate.props.name === roleName);
    if (!role) continue;
    const services = trustedServices(role.props.assumeRolePolicy);
    if (services === UNKNOWN) {
      context.couldNotCheck(`Role ${role.name} trust policy could not be checked during preview.`, role.urn);
    } else if (services.length !== 1 || services[0] !== kind.service) {
      context.report(
        `${kind.label} ${subject.name} must run with a role trusted by ${kind.service} alone (${role.name} trusts ${services.join(", ") || "no service"}).`,
        subject.urn,
      );
    }
  }
  for (const [roleArn, names] of users) {
    if (names.length < 2) continue;
    for (const subject of subjects.filter((s) => names.includes(s.name))) {
      context.report(
        `${kind.label} ${subject.name} must not share its role ${roleArn} with ${names.filter((n) => n !== subject.name).join(", ")}.`,
        subject.urn,
      );
    }
  }
}

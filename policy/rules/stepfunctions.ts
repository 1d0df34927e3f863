import { resourceRule, stackRule } from "../lib/rule";
import { T } from "../lib/types";
import { asList, get, parseMaybeJson, UNKNOWN } from "../lib/values";

const MACHINE = "Step Functions state machine";

export const stepFunctionsLogging = resourceRule({
  name: "stepfunctions-logging",
  description:
    "Step Functions state machines must log executions to CloudWatch Logs (level ALL, ERROR or FATAL, with a log group destination).",
  enforcementLevel: "mandatory",
  types: [T.StateMachine],
  check(machine, context) {
    const level = get(machine.props, "loggingConfiguration", "level");
    const destination = get(machine.props, "loggingConfiguration", "logDestination");
    if (level === UNKNOWN || destination === UNKNOWN) {
      context.couldNotCheck(`${MACHINE} loggingConfiguration could not be checked during preview.`);
    } else if (!["ALL", "ERROR", "FATAL"].includes(level as string) || !destination) {
      context.report(
        `${MACHINE} must log to a CloudWatch Logs group at level ALL, ERROR or FATAL (level is ${String(level ?? "unset")}).`,
      );
    }
  },
});

export const stepFunctionsCmkEncryption = resourceRule({
  name: "stepfunctions-cmk-encryption",
  description:
    "Step Functions state machines must encrypt their definitions and execution data with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  types: [T.StateMachine],
  check(machine, context) {
    const type = get(machine.props, "encryptionConfiguration", "type");
    const key = get(machine.props, "encryptionConfiguration", "kmsKeyId");
    if (type === UNKNOWN) {
      context.couldNotCheck(`${MACHINE} encryptionConfiguration could not be checked during preview.`);
    } else if (type !== "CUSTOMER_MANAGED_KMS_KEY" || (key !== UNKNOWN && !key)) {
      context.report(
        `${MACHINE} must be encrypted with a CUSTOMER_MANAGED_KMS_KEY (type is ${String(type ?? "unset")}).`,
      );
    }
  },
});

/** The service principals a trust policy lets assume the role. */
function trustedServices(assumeRolePolicy: unknown): string[] | typeof UNKNOWN {
  const document = parseMaybeJson(assumeRolePolicy);
  if (document === UNKNOWN) return UNKNOWN;
  return asList(get(document, "Statement")).flatMap((statement) => {
    if (get(statement, "Effect") !== "Allow") return [];
    return asList(get(statement, "Principal", "Service")).map(String);
  });
}

export const stepFunctionsOwnRole = stackRule({
  name: "stepfunctions-own-role",
  description:
    "Step Functions state machines must each run with a role of their own, trusted by states.amazonaws.com alone, so that its policy holds only that machine's calls.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    const machines = stack.ofType(T.StateMachine);
    const roles = stack.ofType(T.IamRole);
    const users = new Map<string, string[]>();
    for (const machine of machines) {
      const roleArn = machine.props.roleArn;
      if (roleArn === UNKNOWN || typeof roleArn !== "string") {
        context.couldNotCheck(
          `${MACHINE} ${machine.name} roleArn could not be checked during preview.`,
          machine.urn,
        );
        continue;
      }
      users.set(roleArn, [...(users.get(roleArn) ?? []), machine.name]);
      const roleName = roleArn.split("/").pop();
      const role = roles.find((candidate) => candidate.props.name === roleName);
      if (!role) continue; // A role declared elsewhere is checked where it is declared.
      const services = trustedServices(role.props.assumeRolePolicy);
      if (services === UNKNOWN) {
        context.couldNotCheck(
          `Role ${role.name} trust policy could not be checked during preview.`,
          role.urn,
        );
      } else if (services.length !== 1 || services[0] !== "states.amazonaws.com") {
        context.report(
          `${MACHINE} ${machine.name} must run with a role trusted by states.amazonaws.com alone (${role.name} trusts ${services.join(", ") || "no service"}).`,
          machine.urn,
        );
      }
    }
    for (const [roleArn, names] of users) {
      if (names.length > 1) {
        for (const machine of machines.filter((m) => names.includes(m.name))) {
          context.report(
            `${MACHINE} ${machine.name} must not share its role ${roleArn} with ${names.filter((n) => n !== machine.name).join(", ")}.`,
            machine.urn,
          );
        }
      }
    }
  },
});

import { resourceRule, stackRule } from "../lib/rule";
import { T } from "../lib/types";
import { checkOwnServiceRoles } from "../lib/roles";
import { get, UNKNOWN } from "../lib/values";

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

export const stepFunctionsOwnRole = stackRule({
  name: "stepfunctions-own-role",
  description:
    "Step Functions state machines must each run with a role of their own, trusted by states.amazonaws.com alone, so that its policy holds only that machine's calls.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    checkOwnServiceRoles(stack, context, {
      type: T.StateMachine,
      label: MACHINE,
      service: "states.amazonaws.com",
    });
  },
});

import { stackRule, type ResourceView, type StackView } from "../lib/rule";
import { T } from "../lib/types";
import { asList, UNKNOWN } from "../lib/values";

/** What identifies a topic in another resource's property: its ARN (or, in an offline plan, its logical name at the ARN's end). */
function topicKeys(topic: ResourceView): string[] {
  return [topic.id, topic.props.arn, topic.props.name, topic.name].filter(
    (k): k is string => typeof k === "string",
  );
}

/** The topics a property points at: the engine's dependencies first, then the ARN's last segment. */
function topicsOf(stack: StackView, from: ResourceView, prop: string, byKey: Map<string, ResourceView>) {
  const targets = new Set<ResourceView>();
  let unknown = false;
  for (const urn of from.propertyDependencies[prop] ?? []) {
    const target = stack.byUrn(urn);
    if (target?.type === T.SnsTopic) targets.add(target);
  }
  for (const value of asList(from.props[prop])) {
    if (value === UNKNOWN) unknown = true;
    if (typeof value !== "string" || !value.startsWith("arn:aws:sns:")) continue;
    const topic = byKey.get(value) ?? byKey.get(value.split(":").pop()!);
    if (topic) targets.add(topic);
  }
  return { targets: [...targets], unknown: unknown && targets.size === 0 };
}

export const snsAlarmTopicSubscribed = stackRule({
  name: "sns-alarm-topic-subscribed",
  description:
    "An SNS topic that CloudWatch alarms notify must have a subscription in the same stack, so that alarms reach someone.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    const byKey = new Map<string, ResourceView>();
    for (const topic of stack.ofType(T.SnsTopic)) for (const key of topicKeys(topic)) byKey.set(key, topic);
    const subscribed = new Set<ResourceView>();
    let unknownSubscription = false;
    for (const subscription of stack.ofType(T.SnsTopicSubscription)) {
      const { targets, unknown } = topicsOf(stack, subscription, "topic", byKey);
      targets.forEach((t) => subscribed.add(t));
      unknownSubscription ||= unknown;
    }
    const reported = new Set<ResourceView>();
    for (const alarm of stack.ofType(T.MetricAlarm)) {
      for (const prop of ["alarmActions", "okActions", "insufficientDataActions"]) {
        for (const topic of topicsOf(stack, alarm, prop, byKey).targets) {
          if (subscribed.has(topic) || reported.has(topic)) continue;
          reported.add(topic);
          if (unknownSubscription) {
            context.couldNotCheck(
              `SNS topic ${topic.name} subscriptions could not be checked during preview.`,
              topic.urn,
            );
          } else {
            context.report(
              `SNS topic ${topic.name} is notified by alarms (e.g. ${alarm.name}) and must have a subscription, or its alarms reach nobody.`,
              topic.urn,
            );
          }
        }
      }
    }
  },
});

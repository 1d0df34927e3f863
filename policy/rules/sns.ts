import { topicIndex, topicLinks } from "../lib/links";
import { stackRule, type ResourceView } from "../lib/rule";
import { T } from "../lib/types";

export const snsAlarmTopicSubscribed = stackRule({
  name: "sns-alarm-topic-subscribed",
  description:
    "An SNS topic that CloudWatch alarms notify must have a subscription in the same stack, so that alarms reach someone.",
  enforcementLevel: "mandatory",
  check(stack, context) {
    const byKey = topicIndex(stack);
    const subscribed = new Set<ResourceView>();
    let unknownSubscription = false;
    for (const subscription of stack.ofType(T.SnsTopicSubscription)) {
      const { targets, unknown } = topicLinks(stack, subscription, "topic", byKey);
      targets.forEach((t) => subscribed.add(t));
      unknownSubscription ||= unknown;
    }
    const reported = new Set<ResourceView>();
    for (const alarm of stack.ofType(T.MetricAlarm)) {
      for (const prop of ["alarmActions", "okActions", "insufficientDataActions"]) {
        for (const topic of topicLinks(stack, alarm, prop, byKey).targets) {
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

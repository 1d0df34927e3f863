import { strict as assert } from "node:assert";
import { UNKNOWN_STRING } from "../lib/values";
import { ACCOUNTS, mesh, resource } from "../tests/fixtures";
import { messages } from "../tests/harness";
import { snsAlarmTopicSubscribed } from "./sns";

const policy = snsAlarmTopicSubscribed;
const TOPIC_URN = "urn:pulumi:test::mesh::aws:sns/topic:Topic::songs-alarms";
const topicArn = `arn:aws:sns:eu-west-1:${ACCOUNTS.songs}:songs-alarms`;
const topic = resource("aws:sns/topic:Topic", "songs-alarms", { tags: {} }, { account: ACCOUNTS.songs });
const alarm = (alarmActions: unknown, propertyDependencies?: Record<string, string[]>) =>
  resource(
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "songs-iterator-age",
    { alarmActions, metricName: "GetRecords.IteratorAgeMilliseconds" },
    { account: ACCOUNTS.songs, propertyDependencies },
  );
const subscription = (topicValue: unknown, propertyDependencies?: Record<string, string[]>) =>
  resource(
    "aws:sns/topicSubscription:TopicSubscription",
    "songs-alarms-owner",
    { topic: topicValue, protocol: "email", endpoint: "catalogue@example.com" },
    { account: ACCOUNTS.songs, propertyDependencies },
  );
const unsubscribed =
  "SNS topic songs-alarms is notified by alarms (e.g. songs-iterator-age) and must have a subscription, or its alarms reach nobody.";

describe("sns-alarm-topic-subscribed", () => {
  it("passes an alarm topic with a subscription", async () => {
    assert.deepEqual(
      await messages(policy, [...mesh(), topic, alarm([topicArn]), subscription(topicArn)]),
      [],
    );
  });
  it("rejects an alarm topic nobody subscribes to", async () => {
    assert.deepEqual(await messages(policy, [...mesh(), topic, alarm([topicArn])]), [unsubscribed]);
  });
  it("follows the engine's dependencies while ARNs are unknown", async () => {
    const deps = { alarmActions: [TOPIC_URN] };
    assert.deepEqual(await messages(policy, [...mesh(), topic, alarm([UNKNOWN_STRING], deps)]), [
      unsubscribed,
    ]);
    const linked = subscription(UNKNOWN_STRING, { topic: [TOPIC_URN] });
    assert.deepEqual(await messages(policy, [...mesh(), topic, alarm([UNKNOWN_STRING], deps), linked]), []);
  });
  it("leaves topics no alarm notifies alone", async () => {
    assert.deepEqual(await messages(policy, [...mesh(), topic]), []);
  });
});

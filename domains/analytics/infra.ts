import { InteractionsIndex } from "../../components/interactions-index";
import type { DomainInfra } from "../../components/wiring";

/**
 * Analytics' own infrastructure: the interactions index (Firehose into OpenSearch). The
 * interactions-ingestor writes each interaction to the delivery stream with PutRecordBatch.
 */
export const analyticsInfra: DomainInfra = (context) => {
  const index = new InteractionsIndex(
    "analytics-interactions-index",
    {
      accountId: context.domain.accountId,
      region: context.config.region,
      dataKeyArn: context.dataKeyArn,
      alarmTopicArn: context.alarmTopicArn,
      protect: context.protect,
      tags: context.tags,
    },
    { provider: context.provider },
  );
  return {
    handlers: {
      "interactions-ingestor": {
        environment: { DELIVERY_STREAM: index.deliveryStreamName },
        statements: [
          {
            Sid: "DeliverInteractions",
            Effect: "Allow",
            Action: ["firehose:PutRecordBatch"],
            Resource: index.deliveryStreamArn,
          },
        ],
      },
    },
    outputs: { deliveryStreamName: index.deliveryStreamName, domainEndpoint: index.domainEndpoint },
  };
};

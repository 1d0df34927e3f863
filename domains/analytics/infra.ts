import { InteractionsIndex } from "../../components/interactions-index";
import { QueryWorkgroup } from "../../components/query-workgroup";
import type { DomainInfra } from "../../components/wiring";

/**
 * Analytics' own infrastructure: the interactions index (Firehose into OpenSearch) and an Athena
 * workgroup over its products at rest. The interactions-ingestor writes each interaction to the delivery stream with PutRecordBatch.
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
  // Athena over the products analytics reads at rest, run as their reader roles.
  const readers = Object.entries(context.atRest);
  const queries = readers.length
    ? new QueryWorkgroup(
        "analytics-queries",
        {
          workgroupName: "mesh-analytics",
          accountId: context.domain.accountId,
          region: context.config.region,
          dataKeyArn: context.dataKeyArn,
          queryRoles: Object.fromEntries(
            readers.map(([subscription, reader]) => [subscription, reader.roleName]),
          ),
          protect: context.protect,
          tags: context.tags,
        },
        { provider: context.provider },
      )
    : undefined;
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
    outputs: {
      deliveryStreamName: index.deliveryStreamName,
      domainEndpoint: index.domainEndpoint,
      ...(queries ? { queryWorkgroup: queries.workgroupName } : {}),
    },
  };
};

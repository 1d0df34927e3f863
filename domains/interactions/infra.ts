import { producerEtlJob } from "../../components/etl-job";
import type { DomainInfra } from "../../components/wiring";
import { interactionsTransform } from "./etl";

/**
 * The interactions domain's own infrastructure: the ETL job that publishes the clean interactions
 * product (each event once, contract violations quarantined) from what Firehose landed under
 * `landing/` of the product's bucket (`etl/interaction-events.sql`).
 */
export const interactionsInfra: DomainInfra = (context) => {
  const etl = producerEtlJob(context, interactionsTransform, { kind: "landing" });
  return { outputs: { etlJob: etl.jobName } };
};

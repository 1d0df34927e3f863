import type { DomainInfra } from "../components/wiring";
import { analyticsInfra } from "./analytics/infra";
import { recommendationsInfra } from "./recommendations/infra";

/** Each consumer domain's own infrastructure, by domain name; wired to its handlers by the program. */
export const domainInfra: Readonly<Record<string, DomainInfra>> = {
  recommendations: recommendationsInfra,
  analytics: analyticsInfra,
};

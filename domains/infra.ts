import type { DomainInfra } from "../components/wiring";
import { analyticsInfra } from "./analytics/infra";
import { interactionsInfra } from "./interactions/infra";
import { podcastsInfra } from "./podcasts/infra";
import { recommendationsInfra } from "./recommendations/infra";
import { songsInfra } from "./songs/infra";
import { usersInfra } from "./users/infra";

/** Each domain's own infrastructure (stores, relays, ETL jobs, Personalize, indexes), by domain name. */
export const domainInfra: Readonly<Record<string, DomainInfra>> = {
  users: usersInfra,
  songs: songsInfra,
  podcasts: podcastsInfra,
  interactions: interactionsInfra,
  recommendations: recommendationsInfra,
  analytics: analyticsInfra,
};

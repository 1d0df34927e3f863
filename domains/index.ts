import type { DomainDeclaration } from "../platform/declarations";
import analytics from "./analytics";
import interactions from "./interactions";
import podcasts from "./podcasts";
import recommendations from "./recommendations";
import songs from "./songs";
import users from "./users";

/** Every domain of the mesh. A new domain is a folder here and one line in this list. */
export const domains: readonly DomainDeclaration[] = [
  users,
  songs,
  podcasts,
  interactions,
  recommendations,
  analytics,
];

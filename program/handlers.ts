import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Mesh } from "../platform/mesh";

const EXPORTS_HANDLER =
  /\bexport\s+(?:const|let|var|async\s+function|function)\s+handler\b|\bexport\s*\{[^}]*\bhandler\b[^}]*\}/;

/**
 * Declaration problems of the handlers this stack deploys, found before any resource is
 * registered: a handler file that does not exist, or that does not export `handler` (the name
 * every function's runtime calls). Checked on the source text, so a syntax error is left to the
 * bundler, which names the file and line.
 */
export function handlerProblems(mesh: Mesh, domainsRoot: string): string[] {
  const problems: string[] = [];
  for (const domain of mesh.domains.filter((d) => mesh.units.has(d.name))) {
    for (const subscription of domain.subscriptions) {
      const index = domain.declaration.subscriptions.findIndex((s) => s.name === subscription.name);
      const path = `domains.${domain.name}.subscriptions[${index}].handler`;
      const file = join(domainsRoot, domain.name, subscription.handler);
      const shown = relative(process.cwd(), file);
      if (!existsSync(file)) {
        problems.push(`${path}: no file ${shown} (handler paths are relative to the domain's folder)`);
      } else if (!EXPORTS_HANDLER.test(readFileSync(file, "utf8"))) {
        problems.push(`${path}: ${shown} does not export a function named handler`);
      }
    }
  }
  return problems;
}

import { benchInteractionsHandler } from "./interactions-handler";
import { benchPlan } from "./plan";
import { benchPublisher } from "./publisher";

/** By name; `npm run bench` runs the first two in this order, `npm run bench -- plan` the plan one. */
const benchmarks: Readonly<Record<string, () => Promise<unknown>>> = {
  publisher: benchPublisher,
  handler: benchInteractionsHandler,
  plan: benchPlan,
};
const DEFAULT = ["publisher", "handler"];

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !(name in benchmarks));
  if (unknown.length) {
    throw new Error(
      `unknown benchmark ${unknown.join(", ")}: expected ${Object.keys(benchmarks).join(", ")}`,
    );
  }
  for (const name of names.length ? names : DEFAULT) await benchmarks[name]!();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

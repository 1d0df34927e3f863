import { benchInteractionsHandler } from "./interactions-handler";
import { benchPublisher } from "./publisher";

/** Run in this order by `npm run bench`; each prints its own figures. */
const benchmarks: readonly (() => Promise<unknown>)[] = [benchPublisher, benchInteractionsHandler];

async function main(): Promise<void> {
  for (const bench of benchmarks) await bench();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

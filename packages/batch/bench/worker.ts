/**
 * One worker process of the benchmark: the tiny bundle's files (argv) loaded once on one thread, a BatchWorker on the
 * queue, "ready" on stdout once it takes jobs; SIGTERM stops it after the running job.
 */
import { Engine } from "@vall-e/pipeline";
import { BatchWorker } from "../src/index.js";

const [url, name, out, lm, codec, tokenizer] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const engine = await Engine.load({ models: { lm, codec, tokenizer }, threads: 1 });
const worker = await BatchWorker.start({ location: { url, name }, out, engine });
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void worker
    .close()
    .then(() => engine.dispose())
    .then(() => process.exit(0));
});

/** Hostile run.json files, texts, special files and paths, a hub that never answers, and signals mid-run. */

import { dirname } from "node:path";
import { closedPort, type HubStub, startHubStub } from "@tooling/config/hub-stub";
import { tempDir } from "@tooling/config/temp-dir";
import { EXIT_OK } from "../../src/exit-codes.js";
import { vallE } from "../processes.js";
import { corpusWorld, QUICK, runCases, writeCorpus, writeRunVariants } from "./corpus.js";
import { hostileSuite } from "./suite.js";

const world = corpusWorld(tempDir("cli-hostile-runs-"));
let hub: HubStub | undefined;
let closed = "";

hostileSuite(
  "runs",
  world,
  async (w) => {
    await writeCorpus(w);
    // A real run.json to make the hostile ones from.
    const made = await vallE(
      [
        "tts",
        "Hi.",
        "--model",
        "tiny",
        "--artifacts",
        dirname(w.run),
        "-o",
        `${dirname(w.run)}.wav`,
        "--seed",
        "1",
        ...QUICK,
      ],
      w.env,
    );
    if (made.code !== EXIT_OK) throw new Error(`the base run failed:\n${made.stderr}`);
    writeRunVariants(w);
    hub = await startHubStub(new Map());
    hub.fault = { hang: true };
    closed = `http://127.0.0.1:${await closedPort()}`;
  },
  runCases(world, () => ({ silent: hub?.endpoint ?? "", closed })),
  () => hub?.close(),
);

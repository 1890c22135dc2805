/** Hostile audio, codes and phoneme artifacts against encode, decode, inspect, generate and tts. */
import { tempDir } from "@tooling/config/temp-dir";
import { corpusWorld, dataCases, writeCorpus } from "./corpus.js";
import { hostileSuite } from "./suite.js";

const world = corpusWorld(tempDir("cli-hostile-data-"));
hostileSuite("data", world, writeCorpus, dataCases(world));

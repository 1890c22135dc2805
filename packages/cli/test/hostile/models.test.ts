/** Hostile model files — GGUF, EnCodec, Vocos, tokenizer.json — against inspect, generate, encode, decode, phonemize. */
import { tempDir } from "@tooling/config/temp-dir";
import { corpusWorld, modelCases, writeCorpus } from "./corpus.js";
import { hostileSuite } from "./suite.js";

const world = corpusWorld(tempDir("cli-hostile-models-"));
hostileSuite("models", world, writeCorpus, modelCases(world));

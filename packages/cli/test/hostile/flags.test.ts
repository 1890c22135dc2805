/** Every numeric flag with values it must refuse, before any model is resolved. */
import { tempDir } from "@tooling/config/temp-dir";
import { corpusWorld, flagCases, writeCorpus } from "./corpus.js";
import { hostileSuite } from "./suite.js";

const world = corpusWorld(tempDir("cli-hostile-flags-"));
hostileSuite("flags", world, writeCorpus, flagCases(world));

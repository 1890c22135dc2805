#!/usr/bin/env node
// The phonemize stage on its own: `vall-e-phonemize <text | -> [options]` is `vall-e phonemize …`.
import { run } from "../dist/run.js";

process.exitCode = await run([process.argv[0], "vall-e", "phonemize", ...process.argv.slice(2)]);

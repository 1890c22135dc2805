#!/usr/bin/env node
// The LM stage on its own: `vall-e-lm forward …` is `vall-e lm forward …`.
import { run } from "../dist/run.js";

process.exitCode = await run([process.argv[0], "vall-e", "lm", ...process.argv.slice(2)]);

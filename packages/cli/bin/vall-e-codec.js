#!/usr/bin/env node
// The codec stage on its own: `vall-e-codec encode|decode|inspect …` is `vall-e encode|decode|inspect …`.
import { runStage } from "../dist/run.js";

process.exitCode = await runStage("vall-e-codec", ["encode", "decode", "inspect"], process.argv);

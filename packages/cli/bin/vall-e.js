#!/usr/bin/env node
// The `vall-e` command. Everything lives in dist/; heavy modules load inside each command's action.
import { run } from "../dist/run.js";

process.exitCode = await run(process.argv);

/**
 * The `vall-e` program: global options and one subcommand per file in commands/. Nothing heavy is imported here,
 * so `vall-e --help` is instant and works without the native addon.
 */
import { InvalidArgumentError } from "@vall-e/core";
import { Command } from "commander";
import { batchCommand } from "./commands/batch.js";
import { buildNativeCommand } from "./commands/build-native.js";
import { convertCodecCommand } from "./commands/convert-codec.js";
import { decodeCommand } from "./commands/decode.js";
import { doctorCommand } from "./commands/doctor.js";
import { encodeCommand } from "./commands/encode.js";
import { evalCommand } from "./commands/eval.js";
import { generateCommand } from "./commands/generate.js";
import { inspectCommand } from "./commands/inspect.js";
import { lmCommand } from "./commands/lm.js";
import { modelsCommand } from "./commands/models.js";
import { phonemizeCommand } from "./commands/phonemize.js";
import { serveCommand } from "./commands/serve.js";
import { sttCommand } from "./commands/stt.js";
import { ttsCommand } from "./commands/tts.js";
import { voicesCommand } from "./commands/voices.js";
import { workerCommand } from "./commands/worker.js";
import type { CommandContext } from "./context.js";
import { checkDeviceOption } from "./io/device-option.js";
import { configureHelp } from "./io/help.js";
import { CLI_VERSION } from "./version.js";

/** What `vall-e --help` (and only it: each command shows its own examples) shows first: the main job, as the README's quick start says it. */
export const QUICK_START = `Speak:
  vall-e tts "Hello there." -o hello.wav                        downloads the model bundle once, then speaks
  vall-e tts "Hello there." --prompt voice.wav -o hello.wav     in the voice of voice.wav (a few seconds)
  vall-e tts "Hello there." --prompt espeak:en-us -o hello.wav  a demo voice espeak-ng makes on the fly
  vall-e tts "Hello there." --model tiny -o hello.wav           offline: random weights, the audio is noise
`;

export function createProgram(context: CommandContext): Command {
  const program = new Command("vall-e")
    .description("VALL-E zero-shot text-to-speech: text plus a few seconds of a voice in, that voice out")
    .version(CLI_VERSION, "-V, --version", "print the version")
    .addHelpText("before", QUICK_START)
    .option("-q, --quiet", "print nothing on stderr but errors")
    .option("-v, --verbose", "print debug details on stderr")
    .hook("preAction", async (root, action) => {
      const options = root.opts<{ quiet?: boolean; verbose?: boolean }>();
      if (options.quiet && options.verbose) {
        throw new InvalidArgumentError("Give -q (--quiet) or -v (--verbose), not both");
      }
      context.output.quiet = options.quiet === true;
      context.output.verbose = options.verbose === true;
      await checkDeviceOption(action);
    });
  program.addCommand(phonemizeCommand(context));
  program.addCommand(encodeCommand(context));
  program.addCommand(decodeCommand(context));
  program.addCommand(inspectCommand(context));
  program.addCommand(convertCodecCommand(context));
  program.addCommand(ttsCommand(context));
  program.addCommand(generateCommand(context));
  program.addCommand(sttCommand(context));
  program.addCommand(evalCommand(context));
  program.addCommand(lmCommand(context));
  program.addCommand(serveCommand(context));
  program.addCommand(batchCommand(context));
  program.addCommand(workerCommand(context));
  program.addCommand(voicesCommand(context));
  program.addCommand(modelsCommand(context));
  program.addCommand(doctorCommand(context));
  program.addCommand(buildNativeCommand(context));
  configureHelp(program);
  return program;
}

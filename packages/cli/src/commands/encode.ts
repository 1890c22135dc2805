/**
 * `vall-e encode <in.wav> -o <codes.npy | codes.json | -> [--codec PATH] [--bandwidth 6] [--channel first|mix]`
 * Audio (any WAV: rate, channels, encoding) → EnCodec codes: the prompt stage's artifact.
 */
import { VallEError } from "@vall-e/core";
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { addModelOptions, resolveModelFile } from "../io/model-files.js";
import { checkOutputPath, parseThreads } from "../io/options.js";

interface EncodeCommandOptions {
  device?: string;
  output: string;
  codec?: string;
  bandwidth: string;
  channel: "first" | "mix";
  threads?: number;
  json?: boolean;
}

export function encodeCommand(context: CommandContext): Command {
  return addModelOptions(
    new Command("encode")
      .description("audio (WAV) → EnCodec codes (.npy with a .json sidecar, or .json)")
      .argument("<input>", "a WAV file: PCM 8/16/24/32-bit or float 32/64-bit, any sample rate and channel count")
      .requiredOption("-o, --output <file>", 'codes file: .npy or .json ("-": JSON on stdout)')
      .addOption(
        new Option("-b, --bandwidth <kbps>", "bandwidth: 1.5, 3, 6 (8 codebooks, the VALL-E models'), 12 or 24")
          .choices(["1.5", "3", "6", "12", "24"])
          .default("6"),
      )
      .addOption(
        new Option("--channel <which>", "which channel to encode: the first (as the reference) or the mix")
          .choices(["first", "mix"])
          .default("first"),
      )
      .option("-t, --threads <n>", "threads (default: the physical cores)", parseThreads)
      .addOption(deviceOption())
      .option("--json", "print a summary as JSON on stdout (with -o FILE)"),
    ["codec"],
  ).action(async (input: string, options: EncodeCommandOptions) => {
    if (options.json && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--json prints on stdout; write the codes to a file (-o FILE)");
    }
    checkOutputPath(options.output); // before any model is resolved or a sample encoded
    const { Codec, serializeCodesJson, writeCodes } = await import("@vall-e/codec");
    const path = await resolveModelFile(context, "codec", options);
    await using codec = await Codec.load(path, {
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...deviceLoadOption(options.device),
    });
    const artifact = await codec.encodeFile(input, {
      bandwidth: Number(options.bandwidth),
      channel: options.channel,
      signal: context.signal,
    });
    if (options.output === "-") {
      context.output.data(serializeCodesJson(artifact));
    } else {
      await writeCodes(options.output, artifact);
      if (options.json) {
        const summary = {
          output: options.output,
          codebooks: artifact.codebooks,
          frames: artifact.frames,
          seconds: artifact.frames / 75,
          source: artifact.source,
        };
        context.output.data(`${JSON.stringify(summary, null, 2)}\n`);
      }
      context.output.info(
        `wrote ${options.output} (${artifact.codebooks} codebooks × ${artifact.frames} frames, ${(artifact.frames / 75).toFixed(2)} s)`,
      );
    }
  });
}

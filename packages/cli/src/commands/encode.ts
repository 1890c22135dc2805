/**
 * `vall-e encode <in.wav> -o <codes.npy | codes.json | -> [--codec PATH] [--bandwidth 6] [--channel first|mix]`
 * Audio (any WAV: rate, channels, encoding) → EnCodec codes: the prompt stage's artifact.
 */
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { addModelOptions, resolveModelFile } from "../io/model-files.js";
import { parseThreads } from "../io/options.js";

interface EncodeCommandOptions {
  output: string;
  codec?: string;
  bandwidth: string;
  channel: "first" | "mix";
  threads?: number;
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
      .option("-t, --threads <n>", "threads (default: physical cores)", parseThreads),
    ["codec"],
  ).action(async (input: string, options: EncodeCommandOptions) => {
    const { Codec, serializeCodesJson, writeCodes } = await import("@vall-e/codec");
    const path = await resolveModelFile(context, "codec", options);
    await using codec = await Codec.load(path, options.threads === undefined ? {} : { threads: options.threads });
    const artifact = await codec.encodeFile(input, {
      bandwidth: Number(options.bandwidth),
      channel: options.channel,
      signal: context.signal,
    });
    if (options.output === "-") {
      context.output.data(serializeCodesJson(artifact));
    } else {
      await writeCodes(options.output, artifact);
      context.output.info(
        `wrote ${options.output} (${artifact.codebooks} codebooks × ${artifact.frames} frames, ${(artifact.frames / 75).toFixed(2)} s)`,
      );
    }
  });
}

/**
 * `vall-e decode <codes.npy | .json | .enc> -o <out.wav | -> [--codec PATH] [--sample-format s16|f32]`
 * EnCodec codes → 24 kHz audio. `-o -` writes the WAV to stdout.
 */
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { addModelOptions, resolveModelFile } from "../io/model-files.js";
import { parseThreads } from "../io/options.js";

interface DecodeCommandOptions {
  output: string;
  codec?: string;
  sampleFormat: "s16" | "f32";
  threads?: number;
}

export function decodeCommand(context: CommandContext): Command {
  return addModelOptions(
    new Command("decode")
      .description("EnCodec codes (.npy, .json, or the Python tooling's .enc) → 24 kHz WAV")
      .argument("<codes>", "codes file: .npy, .json or .enc")
      .requiredOption("-o, --output <file>", 'WAV file ("-": stdout)')
      .addOption(
        new Option("--sample-format <format>", "16-bit PCM or 32-bit float").choices(["s16", "f32"]).default("s16"),
      )
      .option("-t, --threads <n>", "threads (default: physical cores)", parseThreads),
    ["codec"],
  ).action(async (input: string, options: DecodeCommandOptions) => {
    const { Codec, encodeWav, readCodes, writeWav, SAMPLE_RATE } = await import("@vall-e/codec");
    const codes = await readCodes(input);
    const path = await resolveModelFile(context, "codec", options);
    await using codec = await Codec.load(path, options.threads === undefined ? {} : { threads: options.threads });
    const audio = await codec.decode(codes, { signal: context.signal });
    if (options.output === "-") {
      context.output.data(encodeWav(audio, SAMPLE_RATE, options.sampleFormat));
    } else {
      await writeWav(options.output, audio, SAMPLE_RATE, options.sampleFormat);
      context.output.info(
        `wrote ${options.output} (${(audio.length / SAMPLE_RATE).toFixed(2)} s at ${SAMPLE_RATE} Hz)`,
      );
    }
  });
}

/**
 * `vall-e decode <codes.npy | .json | .enc> -o <out.wav | -> [--vocoder vocos|encodec] [--vocos PATH] [--codec PATH]
 * [--sample-format s16|f32]`
 * EnCodec codes → 24 kHz audio, through Vocos (the reference's default) or EnCodec's own decoder. `-o -` writes the
 * WAV to stdout.
 */
import { VallEError } from "@vall-e/core";
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { addModelOptions, decoderRole, type ModelFlags, resolveModelFile } from "../io/model-files.js";
import { checkOutputPath, parseInteger, parseThreads } from "../io/options.js";
import { findPlayer, play } from "../io/play.js";

interface DecodeCommandOptions extends ModelFlags {
  device?: string;
  output: string;
  sampleFormat: "s16" | "f32";
  threads?: number;
  maxFrames?: number;
  json?: boolean;
  play?: boolean;
}

export function decodeCommand(context: CommandContext): Command {
  return addModelOptions(
    new Command("decode")
      .description("EnCodec codes (.npy, .json, or the Python tooling's .enc) → 24 kHz WAV, through Vocos or EnCodec")
      .argument("<codes>", "codes file: .npy, .json or .enc")
      .requiredOption("-o, --output <file>", 'WAV file ("-": stdout)')
      .addOption(
        new Option("--sample-format <format>", "16-bit PCM or 32-bit float").choices(["s16", "f32"]).default("s16"),
      )
      .option("-t, --threads <n>", "threads (default: the physical cores)", parseThreads)
      .addOption(deviceOption())
      .option(
        "--max-frames <n>",
        "refuse codes longer than this many frames (default: 270000, one hour at 75 frames/s)",
        parseInteger("--max-frames", 1, 2 ** 26),
      )
      .option("--json", "print a summary as JSON on stdout (with -o FILE)")
      .option("--play", "play the WAV once it is written (the system's player; VALL_E_PLAYER)"),
    ["codec", "vocos"],
  ).action(async (input: string, options: DecodeCommandOptions) => {
    const role = decoderRole(options);
    if (role === "vocos" && options.codec !== undefined) {
      throw new VallEError(
        "ERR_USAGE",
        "--codec names EnCodec's weights, which decode with --vocoder encodec; Vocos (the default) reads --vocos",
      );
    }
    if (options.json && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--json prints on stdout; write the WAV to a file (-o FILE)");
    }
    if (options.play && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--play plays the written file: give -o FILE (or pipe -o - into a player)");
    }
    if (options.output !== "-") checkOutputPath(options.output);
    const player = options.play ? findPlayer() : undefined;
    const { Codec, Vocos, encodeWav, readCodes, writeWav, SAMPLE_RATE } = await import("@vall-e/codec");
    const codes = await readCodes(input, options.maxFrames === undefined ? {} : { maxFrames: options.maxFrames });
    if (role === "vocos" && ![2, 4, 8, 16].includes(codes.codebooks)) {
      throw new VallEError(
        "ERR_USAGE",
        `${input} holds ${codes.codebooks} codebooks; Vocos decodes 2, 4, 8 or 16 (its bandwidths, 1.5 to 12 kbps): decode it with --vocoder encodec`,
      );
    }
    const path = await resolveModelFile(context, role, options);
    const threads = {
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...deviceLoadOption(options.device),
    };
    let audio: Float32Array;
    if (role === "vocos") {
      await using vocos = await Vocos.load(path, threads);
      audio = await vocos.decode(codes, { signal: context.signal });
    } else {
      await using codec = await Codec.load(path, threads);
      audio = await codec.decode(codes, { signal: context.signal });
    }
    if (options.output === "-") {
      context.output.data(encodeWav(audio, SAMPLE_RATE, options.sampleFormat));
    } else {
      await writeWav(options.output, audio, SAMPLE_RATE, options.sampleFormat);
      if (options.json) {
        const summary = {
          output: options.output,
          decoder: role === "vocos" ? "vocos" : "encodec",
          weights: path,
          codebooks: codes.codebooks,
          frames: codes.frames,
          seconds: audio.length / SAMPLE_RATE,
          sampleRate: SAMPLE_RATE,
          sampleFormat: options.sampleFormat,
        };
        context.output.data(`${JSON.stringify(summary, null, 2)}\n`);
      }
      context.output.info(
        `wrote ${options.output} (${(audio.length / SAMPLE_RATE).toFixed(2)} s at ${SAMPLE_RATE} Hz, ${role === "vocos" ? "Vocos" : "EnCodec"})`,
      );
      if (player) await play(player, options.output, context.signal);
    }
  });
}

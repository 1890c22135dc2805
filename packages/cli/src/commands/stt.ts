/**
 * `vall-e stt <audio> [-o phonemes.json] [--lang en] [--seed N] [--max-tokens N] [--json] [--model PATH|tiny]`: speech
 * to phonemes with the VALL-E model itself (its stt task) — the audio (WAV, FLAC, MP3, Ogg, or a codes file) is
 * encoded and the model writes its phoneme tokens, spelled with the tokenizer. Prints the IPA on stdout without -o;
 * -o writes the PhonemeArtifact (what `vall-e phonemize` writes, with an empty text).
 */
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { addModelOptions, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { checkOutputPath, parseInteger, parseThreads } from "../io/options.js";

interface SttFlags extends ModelFlags {
  device?: string;
  output?: string;
  lang: string;
  seed?: number;
  maxTokens?: number;
  json?: boolean;
  threads?: number;
}

export function sttCommand(context: CommandContext): Command {
  const command = new Command("stt")
    .description("speech → phonemes with the VALL-E model itself (its stt task)")
    .argument("<audio>", "the speech: WAV, FLAC, MP3, Ogg, or codes (.npy, .json, .enc; 8 levels)")
    .option("-o, --output <file>", "write the phoneme artifact (JSON) here instead of printing the IPA")
    .addOption(
      new Option("--lang <language>", "its language").choices(["en", "ja", "de", "fr", "zh", "ko"]).default("en"),
    )
    .option(
      "--seed <n>",
      "seed (sampling is greedy unless sampler flags say otherwise)",
      parseInteger("--seed", 0, 2 ** 32 - 1),
    )
    .option(
      "--max-tokens <n>",
      "phoneme tokens at most (default: 8 + 30 per second of audio)",
      parseInteger("--max-tokens", 1, 4096),
    )
    .option("--json", "print the artifact and the run (seed, stopped) as JSON on stdout")
    .option("-t, --threads <n>", "threads (default: the physical cores)", parseThreads)
    .addOption(deviceOption());
  addModelOptions(command, ["lm", "codec", "tokenizer"]);
  return command.action(async (audio: string, flags: SttFlags) => {
    if (flags.output !== undefined) checkOutputPath(flags.output);
    const [{ Engine }, { writePhonemeArtifact }] = await Promise.all([
      import("@vall-e/pipeline"),
      import("@vall-e/phonemizer"),
    ]);
    const resolved = await resolveModelFiles(context, flags, ["lm", "codec", "tokenizer"]);
    await using engine = await Engine.load({
      models: resolved.files,
      need: ["lm", "codec", "tokenizer"], // nothing to decode
      ...(flags.threads ? { threads: flags.threads } : {}),
      ...deviceLoadOption(flags.device),
    });
    const result = await engine.transcribe({
      audio,
      language: flags.lang as "en",
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      ...(flags.maxTokens === undefined ? {} : { maxTokens: flags.maxTokens }),
      signal: context.signal,
    });
    if (flags.output !== undefined) await writePhonemeArtifact(flags.output, result.artifact);
    if (flags.json) {
      context.output.data(
        `${JSON.stringify({ ...result.artifact, seed: result.seed, stopped: result.stopped }, null, 2)}\n`,
      );
    } else if (flags.output === undefined) context.output.data(`${result.artifact.ipa}\n`);
    context.output.info(
      `${flags.output ? `wrote ${flags.output}: ` : ""}${result.artifact.tokens.length} tokens from ${(result.frames / 75).toFixed(2)} s${result.stopped ? "" : " (no </eos> before --max-tokens)"}; seed ${result.seed}`,
    );
  });
}

/**
 * `vall-e tts <text | -> [--text-file F] --prompt <voice.wav…> -o <out.wav | -> --model <gguf> [--codec PATH]
 * [--tokenizer PATH] [--lang] [--prompt-seconds S] [--artifacts DIR] [--json] [generation flags]`: the whole
 * pipeline — text and a few seconds of a voice in, that voice speaking the text out (24 kHz WAV).
 */
import { readFile } from "node:fs/promises";
import { fileReadError, VallEError } from "@vall-e/native";
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import {
  addGenerationOptions,
  createProgress,
  type GenerationFlags,
  generationFrom,
} from "../io/generation-options.js";
import { resolveModelFile } from "../io/model-files.js";
import { readTextArgument } from "../io/read-input.js";

interface TtsOptions extends GenerationFlags {
  textFile?: string;
  prompt?: string[];
  output: string;
  model?: string;
  codec?: string;
  tokenizer?: string;
  lang: string;
  promptSeconds: number;
  artifacts?: string;
  json?: boolean;
}

export function ttsCommand(context: CommandContext): Command {
  const command = new Command("tts")
    .description("text + a voice (WAV or codes) → that voice speaking the text (24 kHz WAV)")
    .argument("[text]", 'the text ("-": stdin)')
    .option("--text-file <file>", "read the text from this file")
    .option("--prompt <voice...>", "voice references: WAV files, or codes (.npy, .json, .enc); none: no prompt")
    .requiredOption("-o, --output <file>", 'the WAV to write ("-": stdout)')
    .option("--model <gguf>", "a VALL-E GGUF (default: vall_e.gguf in VALL_E_MODEL_DIR or the cache)")
    .option("--codec <path>", "EnCodec weights (default: encodec.bin in VALL_E_MODEL_DIR or the cache)")
    .option("--tokenizer <path>", "tokenizer.json (default: tokenizer.json beside the models, else the GGUF's)")
    .addOption(
      new Option("--lang <language>", "text language")
        .choices(["auto", "en", "ja", "de", "fr", "zh", "ko"])
        .default("auto"),
    )
    .option(
      "--prompt-seconds <s>",
      "prompt length in seconds: looped or cut (0: as given)",
      (v: string) => {
        const n = Number(v);
        if (v.trim() === "" || !Number.isFinite(n) || n < 0) {
          throw new VallEError("ERR_USAGE", `Expected seconds ≥ 0 for --prompt-seconds, got ${JSON.stringify(v)}`);
        }
        return n;
      },
      3,
    )
    .option("--artifacts <dir>", "write every stage's artifact and run.json here")
    .option("--json", "print the run summary as JSON on stdout (with -o FILE)");
  addGenerationOptions(command);
  return command.action(async (textArgument: string | undefined, options: TtsOptions) => {
    if ((textArgument === undefined) === (options.textFile === undefined)) {
      throw new VallEError("ERR_USAGE", "Give the text as an argument (or - for stdin) or with --text-file, not both");
    }
    if (options.json && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--json prints on stdout; write the WAV to a file (-o FILE)");
    }
    let text: string;
    if (options.textFile !== undefined) {
      try {
        text = await readFile(options.textFile, "utf8");
      } catch (error) {
        throw fileReadError("Text file", options.textFile, error);
      }
    } else text = await readTextArgument(textArgument as string);
    const generation = await generationFrom(options);
    const lm = await resolveModelFile(options.model, "vall_e.gguf", "--model <gguf>", "VALL-E model");
    const codec = await resolveModelFile(options.codec, "encodec.bin", "--codec <encodec.bin>", "EnCodec weights");
    const tokenizer =
      options.tokenizer ??
      (await resolveModelFile(undefined, "tokenizer.json", "--tokenizer", "tokenizer").catch(() => lm));

    const [{ synthesize }, { encodeWav, writeWav }] = await Promise.all([
      import("@vall-e/pipeline"),
      import("@vall-e/codec"),
    ]);
    const progress = await createProgress(context);
    let result: Awaited<ReturnType<typeof synthesize>>;
    try {
      result = await synthesize({
        text,
        models: { lm, codec, tokenizer },
        ...(options.prompt ? { reference: options.prompt } : {}),
        language: options.lang as "auto",
        ...generation,
        promptSeconds: options.promptSeconds,
        ...(options.artifacts ? { artifactsDir: options.artifacts } : {}),
        signal: context.signal,
        onProgress: (e) =>
          progress.update({ stage: `${e.sentence + 1}/${e.sentences} ${e.stage}`, step: e.step, total: e.total }),
      });
    } finally {
      progress.stop();
    }
    if (options.output === "-") context.output.data(encodeWav(result.audio, result.sampleRate));
    else await writeWav(options.output, result.audio, result.sampleRate);
    const seconds = result.audio.length / result.sampleRate;
    const seeds = result.sentences.map((s) => s.seed);
    if (options.json) {
      context.output.data(
        `${JSON.stringify({ output: options.output, seconds, sampleRate: result.sampleRate, sentences: result.sentences, artifacts: result.artifacts ?? [] }, null, 2)}\n`,
      );
    }
    context.output.info(
      `${options.output === "-" ? "spoke" : `wrote ${options.output}:`} ${seconds.toFixed(2)} s, ${result.sentences.length} sentence(s); seed ${seeds[0]}${options.artifacts ? `; artifacts in ${options.artifacts}` : ""}`,
    );
  });
}

/**
 * `vall-e tts <text | -> [--text-file F] --prompt <voice.wav…> -o <out.wav | -> [--model PATH|tiny] [--codec PATH]
 * [--tokenizer PATH] [--vocoder vocos|encodec] [--vocos PATH] [--quant Q] [--lang] [--task] [--prompt-seconds S]
 * [--artifacts DIR] [--json] [generation flags]`: the whole pipeline — text and a few seconds of a voice in, that voice
 * speaking the text out (24 kHz WAV, decoded by Vocos as the reference does, or by EnCodec with --vocoder encodec). Any stage
 * can start from its artifact (--phonemes, --prompt-codes, --response-codes), and --replay runs a run.json again.
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { MAX_SENTENCE_BATCH, REQUEST_SETTINGS, statPathSync, VallEError } from "@vall-e/core";
import type { ModelRole, SynthesizeOptions, SynthesizeResult } from "@vall-e/pipeline";
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption } from "../io/device-option.js";
import {
  addGenerationOptions,
  checkGeneration,
  createProgress,
  type GenerationFlags,
  generationFrom,
} from "../io/generation-options.js";
import { OPTION_GROUPS } from "../io/help.js";
import {
  addModelOptions,
  decoderRole,
  explainCachedModelError,
  type ModelFlags,
  resolveModelFiles,
} from "../io/model-files.js";
import { parseDecimal } from "../io/numbers.js";
import { checkFolderPath, checkOutputPath, parseInteger } from "../io/options.js";
import { findPlayer, play } from "../io/play.js";
import { MAX_TEXT_CHARACTERS, readTextArgument, readTextFile } from "../io/read-input.js";
import { openVoices } from "./voices.js";

interface TtsOptions extends GenerationFlags, ModelFlags {
  textFile?: string;
  maxText?: number;
  prompt?: string[];
  promptCodes?: string;
  phonemes?: string[];
  responseCodes?: string[];
  replay?: string;
  voiceRef?: string;
  voices?: string;
  output: string;
  lang: string;
  promptSeconds: number;
  contextHistory: number;
  sentenceBatch: number;
  artifacts?: string;
  json?: boolean;
  play?: boolean;
}

function seconds(flag: string) {
  return (v: string) => {
    const n = parseDecimal(v);
    if (n === undefined || n < 0) {
      throw new VallEError("ERR_USAGE", `Expected seconds ≥ 0 for ${flag}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

export function ttsCommand(context: CommandContext): Command {
  const { language, promptSeconds, contextHistory, sentenceBatch } = REQUEST_SETTINGS;
  const command = new Command("tts")
    .description("text + a voice (WAV or codes) → that voice speaking the text (24 kHz WAV)")
    .argument("[text]", 'the text ("-": stdin)')
    .optionsGroup(OPTION_GROUPS.input)
    .option("--text-file <file>", "read the text from this file")
    .addOption(
      new Option("--lang <language>", language.doc).choices(language.choices as string[]).default(language.value),
    )
    .option(
      "--max-text <chars>",
      `refuse a text longer than this many characters (default: ${MAX_TEXT_CHARACTERS}, about two hours of speech)`,
      parseInteger("--max-text", 1, 2 ** 28),
    )
    .option("--phonemes <files...>", "start from phoneme artifacts (one per sentence) instead of the text")
    .option("--response-codes <files...>", "start from response codes (one per sentence): only decode")
    .option("--replay <run.json>", "run a run.json again: same inputs, models (checked), options and seed")
    .optionsGroup(OPTION_GROUPS.voice)
    .option(
      "--prompt <voice...>",
      "voice references: WAV files, codes (.npy, .json, .enc), or espeak:<voice> (a demo voice, e.g. espeak:en-us); none: no prompt",
    )
    .option("--prompt-codes <file>", "the prepared prompt (prompt.codes.npy of --artifacts) instead of --prompt")
    .option(
      "--voice-ref <name>",
      "a voice of the library (vall-e voices add; shared with vall-e serve) instead of --prompt",
    )
    .option("--voices <dir>", "the voice library (default: VALL_E_VOICES_DIR or ~/.local/share/vall-e/voices)")
    .option("--prompt-seconds <s>", promptSeconds.doc, seconds("--prompt-seconds"), promptSeconds.value)
    .optionsGroup(OPTION_GROUPS.output)
    .requiredOption("-o, --output <file>", 'the WAV to write ("-": stdout, not a terminal)')
    .option("--json", "print the run summary as JSON on stdout (with -o FILE)")
    .option("--play", "play the WAV once it is written (the system's player: pw-play, paplay, aplay, …; VALL_E_PLAYER)")
    .option("--artifacts <dir>", "write every stage's artifact and run.json here");
  addModelOptions(command, ["lm", "codec", "tokenizer", "vocos"]);
  addGenerationOptions(command);
  command.addOption(
    new Option("--context-history <n>", contextHistory.doc)
      .argParser((v: string) => {
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 16) {
          throw new VallEError(
            "ERR_USAGE",
            `Expected a number of sentences from 0 to 16 for --context-history, got ${JSON.stringify(v)}`,
          );
        }
        return n;
      })
      .default(contextHistory.value)
      .helpGroup(OPTION_GROUPS.generation),
  );
  command.addOption(
    new Option("--sentence-batch <n>", sentenceBatch.doc)
      .argParser(parseInteger("--sentence-batch", 0, MAX_SENTENCE_BATCH))
      .default(sentenceBatch.value)
      .helpGroup(OPTION_GROUPS.generation),
  );
  return command.action(async (textArgument: string | undefined, options: TtsOptions, self: Command) => {
    // `--prompt voice.wav "Hello there."`: the variadic --prompt took the text too. Its last value is the text when it
    // is not a file (nor espeak:<voice>) and no other input was given.
    const lastPrompt = options.prompt?.at(-1);
    if (
      textArgument === undefined &&
      options.textFile === undefined &&
      !options.phonemes &&
      !options.responseCodes &&
      !options.replay &&
      options.prompt !== undefined &&
      options.prompt.length >= 2 &&
      lastPrompt !== undefined &&
      !lastPrompt.startsWith("espeak:") &&
      !existsSync(lastPrompt)
    ) {
      textArgument = lastPrompt;
      options.prompt = options.prompt.slice(0, -1);
      context.output.debug(`read ${JSON.stringify(lastPrompt)} as the text (it is not a voice file)`);
    }
    // ns / sr clean up or remove the speech of the prompt: the transcript is optional (empty text).
    if (
      options.task !== "tts" &&
      textArgument === undefined &&
      options.textFile === undefined &&
      !options.phonemes &&
      !options.responseCodes &&
      !options.replay
    ) {
      textArgument = "";
    }
    const inputs = [
      textArgument !== undefined && "a text argument",
      options.textFile !== undefined && "--text-file",
      options.phonemes !== undefined && "--phonemes",
      options.responseCodes !== undefined && "--response-codes",
      options.replay !== undefined && "--replay",
    ].filter(Boolean);
    if (inputs.length !== 1) {
      throw new VallEError(
        "ERR_USAGE",
        inputs.length === 0
          ? "Give the text as an argument (or - for stdin), with --text-file, or start from --phonemes, --response-codes or --replay"
          : `Give one input, not ${inputs.join(" and ")}`,
      );
    }
    if (options.replay !== undefined) {
      // A replay runs the manifest as recorded: only where the output goes, artifacts, threads and the device may change.
      const allowed = new Set(["replay", "output", "artifacts", "json", "threads", "device"]);
      const given = self.options
        .map((option) => option.attributeName())
        .filter((name) => !allowed.has(name) && self.getOptionValueSource(name) === "cli");
      if (given.length > 0) {
        const flags = given.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
        throw new VallEError(
          "ERR_USAGE",
          `--replay runs the run.json as recorded; it does not take ${flags.join(", ")}`,
        );
      }
    }
    const voiceFlags = [
      options.prompt !== undefined && "--prompt",
      options.promptCodes !== undefined && "--prompt-codes",
      options.voiceRef !== undefined && "--voice-ref",
    ].filter(Boolean);
    if (voiceFlags.length > 1) {
      throw new VallEError(
        "ERR_USAGE",
        voiceFlags.length === 2 && !options.voiceRef
          ? "Give the voice with --prompt or --prompt-codes, not both"
          : `Give the voice one way, not with ${voiceFlags.join(" and ")}`,
      );
    }
    if (options.output === "-" && context.output.stdout.isTTY === true) {
      throw new VallEError(
        "ERR_USAGE",
        "-o - writes binary WAV to stdout, which is a terminal here: pipe it (… -o - | aplay) or write a file (-o out.wav)",
      );
    }
    if (options.json && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--json prints on stdout; write the WAV to a file (-o FILE)");
    }
    if (options.play && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--play plays the written file: give -o FILE (or pipe -o - into a player)");
    }
    // The player is found before any work: a machine without one is told now, not after the synthesis.
    const player = options.play ? findPlayer() : undefined;
    const [pipeline, codec] = await Promise.all([import("@vall-e/pipeline"), import("@vall-e/codec")]);
    // -o -: the WAV goes out sentence by sentence as each is decoded (a header of unknown length first), so a player
    // at the end of the pipe starts at once.
    let streamed = false;
    const progress = await createProgress(context, { label: "tts", loads: true });
    const onChunk: SynthesizeOptions["onChunk"] = (chunk) => {
      if (options.output === "-") {
        if (!streamed) context.output.data(codec.streamingWavHeader(chunk.sampleRate));
        streamed = true;
        context.output.data(codec.pcm16Bytes(chunk.audio));
      }
      progress.sentenceDone(chunk.index, chunk.audio.length / chunk.sampleRate);
    };
    const onProgress: SynthesizeOptions["onProgress"] = (e) => progress.update(e);
    let result: SynthesizeResult;
    try {
      if (options.replay !== undefined) {
        progress.start();
        result = await pipeline.replay(options.replay, {
          ...(options.artifacts ? { artifactsDir: options.artifacts } : {}),
          ...(options.threads ? { threads: options.threads } : {}),
          ...(options.device === undefined ? {} : { device: options.device as string }), // else the recorded one
          signal: context.signal,
          onProgress,
          onChunk,
        });
      } else {
        let text: string | undefined;
        if (options.textFile !== undefined)
          text = await readTextFile(options.textFile, options.maxText ?? MAX_TEXT_CHARACTERS);
        else if (textArgument !== undefined)
          text = await readTextArgument(textArgument, process.stdin, options.maxText ?? MAX_TEXT_CHARACTERS);
        const generation = await generationFrom(options);
        // Every value and the output path are checked before a model is resolved (or downloaded).
        checkOutputPath(options.output);
        if (options.artifacts !== undefined) checkFolderPath(options.artifacts, "--artifacts");
        await checkGeneration({
          ...generation,
          language: options.lang,
          promptSeconds: options.promptSeconds,
          contextHistory: options.contextHistory,
          sentenceBatch: options.sentenceBatch,
          ...(options.task !== "tts" ? { reference: options.prompt ?? options.promptCodes ?? options.voiceRef } : {}),
        });
        // The decoder's weights; the LM unless only decoding; the tokenizer for text; the codec for audio voices.
        const encodesVoice =
          !options.responseCodes &&
          (options.prompt ?? []).some((p) => p.startsWith("espeak:") || !/\.(npy|json|enc)$/i.test(p));
        const need: ModelRole[] = [
          ...(options.responseCodes ? [] : (["lm"] as const)),
          ...(text === undefined ? [] : (["tokenizer"] as const)),
          ...(encodesVoice && options.vocoder !== "encodec" ? (["codec"] as const) : []),
          decoderRole(options),
        ];
        // A voice of the library: its codes, prepared when it was added.
        const voice = options.voiceRef ? (await openVoices(options.voices)).find(options.voiceRef)?.voice : undefined;
        if (options.voiceRef && !voice) {
          throw new VallEError(
            "ERR_USAGE",
            `No voice ${JSON.stringify(options.voiceRef)} in the library (vall-e voices list shows them; vall-e voices add NAME FILE… adds one)`,
          );
        }
        const resolved = await resolveTtsModels(context, options, need);
        if (options.task === "tts" && !options.prompt && !options.promptCodes && !voice && !options.responseCodes) {
          context.output.info("no voice prompt (--prompt): speaking in a voice of the model's own choosing");
        }
        const models = resolved.files;
        progress.start();
        result = await pipeline
          .synthesize({
            ...(text === undefined ? {} : { text }),
            // run.json records a text file (not a FIFO: it cannot be read again) with its SHA-256; replay checks it.
            ...(options.textFile !== undefined && statPathSync(options.textFile)?.isFile()
              ? { textFile: options.textFile }
              : {}),
            ...(options.phonemes ? { phonemes: options.phonemes } : {}),
            ...(options.responseCodes ? { responseCodes: options.responseCodes } : {}),
            models,
            decoder: options.vocoder ?? "vocos",
            ...(options.prompt ? { reference: options.prompt } : {}),
            ...(voice ? { reference: voice } : {}),
            ...(options.promptCodes ? { promptCodes: options.promptCodes } : {}),
            language: options.lang as "auto",
            ...generation,
            promptSeconds: options.promptSeconds,
            contextHistory: options.contextHistory,
            sentenceBatch: options.sentenceBatch,
            ...(options.artifacts ? { artifactsDir: options.artifacts } : {}),
            ...deviceLoadOption(options.device),
            signal: context.signal,
            onProgress,
            onChunk,
          })
          .catch((error: unknown) => {
            throw explainCachedModelError(error, resolved);
          });
      }
    } finally {
      progress.stop();
    }
    const duration = result.audio.length / result.sampleRate;
    progress.finish(duration);
    if (options.output !== "-") await codec.writeWav(options.output, result.audio, result.sampleRate);
    if (options.json) {
      const summary = {
        output: options.output,
        seconds: duration,
        sampleRate: result.sampleRate,
        ...(result.seed === undefined ? {} : { seed: result.seed }),
        sentences: result.sentences,
        artifacts: result.artifacts ?? [],
      };
      context.output.data(`${JSON.stringify(summary, null, 2)}\n`);
    }
    context.output.info(
      `${options.output === "-" ? "spoke" : `wrote ${options.output}:`} ${duration.toFixed(2)} s, ${result.sentences.length} sentence(s)${result.seed === undefined ? "" : `; seed ${result.seed}`}${options.artifacts ? `; artifacts in ${options.artifacts}` : ""}`,
    );
    if (player) {
      context.output.info(`playing ${options.output} (${basename(player.command)})…`);
      await play(player, options.output, context.signal);
    }
  });
}

/**
 * The bundle for tts. A tokenizer.json that cannot be found or fetched, next to an explicit --model, falls back to the
 * GGUF's own vocabulary (the loader warns that aliases are missing).
 */
async function resolveTtsModels(context: CommandContext, flags: ModelFlags, need: readonly ModelRole[]) {
  try {
    return await resolveModelFiles(context, flags, need);
  } catch (error) {
    const fallback =
      need.includes("tokenizer") &&
      flags.model !== undefined &&
      flags.model !== "tiny" &&
      flags.tokenizer === undefined &&
      (error as { code?: string }).code === "ERR_MODELS_UNAVAILABLE";
    if (!fallback) throw error;
    const resolved = await resolveModelFiles(
      context,
      flags,
      need.filter((role) => role !== "tokenizer"),
    );
    context.output.info(`warning: no tokenizer.json here or on the hub; using the vocabulary inside ${flags.model}`);
    return {
      ...resolved,
      files: { ...resolved.files, tokenizer: resolved.files.lm },
      sources: { ...resolved.sources, tokenizer: resolved.sources.lm },
    };
  }
}

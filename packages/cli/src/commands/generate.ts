/**
 * `vall-e generate --phonemes <p.json> [--prompt <codes>] -o <codes.npy | codes.json | -> --model <gguf>
 * [--modality nar-len|ar+nar] [--seed N] [--threads N] [--max-duration S] [--max-steps N] [sampler flags]`:
 * the LM stage — phonemes (the PhonemeArtifact of `vall-e phonemize`) and a voice prompt (codes from `vall-e encode`)
 * in, the response codes out (8 levels × frames, ready for `vall-e decode`). Also `vall-e lm generate` / `vall-e-lm
 * generate`. A progress bar on stderr (on a terminal); the seed is reported so a run can be repeated.
 */
import { InvalidArgumentError, VallEError } from "@vall-e/native";
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { parseThreads } from "../io/options.js";

/** Sampler flags: flag, key of SamplingOptions, help (with unit and default), integer or not. */
const SAMPLER_FLAGS = [
  ["--ar-temperature <t>", "arTemperature", "AR / NAR-len temperature, ≤ 0 greedy (default 1)", false],
  ["--nar-temperature <t>", "narTemperature", "NAR levels 1–7 temperature, ≤ 0 greedy (default 0)", false],
  [
    "--min-ar-temperature <t>",
    "minArTemperature",
    "dynamic temperature floor for AR / NAR-len, < 0 off (default -1)",
    false,
  ],
  ["--min-nar-temperature <t>", "minNarTemperature", "dynamic temperature floor for NAR, < 0 off (default -1)", false],
  ["--top-k <k>", "topK", "keep the k most likely tokens, 0 off (default 0)", true],
  ["--top-p <p>", "topP", "nucleus probability mass in (0, 1], 1 off (default 1)", false],
  ["--min-p <p>", "minP", "min-p in [0, 1), 0 off (default 0)", false],
  ["--top-nsigma <n>", "topNSigma", "top-nσ: keep logits ≥ max − n·σ, 0 off (default 0)", false],
  ["--repetition-penalty <f>", "repetitionPenalty", "repetition penalty factor, 1 off (default 1)", false],
  [
    "--repetition-penalty-decay <d>",
    "repetitionPenaltyDecay",
    "repetition penalty distance exponent (default 0)",
    false,
  ],
  ["--length-penalty <e>", "lengthPenalty", "AR stop-token length penalty exponent, 0 off (default 0)", false],
  ["--dry-multiplier <m>", "dryMultiplier", "DRY multiplier, 0 off (default 0)", false],
  ["--dry-base <b>", "dryBase", "DRY base > 1 (default 1.75)", false],
  ["--dry-allowed-length <n>", "dryAllowedLength", "DRY allowed repeat length in tokens (default 2)", true],
  ["--mirostat-tau <bits>", "mirostatTau", "Mirostat target surprise in bits (AR), 0 off (default 0)", false],
  ["--mirostat-eta <rate>", "mirostatEta", "Mirostat learning rate (default 0.1)", false],
  ["--beam-width <n>", "beamWidth", "AR beam search width, 0 or 1 off (default 0)", true],
  [
    "--cfg-strength <s>",
    "cfgStrength",
    "CFG strength for AR / NAR, 0 off; NAR-len uses at least 2.5 (default 0)",
    false,
  ],
  ["--cfg-rescale <r>", "cfgRescale", "CFG rescale in [0, 1] (default 0.75)", false],
] as const;

function numberArg(flag: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(
        `Expected ${integer ? "an integer" : "a number"} for ${flag}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

interface GenerateCommandOptions {
  phonemes: string;
  prompt?: string;
  output: string;
  model: string;
  modality: "nar-len" | "ar+nar";
  seed?: number;
  threads?: number;
  maxDuration: number;
  maxSteps?: number;
  maxLevels: number;
  remask?: boolean;
  scoring: "probability" | "entropy";
  rasWindow?: number;
  rasRatio?: number;
  [key: string]: unknown;
}

export function generateCommand(context: CommandContext): Command {
  const command = new Command("generate")
    .description("phonemes + voice prompt codes → response codes (the LM stage: len → NAR-len → NAR, or AR → NAR)")
    .requiredOption("--phonemes <file>", "the phoneme artifact (JSON from `vall-e phonemize --json`)")
    .option("--prompt <codes>", "the voice's codes, 8 codebooks (.npy, .json or .enc from `vall-e encode`)")
    .requiredOption("-o, --output <file>", 'response codes: .npy (with a .json sidecar) or .json ("-": JSON on stdout)')
    .requiredOption("--model <gguf>", "a VALL-E GGUF")
    .addOption(
      new Option("--modality <m>", "NAR-len demasking or AR then NAR")
        .choices(["nar-len", "ar+nar"])
        .default("nar-len"),
    )
    .option("--seed <n>", "random seed, 0 … 4294967295 (default: drawn, and reported)", numberArg("--seed", true))
    .option("-t, --threads <n>", "threads (default: physical cores)", parseThreads)
    .option("--max-duration <seconds>", "longest output in seconds", numberArg("--max-duration", false), 12)
    .option("--max-steps <n>", "NAR-len demasking steps (default 50)", numberArg("--max-steps", true))
    .option("--max-levels <n>", "highest RVQ level generated, 0 … 7", numberArg("--max-levels", true), 7)
    .option("--remask", "NAR-len: also remask 1/(2·steps) of the positions each step")
    .addOption(
      new Option("--scoring <s>", "NAR-len confidence: the argmax probability or 1 − normalised entropy")
        .choices(["probability", "entropy"])
        .default("probability"),
    )
    .option(
      "--ras-window <n>",
      "Repetition Aware Sampling window in tokens (AR; off by default)",
      numberArg("--ras-window", true),
    )
    .option(
      "--ras-ratio <r>",
      "Repetition Aware Sampling ratio in (0, 1] (with --ras-window; default 0.1)",
      numberArg("--ras-ratio", false),
    );
  for (const [flag, , help, integer] of SAMPLER_FLAGS) {
    command.option(flag, help, numberArg(flag.split(" ")[0] as string, integer));
  }
  return command.action(async (options: GenerateCommandOptions) => {
    const [{ LanguageModel, resolveSampling }, { readPhonemeArtifact }, codec] = await Promise.all([
      import("@vall-e/lm"),
      import("@vall-e/phonemizer"),
      import("@vall-e/codec"),
    ]);
    // Sampler settings, checked up front with the flag's name in the message.
    const sampling: Record<string, unknown> = {};
    for (const [flag, key] of SAMPLER_FLAGS) {
      const value = options[key];
      if (value === undefined) continue;
      sampling[key] = value;
      try {
        resolveSampling({ [key]: value });
      } catch (error) {
        throw new InvalidArgumentError(
          (error as Error).message.replace(`sampling.${key}`, flag.split(" ")[0] as string),
        );
      }
    }
    if (options.maxSteps !== undefined) sampling.maxSteps = options.maxSteps;
    if (options.rasWindow !== undefined)
      sampling.repetitionAware = { window: options.rasWindow, ratio: options.rasRatio ?? 0.1 };

    const phonemes = await readPhonemeArtifact(options.phonemes);
    let prompt: number[][] = [];
    if (options.prompt) {
      const artifact = await codec.readCodes(options.prompt);
      prompt = Array.from({ length: artifact.codebooks }, (_, l) =>
        Array.from(artifact.codes.subarray(l * artifact.frames, (l + 1) * artifact.frames)),
      );
      if (artifact.codebooks !== 8) {
        throw new VallEError(
          "ERR_USAGE",
          `${options.prompt}: the prompt has ${artifact.codebooks} codebooks; VALL-E needs 8 (encode at 6 kbps)`,
        );
      }
    }
    await using model = await LanguageModel.load(options.model);
    const progress = await createProgress(context);
    let result: Awaited<ReturnType<typeof model.generate>>;
    try {
      result = await model.generate({
        ...(options.threads ? { threads: options.threads } : {}),
        phonemes: phonemes.tokens,
        lang: phonemes.language,
        prompt,
        modality: options.modality,
        sampling,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        maxDuration: options.maxDuration,
        maxLevels: options.maxLevels,
        remask: options.remask === true,
        scoring: options.scoring,
        signal: context.signal,
        onProgress: progress.update,
      });
    } finally {
      progress.stop();
    }
    const frames = result.codes[0]?.length ?? 0;
    const flat = new Int16Array(result.codes.length * frames);
    result.codes.forEach((level, l) => {
      flat.set(level, l * frames);
    });
    const artifact = codec.createCodesArtifact(flat, result.codes.length, {
      text: phonemes.text,
      phonemes: phonemes.ipa,
      language: phonemes.language,
    });
    if (options.output === "-") context.output.data(codec.serializeCodesJson(artifact));
    else await codec.writeCodes(options.output, artifact);
    context.output.info(
      `${options.output === "-" ? "generated" : `wrote ${options.output}:`} ${artifact.codebooks} × ${frames} codes (${(frames / 75).toFixed(2)} s, ${result.modality}${result.stopped === false ? ", no stop token before --max-duration" : ""}); seed ${result.seed}`,
    );
  });
}

/** A progress bar on stderr when it is a terminal (cli-progress), else nothing; one line per stage change with -v. */
async function createProgress(context: CommandContext) {
  const { output } = context;
  let stage = "";
  if (output.quiet || output.stderr.isTTY !== true) {
    return {
      update: (e: { stage: string; step: number; total: number }) => {
        if (e.stage !== stage) output.debug(`${e.stage}…`);
        stage = e.stage;
      },
      stop: () => {},
    };
  }
  const { SingleBar } = await import("cli-progress");
  const bar = new SingleBar({
    stream: output.stderr as NodeJS.WriteStream,
    format: "{stage} [{bar}] {value}/{total}",
    hideCursor: true,
    clearOnComplete: true,
  });
  return {
    update: (e: { stage: string; step: number; total: number }) => {
      if (e.stage !== stage) {
        if (stage) bar.stop();
        bar.start(e.total, 0, { stage: e.stage.padEnd(7) });
        stage = e.stage;
      }
      bar.update(e.step);
    },
    stop: () => {
      if (stage) bar.stop();
    },
  };
}

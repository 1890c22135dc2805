/**
 * `vall-e generate --phonemes <p.json> [--prompt <codes>] -o <codes.npy | codes.json | -> [--model <gguf|tiny>]
 * [--quant Q] [--task tts|ns|sr] [--modality nar-len|ar+nar] [--seed N] [--threads N] [--max-duration S] [--max-steps N] [sampler flags]`:
 * the LM stage — phonemes (the PhonemeArtifact of `vall-e phonemize`) and a voice prompt (codes from `vall-e encode`)
 * in, the response codes out (8 levels × frames, ready for `vall-e decode`). Also `vall-e lm generate` / `vall-e-lm
 * generate`. A progress bar on stderr (on a terminal); the seed is reported so a run can be repeated.
 */
import { VallEError } from "@vall-e/core";
import { Command } from "commander";
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
import { addModelOptions, explainCachedModelError, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { checkOutputPath } from "../io/options.js";

interface GenerateCommandOptions extends GenerationFlags, ModelFlags {
  phonemes: string;
  prompt?: string;
  output: string;
  json?: boolean;
}

export function generateCommand(context: CommandContext): Command {
  const command = new Command("generate")
    .description("phonemes + voice prompt codes → response codes (the LM stage: len → NAR-len → NAR, or AR → NAR)")
    .optionsGroup(OPTION_GROUPS.input)
    .requiredOption("--phonemes <file>", "the phoneme artifact (JSON from `vall-e phonemize --json`)")
    .optionsGroup(OPTION_GROUPS.voice)
    .option("--prompt <codes>", "the voice's codes, 8 codebooks (.npy, .json or .enc from `vall-e encode`)")
    .optionsGroup(OPTION_GROUPS.output)
    .requiredOption("-o, --output <file>", 'response codes: .npy (with a .json sidecar) or .json ("-": JSON on stdout)')
    .option("--json", "print a summary as JSON on stdout (with -o FILE): the seed, shapes and timings");
  addModelOptions(command, ["lm"]);
  addGenerationOptions(command);
  return command.action(async (options: GenerateCommandOptions) => {
    if (options.json && options.output === "-") {
      throw new VallEError("ERR_USAGE", "--json prints on stdout; write the codes to a file (-o FILE)");
    }
    const started = performance.now();
    const [{ LanguageModel, generate, PositionsError }, { readPhonemeArtifact }, codec] = await Promise.all([
      import("@vall-e/lm"),
      import("@vall-e/phonemizer"),
      import("@vall-e/codec"),
    ]);
    const generation = await generationFrom(options);
    checkOutputPath(options.output);
    await checkGeneration(generation);
    const phonemes = await readPhonemeArtifact(options.phonemes);
    let prompt: number[][] = [];
    if (options.prompt) {
      const artifact = await codec.readCodes(options.prompt);
      prompt = codec.codesToLevels(artifact);
      if (artifact.codebooks !== 8) {
        throw new VallEError(
          "ERR_USAGE",
          `${options.prompt}: the prompt has ${artifact.codebooks} codebooks; VALL-E needs 8 (encode at 6 kbps)`,
        );
      }
    }
    const resolved = await resolveModelFiles(context, options, ["lm"]);
    const loading = performance.now();
    await using model = await LanguageModel.load(resolved.files.lm, deviceLoadOption(options.device)).catch(
      (error: unknown) => {
        throw explainCachedModelError(error, resolved);
      },
    );
    const loaded = performance.now();
    const progress = await createProgress(context, { label: "generate" });
    let result: Awaited<ReturnType<typeof generate>>;
    try {
      result = await generate(model, {
        ...generation,
        phonemes: phonemes.tokens,
        lang: phonemes.language,
        prompt,
        signal: context.signal,
        onProgress: progress.update,
      });
    } catch (error) {
      // An input past the model's positions: the phoneme file (or prompt) is what to shorten.
      if (error instanceof PositionsError) {
        throw new PositionsError(`${options.phonemes}: ${error.message}`, { cause: error });
      }
      throw error;
    } finally {
      progress.stop();
    }
    const generated = performance.now();
    progress.finish((result.codes[0]?.length ?? 0) / 75);
    const artifact = codec.codesFromLevels(result.codes, {
      text: phonemes.text,
      phonemes: phonemes.ipa,
      language: phonemes.language,
    });
    if (options.output === "-") context.output.data(codec.serializeCodesJson(artifact));
    else await codec.writeCodes(options.output, artifact);
    if (options.json) {
      const summary = {
        output: options.output,
        seed: result.seed,
        modality: result.modality,
        ...(result.stopped === undefined ? {} : { stopped: result.stopped }),
        ...(result.predictedFrames === undefined ? {} : { predictedFrames: result.predictedFrames }),
        codebooks: artifact.codebooks,
        frames: artifact.frames,
        seconds: artifact.frames / 75,
        phonemes: { tokens: phonemes.tokens.length, language: phonemes.language },
        prompt: { codebooks: prompt.length, frames: prompt[0]?.length ?? 0 },
        model: resolved.files.lm,
        timings: {
          load: (loaded - loading) / 1e3,
          generate: (generated - loaded) / 1e3,
          total: (performance.now() - started) / 1e3,
        },
      };
      context.output.data(`${JSON.stringify(summary, null, 2)}\n`);
    }
    context.output.info(
      `${options.output === "-" ? "generated" : `wrote ${options.output}:`} ${artifact.codebooks} × ${artifact.frames} codes (${(artifact.frames / 75).toFixed(2)} s, ${result.modality}${result.stopped === false ? ", no stop token before --max-duration" : ""}); seed ${result.seed}`,
    );
  });
}

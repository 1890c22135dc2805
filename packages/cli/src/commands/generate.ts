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
import {
  addGenerationOptions,
  checkGeneration,
  createProgress,
  type GenerationFlags,
  generationFrom,
} from "../io/generation-options.js";
import { addModelOptions, explainCachedModelError, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { checkOutputPath } from "../io/options.js";

interface GenerateCommandOptions extends GenerationFlags, ModelFlags {
  phonemes: string;
  prompt?: string;
  output: string;
}

export function generateCommand(context: CommandContext): Command {
  const command = new Command("generate")
    .description("phonemes + voice prompt codes → response codes (the LM stage: len → NAR-len → NAR, or AR → NAR)")
    .requiredOption("--phonemes <file>", "the phoneme artifact (JSON from `vall-e phonemize --json`)")
    .option("--prompt <codes>", "the voice's codes, 8 codebooks (.npy, .json or .enc from `vall-e encode`)")
    .requiredOption(
      "-o, --output <file>",
      'response codes: .npy (with a .json sidecar) or .json ("-": JSON on stdout)',
    );
  addModelOptions(command, ["lm"]);
  addGenerationOptions(command);
  return command.action(async (options: GenerateCommandOptions) => {
    const [{ LanguageModel, generate }, { readPhonemeArtifact }, codec] = await Promise.all([
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
    await using model = await LanguageModel.load(resolved.files.lm).catch((error: unknown) => {
      throw explainCachedModelError(error, resolved);
    });
    const progress = await createProgress(context);
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
    } finally {
      progress.stop();
    }
    const artifact = codec.codesFromLevels(result.codes, {
      text: phonemes.text,
      phonemes: phonemes.ipa,
      language: phonemes.language,
    });
    if (options.output === "-") context.output.data(codec.serializeCodesJson(artifact));
    else await codec.writeCodes(options.output, artifact);
    context.output.info(
      `${options.output === "-" ? "generated" : `wrote ${options.output}:`} ${artifact.codebooks} × ${artifact.frames} codes (${(artifact.frames / 75).toFixed(2)} s, ${result.modality}${result.stopped === false ? ", no stop token before --max-duration" : ""}); seed ${result.seed}`,
    );
  });
}

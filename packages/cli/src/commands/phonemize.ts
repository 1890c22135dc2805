/**
 * `vall-e phonemize <text | -> [--lang auto|en|…] [--voice V] [--tokenizer tokenizer.json|model.gguf] [--json] [-o FILE]`
 * Text → IPA → token ids: the first stage's artifact. Default output: the IPA, then the ids; --json prints the
 * PhonemeArtifact; -o writes it to a file (atomically).
 */
import { Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { addModelOptions, resolveModelFile } from "../io/model-files.js";
import { readTextArgument } from "../io/read-input.js";

interface PhonemizeCommandOptions {
  lang: string;
  voice?: string;
  tokenizer?: string;
  json?: boolean;
  output?: string;
}

export function phonemizeCommand(context: CommandContext): Command {
  return addModelOptions(
    new Command("phonemize")
      .description("text → espeak-ng phonemes → token ids (the PhonemeArtifact)")
      .argument("<text>", 'the text, or "-" to read it from stdin')
      .addOption(
        new Option("-l, --lang <language>", "the model language, or auto to detect it")
          .choices(["auto", "en", "ja", "de", "fr", "zh", "ko"])
          .default("auto"),
      )
      .option("--voice <espeak-language>", "phonemise with this espeak-ng language instead (e.g. en-gb-x-rp, es)")
      .option("--json", "print the PhonemeArtifact as JSON on stdout")
      .option("-o, --output <file>", 'write the PhonemeArtifact (.phonemes.json) to this file ("-": stdout)'),
    ["tokenizer"],
  ).action(async (textArgument: string, options: PhonemizeCommandOptions) => {
    const { output, signal } = context;
    const { loadTokenizer, phonemize, writePhonemeArtifact, serializePhonemeArtifact } = await import(
      "@vall-e/phonemizer"
    );
    const text = await readTextArgument(textArgument);
    const tokenizer = await loadTokenizer(await resolveModelFile(context, "tokenizer", options));
    for (const warning of tokenizer.warnings) output.info(`warning: ${warning}`);
    const artifact = await phonemize(text, {
      language: options.lang as "auto",
      tokenizer,
      signal,
      ...(options.voice ? { voice: options.voice } : {}),
    });
    output.debug(`language ${artifact.language}, espeak-ng voice ${artifact.voice}, tokenizer ${artifact.tokenizer}`);
    if (options.output && options.output !== "-") {
      await writePhonemeArtifact(options.output, artifact);
      output.info(`wrote ${options.output} (${artifact.tokens.length} tokens)`);
    }
    if (options.json || options.output === "-") output.data(serializePhonemeArtifact(artifact));
    else if (!options.output) output.data(`${artifact.ipa}\n${artifact.tokens.join(" ")}\n`);
  });
}

/**
 * `vall-e eval [TEXT…] [--texts FILE] [--prompt VOICE…] [--report DIR] [--json] [generation flags]`: intelligibility
 * by round trip — each text is spoken in the voice, the model transcribes its own speech (stt), and the phonemes are
 * compared with the text's: the phoneme error rate, with the duration, real-time factor and seconds per stage. A table
 * on stderr, `--json` on stdout, `--report DIR` an HTML page with each utterance's player, spectrogram and code map.
 * Word error rate and speaker similarity are not measured (they need models this project does not ship).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileReadError, VallEError } from "@vall-e/core";
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption } from "../io/device-option.js";
import {
  addGenerationOptions,
  checkGeneration,
  type GenerationFlags,
  generationFrom,
} from "../io/generation-options.js";
import { OPTION_GROUPS } from "../io/help.js";
import { addModelOptions, engineRoles, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { codeMapPng, type ReportItem, spectrogramPng, writeReportPage } from "../io/report.js";

interface EvalFlags extends GenerationFlags, ModelFlags {
  texts?: string;
  prompt?: string[];
  lang: string;
  report?: string;
  json?: boolean;
}

export function evalCommand(context: CommandContext): Command {
  const command = new Command("eval")
    .description("round-trip intelligibility: speak each text, transcribe it with the model, phoneme error rate")
    .argument("[texts...]", "texts to speak (or --texts FILE, one per line)")
    .optionsGroup(OPTION_GROUPS.input)
    .option("--texts <file>", "a file of texts, one per line (blank lines skipped)")
    .option("--lang <language>", "the texts' language", "en")
    .optionsGroup(OPTION_GROUPS.voice)
    .option("--prompt <voice...>", "voice references (audio or codes files); none: no prompt")
    .optionsGroup(OPTION_GROUPS.output)
    .option("--report <dir>", "write an HTML report here: players, spectrograms, code maps, figures")
    .option("--json", "print the results as JSON on stdout");
  addModelOptions(command, ["lm", "codec", "tokenizer", "vocos"]);
  addGenerationOptions(command);
  return command.action(async (args: string[], flags: EvalFlags) => {
    let texts = args;
    if (flags.texts !== undefined) {
      let content: string;
      try {
        content = await readFile(flags.texts, "utf8");
      } catch (error) {
        throw fileReadError("Texts file", flags.texts, error);
      }
      texts = [
        ...texts,
        ...content
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter(Boolean),
      ];
    }
    if (texts.length === 0) throw new VallEError("ERR_USAGE", "Give the texts as arguments or with --texts FILE");
    const generation = await generationFrom(flags);
    await checkGeneration({ ...generation, language: flags.lang });
    const { Engine, evaluate } = await import("@vall-e/pipeline");
    const resolved = await resolveModelFiles(context, flags, engineRoles(flags));
    await using engine = await Engine.load({
      models: resolved.files,
      decoder: flags.vocoder ?? "vocos",
      ...(flags.threads ? { threads: flags.threads } : {}),
      ...deviceLoadOption(flags.device),
    });
    const report = flags.report;
    if (report !== undefined) await (await import("@vall-e/pipeline")).makeDirectory(report);
    const { task: _task, threads: _threads, ...settings } = generation;
    const reportItems: ReportItem[] = [];
    const { items, summary } = await evaluate(engine, {
      ...settings,
      language: flags.lang as "en",
      texts,
      ...(flags.prompt ? { reference: flags.prompt } : {}),
      signal: context.signal,
      onItem: (item) =>
        context.output.info(
          `${String(item.index + 1).padStart(3)}  PER ${item.phonemeErrorRate.toFixed(3)}  ${item.seconds.toFixed(2)} s  RTF ${item.realTimeFactor.toFixed(2)}  ${item.text.slice(0, 60)}`,
        ),
    });
    if (report !== undefined) {
      const { encodeWav } = await import("@vall-e/pipeline");
      const { writeFile } = await import("node:fs/promises");
      for (const item of items) {
        const name = String(item.index + 1).padStart(3, "0");
        await writeFile(join(report, `${name}.wav`), encodeWav(item.audio, item.sampleRate));
        await writeFile(join(report, `${name}.spectrogram.png`), spectrogramPng(item.audio));
        // The code map of what was spoken: the output encoded again (the codes the decoder's audio carries).
        const heard = await engine.prepareVoice({ samples: item.audio, sampleRate: item.sampleRate });
        const levels = heard.references[0] ?? [];
        await writeFile(join(report, `${name}.codes.png`), codeMapPng(Int16Array.from(levels.flat()), levels.length));
        reportItems.push({
          index: item.index,
          text: item.text,
          reference: item.reference.ipa,
          transcript: item.transcript.ipa,
          phonemeErrorRate: item.phonemeErrorRate,
          seconds: item.seconds,
          realTimeFactor: item.realTimeFactor,
          timings: item.timings,
          wav: `${name}.wav`,
          spectrogram: `${name}.spectrogram.png`,
          codeMap: `${name}.codes.png`,
        });
      }
      const page = await writeReportPage(report, reportItems, summary);
      context.output.info(`report: ${page}`);
    }
    if (flags.json) {
      const json = items.map(({ audio: _audio, sampleRate: _rate, ...rest }) => rest);
      context.output.data(`${JSON.stringify({ summary, items: json }, null, 2)}\n`);
    }
    context.output.info(
      `mean phoneme error rate ${summary.meanPhonemeErrorRate.toFixed(3)} over ${summary.items} utterance(s), ${summary.totalSeconds.toFixed(2)} s of audio, mean RTF ${summary.meanRealTimeFactor.toFixed(2)}`,
    );
  });
}

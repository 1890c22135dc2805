/**
 * `vall-e lm forward --model <gguf> --input <case.json> -o <logits.npy | -> [--activation] [--positions]
 * [--nar-attention] [--head-biases] [--threads] [--dump-hidden DIR]`: one forward pass of the decoder for debugging, in the input
 * format of the LM fixtures ({mode, phonemes, lang, rvqLevel, prompt, response, len}); writes float32
 * [outputRows, headSize] logits. --dump-hidden also writes every named intermediate as DIR/<name>.npy
 * (float32 [rows, columns]) with DIR/index.json listing them in graph order, to find the first diverging layer.
 */
import { join } from "node:path";
import {
  fileWriteError,
  InvalidArgumentError,
  jsonErrorPosition,
  readRegularFile,
  VallEError,
  writeOutputFile,
} from "@vall-e/core";
import { Command, Option } from "commander";
import writeFileAtomic from "write-file-atomic";
import type { CommandContext } from "../context.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { resolveModelFile } from "../io/model-files.js";
import { parseThreads } from "../io/options.js";
import { generateCommand } from "./generate.js";

/** The largest LM case file read (a case of a few thousand tokens is well under 1 MB). */
const MAX_CASE_BYTES = 64 * 2 ** 20;

interface ForwardOptions {
  device?: string;
  model: string;
  input: string;
  output: string;
  activation?: "gelu" | "silu";
  positions?: "per-segment" | "unified";
  narAttention?: "non-causal" | "causal";
  headBiases?: "apply" | "ignore";
  threads?: number;
  dumpHidden?: string;
}

export function lmCommand(context: CommandContext): Command {
  const forward = new Command("forward")
    .description("one forward pass: logits of the case's output rows over its head, as float32 .npy")
    .requiredOption("--model <gguf|tiny>", 'a VALL-E GGUF ("tiny": the offline random-weight model)')
    .requiredOption("--input <case.json>", "{mode, phonemes, lang, rvqLevel, prompt, response, len}")
    .requiredOption("-o, --output <file>", 'logits .npy ("-": stdout)')
    .addOption(
      new Option("--activation <act>", "FFN activation (default: the file's profile, else gelu)").choices([
        "gelu",
        "silu",
      ]),
    )
    .addOption(
      new Option("--positions <policy>", "position ids (default: per-segment)").choices(["per-segment", "unified"]),
    )
    .addOption(
      new Option("--nar-attention <mask>", "NAR / NAR-len attention (default: non-causal)").choices([
        "non-causal",
        "causal",
      ]),
    )
    .addOption(
      new Option("--head-biases <use>", "per-head output biases the file holds (default: apply)").choices([
        "apply",
        "ignore",
      ]),
    )
    .option("-t, --threads <n>", "threads (default: the physical cores)", parseThreads)
    .addOption(deviceOption())
    .option("--dump-hidden <dir>", "also write each layer's intermediates as <dir>/<name>.npy, listed in index.json")
    .action(async (options: ForwardOptions) => {
      const { LanguageModel } = await import("@vall-e/lm");
      const { encodeNpy } = await import("@vall-e/codec");
      // A regular file of bounded size (a case is a few kB), parsed without echoing its bytes.
      const text = (await readRegularFile(options.input, "Input file", MAX_CASE_BYTES)).toString("utf8");
      let spec: unknown;
      try {
        spec = JSON.parse(text);
      } catch (error) {
        throw new VallEError("ERR_USAGE", `${options.input}: not JSON${jsonErrorPosition(error)}`, { cause: error });
      }
      // The case's own mistakes ("Expected … for phonemes[1]", "… for sequences[0].rowIds[1]") name the file too.
      const inFile = (error: unknown): unknown =>
        error instanceof InvalidArgumentError
          ? new InvalidArgumentError(`${options.input}: ${error.message}`, { cause: error })
          : error;
      const profile = {
        ...(options.activation ? { activation: options.activation } : {}),
        ...(options.positions ? { positions: options.positions } : {}),
        ...(options.narAttention ? { narAttention: options.narAttention } : {}),
        ...(options.headBiases ? { headBiases: options.headBiases } : {}),
      };
      const path = await resolveModelFile(context, "lm", { model: options.model });
      await using model = await LanguageModel.load(path, { profile, ...deviceLoadOption(options.device) });
      let input: ReturnType<typeof model.assemble>;
      try {
        input = model.assemble(spec as Parameters<typeof model.assemble>[0]);
      } catch (error) {
        throw inFile(error);
      }
      await using lm = await model.createContext({
        contextSize: Math.max(64, input.rows.length),
        ...(options.threads ? { threads: options.threads } : {}),
      });
      if (options.dumpHidden) await lm.setDebugDump(true);
      const logits = await lm.forward([input], { signal: context.signal }).catch((error: unknown) => {
        throw inFile(error);
      });
      if (options.dumpHidden) {
        const dir = options.dumpHidden;
        const tensors = await lm.dumped();
        const index = tensors.map((t) => ({ name: t.name, file: `${t.name}.npy`, shape: [t.rows, t.columns] }));
        try {
          await (await import("@vall-e/pipeline")).makeDirectory(dir);
          for (const t of tensors) {
            await writeFileAtomic(join(dir, `${t.name}.npy`), Buffer.from(encodeNpy(t.data, [t.rows, t.columns])));
          }
          const { head, positions, causal, rows } = input;
          const meta = { mode: (spec as { mode?: unknown }).mode, head, causal, positions, rows, tensors: index };
          await writeFileAtomic(join(dir, "index.json"), `${JSON.stringify(meta, null, 2)}\n`);
        } catch (error) {
          throw fileWriteError(dir, error);
        }
        context.output.info(`wrote ${tensors.length} intermediates to ${dir} (index.json lists them)`);
      }
      const bytes = encodeNpy(logits, [input.outputs, input.head.end - input.head.start]);
      if (options.output === "-") context.output.data(bytes);
      else {
        await writeOutputFile(options.output, bytes);
        context.output.info(
          `wrote ${options.output}: ${input.outputs} × ${input.head.end - input.head.start} logits (head ${input.head.name}, ${input.rows.length} tokens)`,
        );
      }
    });
  return new Command("lm")
    .description("the language model: generate (as `vall-e generate`) and debug commands")
    .addCommand(generateCommand(context))
    .addCommand(forward);
}

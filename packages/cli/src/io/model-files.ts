/**
 * Model files for the commands: explicit paths, then VALL_E_MODEL_DIR, then the cache, then a download from the hub
 * (the pipeline's resolveModels), with the download's progress on stderr and a warning when `tiny` is in use.
 */

import { VallEError } from "@vall-e/core";
import type { ModelRole, ResolvedModels } from "@vall-e/pipeline";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { OPTION_GROUPS } from "./help.js";
import { formatDuration, progressBar } from "./progress.js";

export interface ModelFlags {
  model?: string;
  codec?: string;
  tokenizer?: string;
  vocos?: string;
  /** Which decoder turns codes into audio: vocos (default) or encodec. */
  vocoder?: "vocos" | "encodec";
  quant?: string;
}

export const MODEL_HELP = {
  model:
    'a VALL-E GGUF, or "tiny": offline random weights (default: vall_e-<quant>.gguf from VALL_E_MODEL_DIR, the cache, or the hub)',
  codec: 'EnCodec weights, or "tiny" (default: encodec.bin from VALL_E_MODEL_DIR, the cache, or the hub)',
  tokenizer:
    'tokenizer.json, a VALL-E GGUF, or "tiny" (default: tokenizer.json from VALL_E_MODEL_DIR, the cache, or the hub)',
  quant: "which published LM to use: Q8_0, F16, BF16, Q4_K, Q3_K, Q2_K, in any letter case",
  vocos:
    'Vocos weights: pytorch_model.bin or .safetensors, or "tiny" (default: vocos-encodec-24khz/pytorch_model.bin from VALL_E_MODEL_DIR, the cache, or the hub)',
  vocoder: "codes to audio with vocos (as the reference: better audio) or encodec (EnCodec's own decoder)",
} as const;

/** What an Engine serving requests loads: the LM, the codec (voices), the tokenizer and the decoder's weights. */
export function engineRoles(flags: Pick<ModelFlags, "vocoder">): ModelRole[] {
  return flags.vocoder === "encodec" ? ["lm", "codec", "tokenizer"] : ["lm", "codec", "tokenizer", "vocos"];
}

/** The model role of the decoder the flags choose: Vocos' weights, or the codec for EnCodec's decoder. */
export function decoderRole(flags: Pick<ModelFlags, "vocoder">): "vocos" | "codec" {
  return flags.vocoder === "encodec" ? "codec" : "vocos";
}

export async function resolveModelFiles(
  context: CommandContext,
  flags: ModelFlags,
  need: readonly ModelRole[],
): Promise<ResolvedModels> {
  const { resolveModels } = await import("@vall-e/pipeline");
  // --vocos names Vocos' weights; with --vocoder encodec they are not used, so a --vocos there is a mistake.
  if (flags.vocoder === "encodec" && flags.vocos !== undefined) {
    throw new VallEError("ERR_USAGE", "--vocos names Vocos' weights; with --vocoder encodec, give --codec instead");
  }
  const bar = await downloadBar(context);
  try {
    const { vocoder: _vocoder, ...paths } = flags;
    const resolved = await resolveModels({
      ...paths,
      need,
      signal: context.signal,
      onProgress: bar.update,
      onWait: (file) => context.output.info(`waiting for another process downloading ${file}…`),
    });
    bar.stop();
    for (const role of need) {
      if (resolved.sources[role] === "downloaded") context.output.info(`downloaded ${resolved.files[role]}`);
      else context.output.debug(`${role}: ${resolved.files[role]} (${resolved.sources[role]})`);
    }
    if (resolved.tiny) {
      context.output.info(
        "warning: using the tiny bundle — random weights for offline runs and tests: the audio is noise",
      );
    }
    return resolved;
  } finally {
    bar.stop();
  }
}

/** Download progress: a byte bar per file with its ETA on a terminal's stderr; one line per file otherwise. */
export function downloadBar(context: CommandContext) {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  // The file being downloaded: when its first bytes came, and how many it had then (a resumed download).
  let current = { file: "", started: 0, from: 0 };
  return progressBar<{ file: string; received: number; total: number }>(context, {
    format: "{file} [{bar}] {percentage}% {mb}/{totalMb} MB | ETA {etaText}",
    key: (e) => e.file,
    total: (e) => e.total,
    value: (e) => e.received,
    payload: (e) => {
      if (e.file !== current.file) current = { file: e.file, started: performance.now(), from: e.received };
      const seconds = (performance.now() - current.started) / 1e3;
      const rate = (e.received - current.from) / seconds;
      const eta = rate > 0 ? (e.total - e.received) / rate : undefined;
      return { file: e.file, mb: mb(e.received), totalMb: mb(e.total), etaText: formatDuration(eta) };
    },
    line: (e) => context.output.info(`downloading ${e.file} (${mb(e.total)} MB)…`),
  });
}

/** One file of the bundle (the per-stage commands need only one). */
export async function resolveModelFile(context: CommandContext, role: ModelRole, flags: ModelFlags): Promise<string> {
  return (await resolveModelFiles(context, flags, [role])).files[role];
}

/**
 * --model/--codec/--tokenizer/--quant (and --vocoder/--vocos) for a command that needs the given files, under the
 * "Model Options:" heading of its help.
 */
export function addModelOptions(command: Command, roles: readonly ModelRole[]): Command {
  const add = (option: Option) => command.addOption(option.helpGroup(OPTION_GROUPS.model));
  if (roles.includes("lm")) add(new Option("--model <gguf|tiny>", MODEL_HELP.model));
  if (roles.includes("codec")) add(new Option("--codec <path>", MODEL_HELP.codec));
  if (roles.includes("tokenizer")) add(new Option("--tokenizer <path>", MODEL_HELP.tokenizer));
  if (roles.includes("vocos")) {
    add(new Option("--vocoder <name>", MODEL_HELP.vocoder).choices(["vocos", "encodec"]).default("vocos"));
    add(new Option("--vocos <path|tiny>", MODEL_HELP.vocos));
  }
  // No commander default: without --quant an explicit --model needs none.
  if (roles.includes("lm")) add(new Option("--quant <quant>", `${MODEL_HELP.quant} (default: Q8_0)`));
  return command;
}

/**
 * A model file from the cache that fails to load is most likely damaged: say so, and how to repair it (a pull checks
 * every cached file against the hub's checksum and downloads a bad one again).
 */
export function explainCachedModelError(error: unknown, resolved: Pick<ResolvedModels, "files" | "sources">): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: string }).code ?? "";
  if (!/FORMAT|WEIGHTS|GGUF/.test(code)) return error;
  for (const [role, path] of Object.entries(resolved.files) as [ModelRole, string][]) {
    const cached = resolved.sources[role] === "cache" || resolved.sources[role] === "downloaded";
    if (cached && error.message.includes(path)) {
      error.message += ` — this file is in the model cache and looks damaged: \`vall-e models pull\` checks it against the hub and downloads it again`;
      break;
    }
  }
  return error;
}

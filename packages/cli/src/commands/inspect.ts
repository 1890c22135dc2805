/**
 * `vall-e inspect <file> [--json]`: what a file is and what it holds — WAV audio (rate, channels, duration, levels),
 * codes (.npy/.json/.enc: shape, duration, per-codebook code statistics), a phoneme artifact, a run.json, a VALL-E GGUF
 * (loaded and validated), or EnCodec / Vocos weights. An invalid file is an error (exit 1 or 2), never described.
 */
import { open, readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileReadError, VallEError } from "@vall-e/core";
import { Command } from "commander";
import type { CommandContext } from "../context.js";

interface CodebookSummary {
  codebook: number;
  distinct: number;
  mostFrequent: { code: number; share: number };
  entropyBits: number;
}

export function summarizeCodebooks(codes: Int16Array, codebooks: number): CodebookSummary[] {
  const frames = codes.length / codebooks;
  return Array.from({ length: codebooks }, (_, q) => {
    const counts = new Map<number, number>();
    for (let t = 0; t < frames; t++) {
      const code = codes[q * frames + t] as number;
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    let best = 0;
    let bestCount = -1;
    let entropy = 0;
    for (const [code, count] of counts) {
      if (count > bestCount || (count === bestCount && code < best)) {
        best = code;
        bestCount = count;
      }
      const p = count / frames;
      entropy -= p * Math.log2(p);
    }
    return {
      codebook: q,
      distinct: counts.size,
      mostFrequent: { code: best, share: bestCount / frames },
      entropyBits: entropy,
    };
  });
}

async function sniff(path: string): Promise<Buffer> {
  try {
    const file = await open(path, "r");
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await file.read(head, 0, 8, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    throw fileReadError("File", path, error);
  }
}

export async function inspectFile(path: string): Promise<Record<string, unknown>> {
  const head = await sniff(path);
  const magic = head.subarray(0, 4).toString("latin1");
  const extension = extname(path).toLowerCase();
  if (magic === "RIFF") {
    const { readWav } = await import("@vall-e/codec");
    const audio = await readWav(path);
    const samples = audio.channels[0]?.length ?? 0;
    return {
      kind: "audio",
      format: "wav",
      encoding: audio.encoding,
      sampleRate: audio.sampleRate,
      channels: audio.channels.length,
      samples,
      durationSeconds: samples / audio.sampleRate,
      levels: audio.channels.map((channel) => {
        let peak = 0;
        let energy = 0;
        for (const value of channel) {
          peak = Math.max(peak, Math.abs(value));
          energy += value * value;
        }
        return { peak, rms: Math.sqrt(energy / Math.max(1, channel.length)) };
      }),
    };
  }
  if (head.subarray(0, 4).toString("latin1") === "GGUF") {
    // Loaded for real (every tensor validated natively): an invalid model is an error here, not a description.
    const { LanguageModel } = await import("@vall-e/lm");
    const { GGML_TYPES } = await import("@vall-e/native");
    await using model = await LanguageModel.load(path);
    const info = model.info;
    const type = Object.entries(GGML_TYPES).find(([, id]) => id === info.weightType)?.[0] ?? String(info.weightType);
    return {
      kind: "gguf",
      format: "VALL-E GGUF (llama architecture)",
      layers: info.nLayer,
      width: info.nEmbd,
      heads: info.nHead,
      kvHeads: info.nHeadKv,
      feedForward: info.nFf,
      vocabulary: info.nVocab,
      contextTrained: info.nCtxTrain,
      weightType: type,
      outputBiases: info.hasOutputBias,
      fileBytes: info.fileBytes,
      weightBytes: info.weightBytes,
    };
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) || extension === ".safetensors") {
    // A PyTorch zip or safetensors: Vocos' state dict (the only such checkpoint vall-e reads), checked completely.
    const { readVocosWeights } = await import("@vall-e/codec");
    const weights = await readVocosWeights(path);
    return {
      kind: "vocos-weights",
      format: extension === ".safetensors" ? "safetensors" : "PyTorch state dict (zip)",
      config: weights.config,
      tensors: weights.tensors.length,
      parameters: weights.tensors.reduce((sum, tensor) => sum + tensor.data.length, 0),
    };
  }
  if (extension === ".json" && path.endsWith("run.json")) {
    const { readRunManifest } = await import("@vall-e/pipeline");
    const run = await readRunManifest(path);
    return { kind: "run", ...run };
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0x67676d6c) {
    const { parseEncodecBin } = await import("@vall-e/codec");
    const bin = parseEncodecBin(await readFile(path), path);
    const tensors = [...bin.tensors.values()];
    return {
      kind: "encodec-weights",
      format: "encodec.cpp ggml",
      header: bin.header,
      tensors: tensors.length,
      halfTensors: tensors.filter((tensor) => tensor.ftype === 1).length,
      parameters: tensors.reduce((sum, tensor) => sum + tensor.data.length, 0),
    };
  }
  if (extension === ".npy" || extension === ".enc" || (extension === ".json" && !path.endsWith(".phonemes.json"))) {
    let isPhonemes = false;
    if (extension === ".json") {
      const text = await readFile(path, "utf8");
      isPhonemes = /"format"\s*:\s*"vall-e\.phonemes\//.test(text.slice(0, 200));
    }
    if (!isPhonemes) {
      const { readCodes } = await import("@vall-e/codec");
      const codes = await readCodes(path);
      const { codes: data, ...meta } = codes;
      return {
        kind: "codes",
        ...meta,
        durationSeconds: codes.frames / codes.frameRate,
        codebookStats: summarizeCodebooks(data, codes.codebooks),
      };
    }
  }
  if (extension === ".json") {
    const { readPhonemeArtifact } = await import("@vall-e/phonemizer");
    const artifact = await readPhonemeArtifact(path);
    return { kind: "phonemes", ...artifact, tokenCount: artifact.tokens.length };
  }
  throw new VallEError(
    "ERR_USAGE",
    `${path}: not a file vall-e inspects (WAV audio, .npy/.json/.enc codes, .phonemes.json, run.json, a VALL-E GGUF, EnCodec or Vocos weights)`,
  );
}

function formatInspection(report: Record<string, unknown>): string {
  const lines: string[] = [];
  if (report.kind === "codes") {
    lines.push(
      `codes: ${report.codebooks} codebooks × ${report.frames} frames (${(report.durationSeconds as number).toFixed(2)} s at ${report.frameRate} Hz)`,
    );
    if (report.source) lines.push(`source: ${JSON.stringify(report.source)}`);
    for (const key of ["text", "phonemes", "language"]) if (report[key]) lines.push(`${key}: ${report[key]}`);
    lines.push("codebook  distinct  most frequent (share)  entropy (bits)");
    for (const stats of report.codebookStats as CodebookSummary[]) {
      lines.push(
        `${String(stats.codebook).padStart(8)}  ${String(stats.distinct).padStart(8)}  ${String(stats.mostFrequent.code).padStart(13)} (${(stats.mostFrequent.share * 100).toFixed(1)}%)  ${stats.entropyBits.toFixed(2).padStart(14)}`,
      );
    }
  } else if (report.kind === "audio") {
    lines.push(
      `audio: WAV ${report.encoding}-bit, ${report.sampleRate} Hz, ${report.channels} channel(s), ${report.samples} samples (${(report.durationSeconds as number).toFixed(3)} s)`,
    );
    for (const [i, level] of (report.levels as { peak: number; rms: number }[]).entries()) {
      lines.push(`channel ${i}: peak ${level.peak.toFixed(4)}, rms ${level.rms.toFixed(4)}`);
    }
  } else if (report.kind === "gguf") {
    lines.push(
      `${report.format}: ${report.layers} layers, width ${report.width}, ${report.heads} heads (${report.kvHeads} KV), feed-forward ${report.feedForward}`,
      `vocabulary ${report.vocabulary}, trained context ${report.contextTrained}, weights ${report.weightType}${report.outputBiases ? ", per-head output biases" : ""}`,
      `${((report.fileBytes as number) / 1e6).toFixed(1)} MB on disk, ${((report.weightBytes as number) / 1e6).toFixed(1)} MB read per forward`,
    );
  } else if (report.kind === "vocos-weights") {
    const config = report.config as Record<string, number>;
    lines.push(
      `Vocos weights (${report.format}): ${report.tensors} tensors, ${report.parameters} values`,
      `backbone: ${config.layers} ConvNeXt blocks, width ${config.dim} (intermediate ${config.intermediateDim}), ${config.adanormEmbeddings} bandwidths; head: n_fft ${config.nFft}, hop ${config.hopLength}; ${config.codebooks} codebooks`,
    );
  } else if (report.kind === "run") {
    const models = report.models as Record<string, { path: string; sha256: string }>;
    const options = report.options as Record<string, unknown>;
    const sentences = report.sentences as { text: string; seed?: number; frames: number }[];
    lines.push(
      `run manifest: ${sentences.length} sentence(s), task ${options.task}, decoder ${options.decoder ?? "encodec"}, seed ${options.seed ?? "drawn"}`,
    );
    for (const [role, entry] of Object.entries(models))
      lines.push(`${role}: ${entry.path} (sha256 ${entry.sha256.slice(0, 12)}…)`);
    for (const [i, sentence] of sentences.entries()) {
      lines.push(
        `${i + 1}: ${sentence.frames} frames${sentence.seed === undefined ? "" : `, seed ${sentence.seed}`}: ${sentence.text}`,
      );
    }
  } else if (report.kind === "phonemes") {
    lines.push(
      `phonemes: ${report.language} (espeak-ng ${report.voice}), ${report.tokenCount} tokens, tokenizer ${report.tokenizer}`,
      `text: ${report.text}`,
      `ipa: ${report.ipa}`,
    );
  } else {
    const header = report.header as Record<string, number>;
    lines.push(
      `EnCodec weights (encodec.cpp format): ${report.tensors} tensors (${report.halfTensors} f16), ${report.parameters} parameters`,
      `header: ${JSON.stringify(header)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function inspectCommand(context: CommandContext): Command {
  return new Command("inspect")
    .description(
      "describe a WAV, codes (.npy/.json/.enc), phoneme artifact, run.json, VALL-E GGUF, or EnCodec / Vocos weights",
    )
    .argument("<file>")
    .option("--json", "print the description as one JSON document")
    .action(async (path: string, options: { json?: boolean }) => {
      const report = await inspectFile(path);
      context.output.data(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspection(report));
    });
}

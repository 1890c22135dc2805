/**
 * Voices: the prompt codes of one or several references, encoded once and reused by any number of requests
 * (vall_e/inference.py TTS.encode_audio for each reference; the per-request prompt — concatenated, then looped or cut
 * to the request's promptSeconds — is made from these codes by preparePrompt). References come as files (WAV, or
 * codes .npy / .json / .enc), `espeak:<voice>` (a demo voice espeak-ng makes on the fly), samples in memory, codes
 * artifacts, or other Voices.
 */
import { type Codec, type CodesArtifact, codesToLevels, parseWav, readCodes } from "@vall-e/codec";
import { invalid } from "@vall-e/core";
import { ESPEAK_REFERENCE_PREFIX, espeakSpeech, isEspeakReference } from "@vall-e/phonemizer";
import type { RawAudio, ReferenceInput } from "./request.js";

/** The codes of each reference (levels × frames), ready to be made into a prompt. */
export class Voice {
  /** Per reference, its codes (levels × frames). */
  readonly references: readonly (readonly (readonly number[])[])[];
  /** The files among the references (for run.json), in order. */
  readonly files: readonly string[];
  /** Whether every reference was a file (so run.json can name them all). */
  readonly fromFiles: boolean;

  constructor(references: readonly (readonly (readonly number[])[])[], files: readonly string[], fromFiles: boolean) {
    this.references = references;
    this.files = files;
    this.fromFiles = fromFiles;
  }

  /** Frames of all references together. */
  get frames(): number {
    return this.references.reduce((n, r) => n + (r[0]?.length ?? 0), 0);
  }
}

function isRawAudio(value: unknown): value is RawAudio {
  return typeof value === "object" && value !== null && (value as RawAudio).samples instanceof Float32Array;
}

function isCodes(value: unknown): value is CodesArtifact {
  return typeof value === "object" && value !== null && (value as CodesArtifact).codes instanceof Int16Array;
}

/**
 * Encode (or read) each reference once, on `codec`, into a Voice. `codec` may be a function that gives it, called
 * only when a reference is audio (codes and Voices need no codec).
 */
export async function prepareVoice(
  codecSource: Codec | (() => Codec),
  input: ReferenceInput | readonly ReferenceInput[],
  options: { signal?: AbortSignal } = {},
): Promise<Voice> {
  const codec = {
    encodeAudio: (...args: Parameters<Codec["encodeAudio"]>) =>
      (typeof codecSource === "function" ? codecSource() : codecSource).encodeAudio(...args),
    encodeFile: (...args: Parameters<Codec["encodeFile"]>) =>
      (typeof codecSource === "function" ? codecSource() : codecSource).encodeFile(...args),
  };
  const list = Array.isArray(input) ? (input as readonly ReferenceInput[]) : [input as ReferenceInput];
  const references: (readonly (readonly number[])[])[] = [];
  const files: string[] = [];
  let fromFiles = true;
  const signal = options.signal ? { signal: options.signal } : {};
  for (const [i, reference] of list.entries()) {
    const name = list.length === 1 && !Array.isArray(input) ? "reference" : `reference[${i}]`;
    if (typeof reference === "string" && isEspeakReference(reference)) {
      // A demo voice: espeak-ng speaks a fixed sentence (recorded in run.json as "espeak:<voice>").
      const bytes = await espeakSpeech(reference.slice(ESPEAK_REFERENCE_PREFIX.length), signal);
      const artifact = await codec.encodeAudio(parseWav(bytes, reference), { bandwidth: 6, ...signal });
      references.push(codesToLevels(artifact));
      files.push(reference);
    } else if (typeof reference === "string") {
      if (reference === "") throw invalid("a file path", name, reference);
      const artifact = /\.(npy|json|enc)$/i.test(reference)
        ? await readCodes(reference)
        : await codec.encodeFile(reference, { bandwidth: 6, ...signal });
      references.push(codesToLevels(artifact));
      files.push(reference);
    } else if (reference instanceof Voice) {
      references.push(...reference.references);
      files.push(...reference.files);
      fromFiles &&= reference.fromFiles;
    } else if (isRawAudio(reference)) {
      const { samples, sampleRate } = reference;
      if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
        throw invalid("a sample rate in Hz from 1000 to 384000", `${name}.sampleRate`, sampleRate);
      }
      if (samples.length === 0) throw invalid("at least one sample", `${name}.samples`, samples);
      const artifact = await codec.encodeAudio({ sampleRate, channels: [samples], encoding: "32f" }, signal);
      references.push(codesToLevels(artifact));
      fromFiles = false;
    } else if (isCodes(reference)) {
      references.push(codesToLevels(reference));
      fromFiles = false;
    } else {
      throw invalid("a file path, { samples, sampleRate }, a codes artifact or a Voice", name, reference as unknown);
    }
  }
  return new Voice(references, files, fromFiles);
}

/**
 * synthesize(): text and a voice reference in, that voice speaking the text out — phonemize → encode the prompt →
 * generate → decode — one utterance per sentence, joined with a short pause. With `artifactsDir`, every stage's
 * artifact is written there (the prompt codes, each sentence's phonemes and response codes, the wav) with a
 * run.json of the inputs, options, seeds and per-stage timings.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Codec, codesFromLevels, codesToLevels, readCodes, SAMPLE_RATE, writeCodes, writeWav } from "@vall-e/codec";
import { type GenerateResult, LanguageModel, type Modality, type SamplingOptions } from "@vall-e/lm";
import { fileWriteError, invalid, systemInfo } from "@vall-e/native";
import {
  type Language,
  loadTokenizer,
  type PhonemeArtifact,
  phonemize,
  splitSentences,
  writePhonemeArtifact,
} from "@vall-e/phonemizer";
import writeFileAtomic from "write-file-atomic";
import { preparePrompt } from "./prompt/prepare.js";

export interface ModelFiles {
  /** The VALL-E GGUF. */
  lm: string;
  /** EnCodec weights (encodec.cpp format). */
  codec: string;
  /** tokenizer.json (or the GGUF itself). */
  tokenizer: string;
}

export type PipelineStage = "phonemize" | "prompt" | "len" | "ar" | "nar-len" | "nar" | "decode";

export interface PipelineProgress {
  stage: PipelineStage;
  /** 0-based sentence index (the prompt stage: 0). */
  sentence: number;
  sentences: number;
  step: number;
  total: number;
}

export interface SynthesizeOptions {
  text: string;
  models: ModelFiles;
  /** Voice references: WAV files or codes files (.npy, .json, .enc); none: no prompt. */
  reference?: string | readonly string[];
  /** Default "auto" (detected per text). */
  language?: Language | "auto";
  modality?: Modality;
  sampling?: Partial<SamplingOptions>;
  /** Seed of the first sentence; sentence i uses seed + i. Drawn when absent (reported in the result). */
  seed?: number;
  maxDuration?: number;
  maxLevels?: number;
  /** Prompt length in seconds (default 3; 0: the references as they are). */
  promptSeconds?: number;
  /** NAR-len: remask 1/(2·steps) more positions per step; confidence by "probability" (default) or "entropy". */
  remask?: boolean;
  scoring?: "probability" | "entropy";
  /** Silence between sentences in seconds (default 0.15). */
  sentencePause?: number;
  artifactsDir?: string;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (event: PipelineProgress) => void;
}

export interface SynthesizeResult {
  audio: Float32Array;
  sampleRate: typeof SAMPLE_RATE;
  /** Per sentence: its text, the seed it used, its frames. */
  sentences: { text: string; seed: number; frames: number }[];
  /** The files written under artifactsDir (absent without one). */
  artifacts?: string[];
}

export async function synthesize(options: SynthesizeOptions): Promise<SynthesizeResult> {
  const state = newState();
  const pieces: Float32Array[] = [];
  for await (const chunk of speak(options, state)) pieces.push(chunk.audio);
  const { timings, written, sentences, references, language, pause, baseSeed } = state;
  const dir = options.artifactsDir;
  const audio = concat(pieces);

  if (dir !== undefined) {
    await writeWav(join(dir, "output.wav"), audio, SAMPLE_RATE);
    written.push("output.wav");
    const run = {
      format: "vall-e.run/1",
      text: options.text,
      references,
      models: options.models,
      options: {
        language,
        modality: options.modality ?? "nar-len",
        sampling: options.sampling ?? {},
        seed: baseSeed,
        maxDuration: options.maxDuration ?? 12,
        maxLevels: options.maxLevels ?? 7,
        promptSeconds: options.promptSeconds ?? 3,
        sentencePause: pause,
      },
      sentences,
      timings,
      versions: { node: process.version, ggml: systemInfo().ggmlVersion },
    };
    try {
      await writeFileAtomic(join(dir, "run.json"), `${JSON.stringify(run, null, 2)}\n`);
    } catch (error) {
      throw fileWriteError(join(dir, "run.json"), error);
    }
    written.push("run.json");
  }
  return { audio, sampleRate: SAMPLE_RATE, sentences, ...(dir === undefined ? {} : { artifacts: written }) };
}

/** One sentence's audio as synthesizeStream yields it. */
export interface SpeechChunk {
  /** 0-based sentence index. */
  index: number;
  text: string;
  seed: number;
  frames: number;
  /** 24 kHz samples: the pause before the sentence (after the first), then the sentence. */
  audio: Float32Array;
  sampleRate: typeof SAMPLE_RATE;
}

interface RunState {
  timings: Record<string, number>;
  written: string[];
  sentences: SynthesizeResult["sentences"];
  references: string[];
  language: Language | "auto";
  pause: number;
  baseSeed: number;
}

function newState(): RunState {
  return { timings: {}, written: [], sentences: [], references: [], language: "auto", pause: 0, baseSeed: 0 };
}

/**
 * The sentences spoken one by one, as soon as each is decoded, so playback can start before the whole text is done.
 * With `artifactsDir`, each sentence's artifacts and the prompt codes are written as they come (output.wav and
 * run.json are synthesize's). Models are freed when the iteration ends, also when the consumer stops early.
 */
export function synthesizeStream(options: SynthesizeOptions): AsyncGenerator<SpeechChunk> {
  return speak(options, newState());
}

async function* speak(options: SynthesizeOptions, state: RunState): AsyncGenerator<SpeechChunk> {
  if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
  const { models } = options;
  for (const key of ["lm", "codec", "tokenizer"] as const) {
    if (typeof models?.[key] !== "string" || models[key] === "")
      throw invalid("a file path", `models.${key}`, models?.[key]);
  }
  if (typeof options.text !== "string") throw invalid("a string", "text", options.text);
  const references = options.reference === undefined ? [] : [options.reference].flat();
  state.references = references;
  const pause = options.sentencePause ?? 0.15;
  if (!(pause >= 0 && pause <= 10)) throw invalid("seconds from 0 to 10", "sentencePause", pause);
  state.pause = pause;
  const { timings, written, sentences } = state;
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await run();
    } finally {
      timings[name] = (timings[name] ?? 0) + (performance.now() - start) / 1e3;
    }
  };
  const dir = options.artifactsDir;
  if (dir !== undefined) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw fileWriteError(dir, error);
    }
  }

  const tokenizer = await loadTokenizer(options.models.tokenizer);
  const language = options.language ?? "auto";
  state.language = language;
  const texts = splitSentences(options.text, language === "auto" ? "en" : language);
  if (texts.length === 0) throw invalid("text with something to say", "text", options.text);
  const progress = (stage: PipelineStage, sentence: number, step = 1, total = 1) =>
    options.onProgress?.({ stage, sentence, sentences: texts.length, step, total });

  // Phonemes first: bad text fails before any model is loaded.
  const phonemes: PhonemeArtifact[] = [];
  for (const [i, text] of texts.entries()) {
    phonemes.push(await timed("phonemize", () => phonemize(text, { language, tokenizer, ...signalOf(options) })));
    progress("phonemize", i);
  }

  await using codec = await Codec.load(options.models.codec, threadsOf(options));
  const prompt = await timed("prompt", async () => {
    const codes: number[][][] = [];
    for (const path of references) {
      const artifact = /\.(npy|json|enc)$/i.test(path)
        ? await readCodes(path)
        : await codec.encodeFile(path, { bandwidth: 6, ...signalOf(options) });
      codes.push(codesToLevels(artifact));
    }
    return preparePrompt(codes, options.promptSeconds ?? 3);
  });
  progress("prompt", 0);
  if (dir !== undefined && prompt.length > 0) {
    await writeCodes(join(dir, "prompt.codes.npy"), codesFromLevels(prompt));
    written.push("prompt.codes.npy", "prompt.codes.npy.json");
  }

  await using model = await LanguageModel.load(options.models.lm);
  const baseSeed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  state.baseSeed = baseSeed;
  for (const [i, artifact] of phonemes.entries()) {
    const seed = (baseSeed + i) % 2 ** 32;
    const result: GenerateResult = await timed("generate", () =>
      model.generate({
        phonemes: artifact.tokens,
        lang: artifact.language,
        prompt,
        seed,
        ...(options.modality ? { modality: options.modality } : {}),
        ...(options.sampling ? { sampling: options.sampling } : {}),
        ...(options.maxDuration === undefined ? {} : { maxDuration: options.maxDuration }),
        ...(options.maxLevels === undefined ? {} : { maxLevels: options.maxLevels }),
        ...(options.remask === undefined ? {} : { remask: options.remask }),
        ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
        ...threadsOf(options),
        ...signalOf(options),
        onProgress: (e) => progress(e.stage, i, e.step, e.total),
      }),
    );
    const codes = codesFromLevels(result.codes, {
      text: artifact.text,
      phonemes: artifact.ipa,
      language: artifact.language,
    });
    const audio = await timed("decode", () => codec.decode(codes, signalOf(options)));
    progress("decode", i);
    sentences.push({ text: artifact.text, seed, frames: codes.frames });
    if (dir !== undefined) {
      const name = String(i + 1).padStart(3, "0");
      await writePhonemeArtifact(join(dir, `${name}.phonemes.json`), artifact);
      await writeCodes(join(dir, `${name}.codes.npy`), codes);
      written.push(`${name}.phonemes.json`, `${name}.codes.npy`, `${name}.codes.npy.json`);
    }
    const silence = i > 0 ? Math.round(pause * SAMPLE_RATE) : 0;
    const chunk = new Float32Array(silence + audio.length);
    chunk.set(audio, silence);
    yield { index: i, text: artifact.text, seed, frames: codes.frames, audio: chunk, sampleRate: SAMPLE_RATE };
  }
}

function signalOf(options: SynthesizeOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function threadsOf(options: SynthesizeOptions): { threads?: number } {
  return options.threads === undefined ? {} : { threads: options.threads };
}

function concat(pieces: Float32Array[]): Float32Array {
  const out = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

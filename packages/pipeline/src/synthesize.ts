/**
 * synthesize(): text and a voice reference in, that voice speaking the text out — phonemize → encode the prompt →
 * generate → decode — one utterance per sentence, joined with a short pause. With `artifactsDir`, every stage's
 * artifact is written there (the prompt codes, each sentence's phonemes and response codes, the wav) with a
 * run.json of the inputs, the model files and their SHA-256, every option, the seeds and per-stage timings.
 * Any stage can start from its artifacts instead (`phonemes`, `promptCodes`, `responseCodes`), and a run.json can be
 * replayed (replay.ts).
 */
import { mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  Codec,
  type CodesArtifact,
  codesFromLevels,
  codesToLevels,
  readCodes,
  SAMPLE_RATE,
  writeCodes,
  writeWav,
} from "@vall-e/codec";
import {
  GENERATION_TASKS,
  type GenerateResult,
  type GenerationTask,
  LanguageModel,
  type Modality,
  type SamplingOptions,
} from "@vall-e/lm";
import { expectOneOf, fileWriteError, InvalidArgumentError, invalid, systemInfo } from "@vall-e/native";
import {
  type Language,
  loadTokenizer,
  PHONEME_ARTIFACT_FORMAT,
  type PhonemeArtifact,
  phonemize,
  readPhonemeArtifact,
  splitSentences,
  writePhonemeArtifact,
} from "@vall-e/phonemizer";
import writeFileAtomic from "write-file-atomic";
import { checksumOf } from "./models/hub.js";
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
  /** The text; split into sentences for tts. Not needed when starting from `phonemes` or `responseCodes`. */
  text?: string;
  /**
   * The model files. Only those the run needs: the tokenizer to phonemize, the LM to generate, the codec to encode
   * references and decode.
   */
  models: Partial<ModelFiles>;
  /** Voice references: WAV files or codes files (.npy, .json, .enc); none: no prompt. ns / sr: the noisy audio. */
  reference?: string | readonly string[];
  /** The prepared prompt (a prompt.codes artifact), used as it is — instead of `reference`. */
  promptCodes?: string;
  /** Start from the phonemize stage's artifacts (one .phonemes.json per sentence) instead of the text. */
  phonemes?: readonly string[];
  /** Start from the generate stage's artifacts (one codes file per sentence): only decoding runs. */
  responseCodes?: readonly string[];
  /** "tts" (default), or "ns" / "sr": clean / remove speech in the reference (spec §4), as long as it is. */
  task?: GenerationTask;
  /** Default "auto" (detected per text). */
  language?: Language | "auto";
  modality?: Modality;
  sampling?: Partial<SamplingOptions>;
  /** Seed of the first sentence; sentence i uses seed + i. Drawn when absent (reported in the result). */
  seed?: number;
  maxDuration?: number;
  maxLevels?: number;
  /** Prompt length in seconds (default 3; 0: the references as they are). tts only. */
  promptSeconds?: number;
  /** NAR-len: remask 1/(2·steps) more positions per step; confidence by "probability" (default) or "entropy". */
  remask?: boolean;
  scoring?: "probability" | "entropy";
  /** Silence between sentences in seconds (default 0.15). */
  sentencePause?: number;
  /**
   * Rolling context (spec §6.1; default 0, off): each sentence is generated as the continuation of the previous n —
   * their phonemes before its own, their level-0 codes at the start of the response, left out of its audio.
   */
  contextHistory?: number;
  artifactsDir?: string;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (event: PipelineProgress) => void;
  /** synthesize: called with each sentence's audio as soon as it is decoded (awaited), e.g. to stream it out. */
  onChunk?: (chunk: SpeechChunk) => void | Promise<void>;
}

export interface SynthesizeResult {
  audio: Float32Array;
  sampleRate: typeof SAMPLE_RATE;
  /** Per sentence: its text, the seed it used (absent when decoded from response codes), its frames. */
  sentences: { text: string; seed?: number; frames: number }[];
  /** The seed of the first sentence. */
  seed?: number;
  /** The files written under artifactsDir (absent without one). */
  artifacts?: string[];
}

/** The manifest of a run (`run.json`). */
export interface RunManifest {
  format: "vall-e.run/1";
  inputs: {
    text?: string;
    reference: string[];
    promptCodes?: string;
    phonemes?: string[];
    responseCodes?: string[];
  };
  /** The files used, absolute, with their SHA-256. */
  models: Partial<Record<keyof ModelFiles, { path: string; sha256: string; bytes: number }>>;
  options: {
    task: GenerationTask;
    language: Language | "auto";
    modality: Modality;
    sampling: Partial<SamplingOptions>;
    seed?: number;
    maxDuration: number;
    maxLevels: number;
    promptSeconds: number;
    remask: boolean;
    scoring: "probability" | "entropy";
    sentencePause: number;
    contextHistory: number;
  };
  sentences: SynthesizeResult["sentences"];
  /** Seconds per stage. */
  timings: Record<string, number>;
  versions: { node: string; ggml: string };
}

export async function synthesize(options: SynthesizeOptions): Promise<SynthesizeResult> {
  const state = newState();
  const pieces: Float32Array[] = [];
  for await (const chunk of speak(options, state)) {
    pieces.push(chunk.audio);
    await options.onChunk?.(chunk);
  }
  const { written, sentences, baseSeed } = state;
  const dir = options.artifactsDir;
  const audio = concat(pieces);

  if (dir !== undefined) {
    await writeWav(join(dir, "output.wav"), audio, SAMPLE_RATE);
    written.push("output.wav");
    const run = await manifest(options, state);
    try {
      await writeFileAtomic(join(dir, "run.json"), `${JSON.stringify(run, null, 2)}\n`);
    } catch (error) {
      throw fileWriteError(join(dir, "run.json"), error);
    }
    written.push("run.json");
  }
  return {
    audio,
    sampleRate: SAMPLE_RATE,
    sentences,
    ...(baseSeed === undefined ? {} : { seed: baseSeed }),
    ...(dir === undefined ? {} : { artifacts: written }),
  };
}

async function manifest(options: SynthesizeOptions, state: RunState): Promise<RunManifest> {
  const models: RunManifest["models"] = {};
  for (const role of state.usedModels) {
    const path = resolve(options.models[role] as string);
    const start = performance.now();
    const sha256 = await checksumOf(path, "sha256", options.signal);
    state.timings.checksums = (state.timings.checksums ?? 0) + (performance.now() - start) / 1e3;
    models[role] = { path, sha256, bytes: (await stat(path)).size };
  }
  const absolute = (paths: readonly string[]) => paths.map((p) => resolve(p));
  return {
    format: "vall-e.run/1",
    inputs: {
      ...(options.text === undefined ? {} : { text: options.text }),
      reference: absolute(state.references),
      ...(options.promptCodes === undefined ? {} : { promptCodes: resolve(options.promptCodes) }),
      ...(options.phonemes === undefined ? {} : { phonemes: absolute(options.phonemes) }),
      ...(options.responseCodes === undefined ? {} : { responseCodes: absolute(options.responseCodes) }),
    },
    models,
    options: {
      task: options.task ?? "tts",
      language: options.language ?? "auto",
      modality: options.modality ?? "nar-len",
      sampling: options.sampling ?? {},
      ...(state.baseSeed === undefined ? {} : { seed: state.baseSeed }),
      maxDuration: options.maxDuration ?? 12,
      maxLevels: options.maxLevels ?? 7,
      promptSeconds: options.promptSeconds ?? 3,
      remask: options.remask ?? false,
      scoring: options.scoring ?? "probability",
      sentencePause: state.pause,
      contextHistory: options.contextHistory ?? 0,
    },
    sentences: state.sentences,
    timings: state.timings,
    versions: { node: process.version, ggml: systemInfo().ggmlVersion },
  };
}

/** One sentence's audio as synthesizeStream yields it. */
export interface SpeechChunk {
  /** 0-based sentence index. */
  index: number;
  text: string;
  seed?: number;
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
  pause: number;
  baseSeed: number | undefined;
  usedModels: (keyof ModelFiles)[];
}

function newState(): RunState {
  return {
    timings: {},
    written: [],
    sentences: [],
    references: [],
    pause: 0,
    baseSeed: undefined,
    usedModels: [],
  };
}

/**
 * The sentences spoken one by one, as soon as each is decoded, so playback can start before the whole text is done.
 * With `artifactsDir`, each sentence's artifacts and the prompt codes are written as they come (output.wav and
 * run.json are synthesize's). Models are freed when the iteration ends, also when the consumer stops early.
 */
export function synthesizeStream(options: SynthesizeOptions): AsyncGenerator<SpeechChunk> {
  return speak(options, newState());
}

/** Every check that needs no file: the run fails on bad options before anything is read or loaded. */
function checkOptions(options: SynthesizeOptions): void {
  if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
  expectOneOf(options.task ?? "tts", "task", GENERATION_TASKS);
  const sources = [
    options.text !== undefined && "text",
    options.phonemes !== undefined && "phonemes",
    options.responseCodes !== undefined && "responseCodes",
  ].filter(Boolean);
  if (sources.length === 0) throw new InvalidArgumentError("Give the text, its phonemes or the response codes");
  if (sources.length > 1) {
    throw new InvalidArgumentError(`Give one of text, phonemes and responseCodes, not ${sources.join(" and ")}`);
  }
  if (options.text !== undefined && typeof options.text !== "string") throw invalid("a string", "text", options.text);
  for (const key of ["phonemes", "responseCodes"] as const) {
    const list = options[key];
    if (
      list !== undefined &&
      (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string"))
    ) {
      throw invalid("a non-empty list of file paths", key, list);
    }
  }
  if (options.reference !== undefined && options.promptCodes !== undefined) {
    throw new InvalidArgumentError(
      "Give the voice either as references (reference / --prompt) or as prepared prompt codes (promptCodes / --prompt-codes), not both",
    );
  }
  const pause = options.sentencePause ?? 0.15;
  if (!(pause >= 0 && pause <= 10)) throw invalid("seconds from 0 to 10", "sentencePause", pause);
  const history = options.contextHistory ?? 0;
  if (!Number.isInteger(history) || history < 0 || history > 16) {
    throw invalid("a number of sentences from 0 to 16", "contextHistory", history);
  }
  if (history > 0 && (options.task ?? "tts") !== "tts") {
    throw new InvalidArgumentError("contextHistory is for tts (ns / sr speak one utterance)");
  }
  const models = options.models;
  if (typeof models !== "object" || models === null) throw invalid("an object of file paths", "models", models);
  const needed: (keyof ModelFiles)[] = ["codec"];
  if (options.responseCodes === undefined) needed.push("lm");
  if (options.text !== undefined) needed.push("tokenizer");
  for (const key of needed) {
    if (typeof models[key] !== "string" || models[key] === "")
      throw invalid("a file path", `models.${key}`, models[key]);
  }
}

async function* speak(options: SynthesizeOptions, state: RunState): AsyncGenerator<SpeechChunk> {
  checkOptions(options);
  const task = options.task ?? "tts";
  const references = options.reference === undefined ? [] : [options.reference].flat();
  if (task !== "tts" && references.length === 0 && options.promptCodes === undefined) {
    throw new InvalidArgumentError(`The ${task} task needs the noisy audio as the reference (--prompt)`);
  }
  state.references = references;
  const pause = options.sentencePause ?? 0.15;
  state.pause = pause;
  const { written } = state;
  const timed = <T>(name: string, run: () => Promise<T>) => timeStage(state, name, run);
  const dir = options.artifactsDir;
  if (dir !== undefined) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw fileWriteError(dir, error);
    }
  }
  const language = options.language ?? "auto";

  // Response codes given: decode only.
  if (options.responseCodes !== undefined) {
    const responses: CodesArtifact[] = [];
    for (const path of options.responseCodes) responses.push(await readCodes(path));
    await using codec = await loadCodec(options, state);
    for (const [i, codes] of responses.entries()) {
      yield await decodeSentence(
        codec,
        codes,
        { index: i, count: responses.length, text: codes.text ?? "" },
        options,
        state,
      );
    }
    return;
  }

  // Phonemes first: bad text fails before any model is loaded.
  const phonemes: PhonemeArtifact[] = [];
  if (options.phonemes !== undefined) {
    for (const path of options.phonemes) phonemes.push(await readPhonemeArtifact(path));
  } else {
    const text = options.text as string;
    const tokenizer = await loadTokenizer(options.models.tokenizer as string);
    state.usedModels.push("tokenizer");
    if (task !== "tts" && text.trim() === "") {
      // ns / sr without a transcript: the empty text.
      const lang = language === "auto" ? "en" : language;
      phonemes.push({
        format: PHONEME_ARTIFACT_FORMAT,
        text,
        language: lang,
        voice: "",
        ipa: "",
        tokens: [1, 2],
        tokenizer: tokenizer.fingerprint,
      });
    } else {
      // tts speaks sentence by sentence; ns / sr keep the text whole (the output is the reference's length).
      const texts = task === "tts" ? splitSentences(text, language === "auto" ? "en" : language) : [text];
      if (texts.length === 0) throw invalid("text with something to say", "text", text);
      for (const [i, sentence] of texts.entries()) {
        phonemes.push(
          await timed("phonemize", () => phonemize(sentence, { language, tokenizer, ...signalOf(options) })),
        );
        options.onProgress?.({ stage: "phonemize", sentence: i, sentences: texts.length, step: 1, total: 1 });
      }
    }
  }
  const count = phonemes.length;
  const progress = (stage: PipelineStage, sentence: number, step = 1, total = 1) =>
    options.onProgress?.({ stage, sentence, sentences: count, step, total });

  await using codec = await loadCodec(options, state);
  const prompt = await timed("prompt", async () => {
    if (options.promptCodes !== undefined) return codesToLevels(await readCodes(options.promptCodes));
    const codes: number[][][] = [];
    for (const path of references) {
      const artifact = /\.(npy|json|enc)$/i.test(path)
        ? await readCodes(path)
        : await codec.encodeFile(path, { bandwidth: 6, ...signalOf(options) });
      codes.push(codesToLevels(artifact));
    }
    // ns / sr take the noisy audio whole.
    return preparePrompt(codes, task === "tts" ? (options.promptSeconds ?? 3) : 0);
  });
  progress("prompt", 0);
  if (dir !== undefined && prompt.length > 0) {
    await writeCodes(join(dir, "prompt.codes.npy"), codesFromLevels(prompt));
    written.push("prompt.codes.npy", "prompt.codes.npy.json");
  }

  await using model = await LanguageModel.load(options.models.lm as string);
  state.usedModels.push("lm");
  const baseSeed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  state.baseSeed = baseSeed;
  // Rolling context: the last `contextHistory` sentences' phoneme tokens and level-0 codes.
  const spoken: { tokens: readonly number[]; codes: readonly number[] }[] = [];
  const contextHistory = options.contextHistory ?? 0;
  for (const [i, artifact] of phonemes.entries()) {
    const seed = (baseSeed + i) % 2 ** 32;
    const previous = contextHistory > 0 ? spoken.slice(-contextHistory) : [];
    const history =
      previous.length === 0
        ? undefined
        : {
            // <bos> a … b c </eos>: each earlier text without its </eos><bos> joins, as the texts are joined.
            phonemes: [1, ...previous.flatMap((p) => p.tokens.slice(1, -1)), 2],
            codes: previous.flatMap((p) => p.codes),
          };
    const result: GenerateResult = await timed("generate", () =>
      model.generate({
        phonemes: artifact.tokens,
        lang: artifact.language,
        prompt,
        task,
        seed,
        ...(options.modality ? { modality: options.modality } : {}),
        ...(options.sampling ? { sampling: options.sampling } : {}),
        ...(options.maxDuration === undefined ? {} : { maxDuration: options.maxDuration }),
        ...(options.maxLevels === undefined ? {} : { maxLevels: options.maxLevels }),
        ...(options.remask === undefined ? {} : { remask: options.remask }),
        ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
        ...(history ? { history } : {}),
        ...threadsOf(options),
        ...signalOf(options),
        onProgress: (e) => progress(e.stage, i, e.step, e.total),
      }),
    );
    if (contextHistory > 0) spoken.push({ tokens: artifact.tokens, codes: result.codes[0] as number[] });
    const codes = codesFromLevels(result.codes, {
      text: artifact.text,
      phonemes: artifact.ipa,
      language: artifact.language,
    });
    if (dir !== undefined) {
      const name = String(i + 1).padStart(3, "0");
      await writePhonemeArtifact(join(dir, `${name}.phonemes.json`), artifact);
      written.push(`${name}.phonemes.json`);
    }
    yield await decodeSentence(codec, codes, { index: i, count, text: artifact.text, seed }, options, state);
  }
}

async function loadCodec(options: SynthesizeOptions, state: RunState): Promise<Codec> {
  const codec = await Codec.load(options.models.codec as string, threadsOf(options));
  state.usedModels.push("codec");
  return codec;
}

/** Run a stage, adding its seconds to the run's timings. */
async function timeStage<T>(state: RunState, name: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    state.timings[name] = (state.timings[name] ?? 0) + (performance.now() - start) / 1e3;
  }
}

/** Decode one sentence's codes, write its codes artifact, and make its chunk (with the pause before it). */
async function decodeSentence(
  codec: Codec,
  codes: CodesArtifact,
  sentence: { index: number; count: number; text: string; seed?: number },
  options: SynthesizeOptions,
  state: RunState,
): Promise<SpeechChunk> {
  const { index, count, text, seed } = sentence;
  const audio = await timeStage(state, "decode", () => codec.decode(codes, signalOf(options)));
  options.onProgress?.({ stage: "decode", sentence: index, sentences: count, step: 1, total: 1 });
  state.sentences.push({ text, ...(seed === undefined ? {} : { seed }), frames: codes.frames });
  const dir = options.artifactsDir;
  if (dir !== undefined) {
    const name = String(index + 1).padStart(3, "0");
    await writeCodes(join(dir, `${name}.codes.npy`), codes);
    state.written.push(`${name}.codes.npy`, `${name}.codes.npy.json`);
  }
  const silence = index > 0 ? Math.round(state.pause * SAMPLE_RATE) : 0;
  const chunk = new Float32Array(silence + audio.length);
  chunk.set(audio, silence);
  return {
    index,
    text,
    ...(seed === undefined ? {} : { seed }),
    frames: codes.frames,
    audio: chunk,
    sampleRate: SAMPLE_RATE,
  };
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

/**
 * The Engine: the models loaded once — the LM, the codec (EnCodec's encoder, for voices), the phoneme tokenizer and
 * the decoder behind the Decoder seam (Vocos by default, or EnCodec's own) — serving many requests, concurrently, each with its own LM context and codec compute
 * state. A request goes phonemize → prompt → generate → decode, one utterance per sentence, joined with a short
 * pause (vall_e/inference.py TTS.inference); with `artifactsDir` every stage's artifact and a run.json are written.
 *
 *   const engine = await Engine.load({ models: "tiny" });
 *   const { audio, sampleRate } = await engine.synthesize({ text: "Hello there.", reference: "voice.wav", seed: 5 });
 *   for await (const chunk of engine.stream({ text })) play(chunk.audio);
 *   await engine.dispose();
 */
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  Codec,
  type CodesArtifact,
  codesFromLevels,
  codesToLevels,
  SAMPLE_RATE,
  Vocos,
  writeCodes,
  writeWav,
} from "@vall-e/codec";
import {
  DisposedError,
  expectOneOf,
  expectThreads,
  FRAME_RATE,
  fileReadError,
  fileWriteError,
  GPU_SENTENCE_BATCH,
  invalid,
  type Language,
  PHONEME_IDS,
  REQUEST_SETTINGS,
  settingValue,
  statRegularFile,
  VallEError,
} from "@vall-e/core";
import {
  type BatchRequest,
  type GenerateResult,
  generateBatch,
  LanguageModel,
  maxPositions,
  type SamplingOptions,
  transcribe,
} from "@vall-e/lm";
import { type DeviceInfo, resolveDevice, systemInfo } from "@vall-e/native";
import {
  isEspeakReference,
  loadTokenizer,
  PHONEME_ARTIFACT_FORMAT,
  type PhonemeArtifact,
  type PhonemeTokenizer,
  phonemize,
  splitSentences,
  writePhonemeArtifact,
} from "@vall-e/phonemizer";
import writeFileAtomic from "write-file-atomic";
import { makeDirectory } from "../files/make-directory.js";
import { MODEL_ROLES, type ModelRole, resolveModels } from "../models/bundle.js";
import { checksumOf, type DownloadProgress } from "../models/hub.js";
import { preparePrompt } from "../prompt/prepare.js";
import { type FileChecksum, type InputChecksums, MAX_INPUT_FILE_BYTES, type RunManifest } from "../run-manifest.js";
import type { SentenceRecord, SpeechChunk, SpeechResult } from "./chunks.js";
import {
  DECODER_ROLES,
  DECODERS,
  DEFAULT_DECODER,
  type Decoder,
  type DecoderName,
  EncodecDecoder,
  VocosDecoder,
} from "./decoder.js";
import {
  type PipelineProgress,
  type PipelineStage,
  type ReferenceInput,
  type RequestSource,
  type ResolvedSettings,
  resolveRequest,
  type SpeechRequest,
} from "./request.js";
import { prepareVoice, type Voice } from "./voice.js";

export interface ModelFiles {
  /** The VALL-E GGUF. */
  lm: string;
  /** EnCodec weights (encodec.cpp format). */
  codec: string;
  /** tokenizer.json (or the GGUF itself). */
  tokenizer: string;
  /** Vocos weights (the hub's pytorch_model.bin, or a .safetensors copy). */
  vocos: string;
}

export interface TranscribeRequest {
  /** The speech: a file (audio, or codes with at least 7 levels), samples in memory, or a codes artifact. */
  audio: ReferenceInput;
  /** Its language (default "en"). */
  language?: Language;
  seed?: number;
  /** Sampler settings (greedy by default). */
  sampling?: Partial<SamplingOptions>;
  /** Tokens at most (default from the audio's length). */
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (event: { stage: string; step: number; total: number }) => void;
}

export interface TranscribeOutcome {
  artifact: PhonemeArtifact;
  /** Whether </eos> ended the output. */
  stopped: boolean;
  seed: number;
  /** Frames of speech transcribed. */
  frames: number;
}

export type EngineLoadProgress =
  | ({ stage: "download" } & DownloadProgress)
  | { stage: "load"; role: ModelRole; path: string };

export interface EngineLoadOptions {
  /**
   * The model files, or "tiny" for the offline random-weight bundle. A needed file not given is found in
   * VALL_E_MODEL_DIR or the cache, or downloaded (resolveModels).
   */
  models?: Partial<ModelFiles> | "tiny";
  /**
   * Which models to load (default the LM, the codec, the tokenizer and the decoder's weights); a request that needs
   * one not loaded is refused.
   */
  need?: readonly ModelRole[];
  /** Codes to audio through "vocos" (default, as the reference) or "encodec" (EnCodec's own decoder). */
  decoder?: DecoderName;
  /**
   * Threads of every evaluation (default: the physical cores, shared among the requests running at once; one thread
   * pool serves the whole process).
   */
  threads?: number;
  /**
   * Where the LM, the codec and Vocos run (default "auto": a real GPU when this build has one, else the CPU; never a
   * software device): "auto", "cpu", "vulkan[:N]", "cuda[:N]". An unknown or absent device is refused (ERR_DEVICE)
   * before anything loads. On a device, the codec's LSTM recurrence and quantizer still run on the CPU.
   */
  device?: string;
  /** Download missing files (default true). */
  download?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (event: EngineLoadProgress) => void;
  signal?: AbortSignal;
}

const ROLES = MODEL_ROLES;
const WHAT: Record<ModelRole, string> = { lm: "LM", codec: "codec", tokenizer: "tokenizer", vocos: "Vocos weights" };

/** One request in flight: its cancellation and the work of it still running. */
interface Run {
  controller: AbortController;
  pending: Set<Promise<unknown>>;
  /** Set when the engine's dispose() stopped this request. */
  stoppedByDispose: boolean;
}

/** The state a request accumulates: timings, artifacts written, sentences, the models it used. */
interface RunState {
  settings: ResolvedSettings;
  source: RequestSource;
  timings: Record<string, number>;
  written: string[];
  sentences: SentenceRecord[];
  baseSeed: number | undefined;
  usedModels: Set<ModelRole>;
  /** The prompt as given to the LM (levels × frames; empty: none). */
  prompt: number[][];
  /** Whether run.json can name every reference as a file. */
  referencesAreFiles: boolean;
  referenceFiles: string[];
  /** The sentences generated together (the request's sentenceBatch resolved for this engine's device). */
  sentenceBatch: number;
}

export class Engine implements AsyncDisposable {
  /** The files loaded, by role. */
  readonly files: Readonly<Partial<ModelFiles>>;
  /** A file of the tiny bundle is in use: random weights, the audio is noise. */
  readonly tiny: boolean;
  /** The device the models run on. */
  readonly device: DeviceInfo;
  readonly #lm: LanguageModel | undefined;
  readonly #codec: Codec | undefined;
  readonly #tokenizer: PhonemeTokenizer | undefined;
  readonly #vocos: Vocos | undefined;
  readonly #decoderName: DecoderName;
  readonly #decoder: Decoder | undefined;
  readonly #threads: number;
  readonly #runs = new Set<Run>();
  readonly #checksums = new Map<string, Promise<string>>();
  #disposed: Promise<void> | undefined;

  private constructor(parts: {
    files: Partial<ModelFiles>;
    tiny: boolean;
    lm?: LanguageModel;
    codec?: Codec;
    tokenizer?: PhonemeTokenizer;
    vocos?: Vocos;
    decoderName: DecoderName;
    decoder?: Decoder;
    threads: number;
    device: DeviceInfo;
  }) {
    this.device = parts.device;
    this.files = Object.freeze({ ...parts.files });
    this.tiny = parts.tiny;
    this.#lm = parts.lm;
    this.#codec = parts.codec;
    this.#tokenizer = parts.tokenizer;
    this.#vocos = parts.vocos;
    this.#decoderName = parts.decoderName;
    this.#decoder = parts.decoder;
    this.#threads = parts.threads;
  }

  /**
   * Resolve (and download) the model files and load each once. A file that fails to load frees what was loaded
   * before it and rejects with that file's typed error.
   */
  static async load(options: EngineLoadOptions = {}): Promise<Engine> {
    if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
    const threads = expectThreads(options.threads);
    const device = resolveDevice(options.device ?? "auto");
    const decoder = expectOneOf(options.decoder ?? DEFAULT_DECODER, "decoder", DECODERS);
    const asked: unknown =
      options.need ?? (["lm", "codec", "tokenizer", ...(decoder === "vocos" ? ["vocos"] : [])] as ModelRole[]);
    if (!Array.isArray(asked) || asked.some((role) => !ROLES.includes(role as ModelRole))) {
      throw invalid(`a list of ${ROLES.join(", ")}`, "need", asked);
    }
    const need = asked as readonly ModelRole[];
    const given = options.models ?? {};
    if (given !== "tiny" && (typeof given !== "object" || given === null)) {
      throw invalid('an object of file paths or "tiny"', "models", given);
    }
    let files: Partial<ModelFiles>;
    let tiny = false;
    if (given !== "tiny" && need.every((role) => typeof given[role] === "string" && given[role] !== "")) {
      files = Object.fromEntries(need.map((role) => [role, given[role]]));
    } else {
      const resolved = await resolveModels({
        ...(given === "tiny" ? { model: "tiny" } : {}),
        ...(given !== "tiny" && given.lm !== undefined ? { model: given.lm } : {}),
        ...(given !== "tiny" && given.codec !== undefined ? { codec: given.codec } : {}),
        ...(given !== "tiny" && given.tokenizer !== undefined ? { tokenizer: given.tokenizer } : {}),
        ...(given !== "tiny" && given.vocos !== undefined ? { vocos: given.vocos } : {}),
        need,
        ...(options.download === undefined ? {} : { download: options.download }),
        ...(options.env ? { env: options.env } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: (e) => options.onProgress?.({ stage: "download", ...e }) } : {}),
      });
      files = Object.fromEntries(need.map((role) => [role, resolved.files[role]]));
      tiny = resolved.tiny;
    }
    for (const role of need) {
      if (typeof files[role] !== "string" || files[role] === "")
        throw invalid("a file path", `models.${role}`, files[role]);
    }

    const loaded: { lm?: LanguageModel; codec?: Codec; tokenizer?: PhonemeTokenizer; vocos?: Vocos } = {};
    const progress = (role: ModelRole) => options.onProgress?.({ stage: "load", role, path: files[role] as string });
    try {
      if (need.includes("tokenizer")) {
        loaded.tokenizer = await loadTokenizer(files.tokenizer as string);
        progress("tokenizer");
      }
      if (need.includes("codec")) {
        loaded.codec = await Codec.load(files.codec as string, {
          ...(threads === 0 ? {} : { threads }),
          device: device.spec,
        });
        progress("codec");
      }
      if (need.includes("vocos")) {
        loaded.vocos = await Vocos.load(files.vocos as string, {
          ...(threads === 0 ? {} : { threads }),
          device: device.spec,
        });
        progress("vocos");
      }
      options.signal?.throwIfAborted();
      if (need.includes("lm")) {
        loaded.lm = await LanguageModel.load(files.lm as string, { device: device.spec });
        progress("lm");
      }
    } catch (error) {
      await loaded.codec?.dispose();
      await loaded.vocos?.dispose();
      await loaded.lm?.dispose();
      throw error;
    }
    const instance =
      decoder === "vocos"
        ? loaded.vocos && new VocosDecoder(loaded.vocos)
        : loaded.codec && new EncodecDecoder(loaded.codec, files.codec as string);
    return new Engine({
      files,
      tiny,
      ...loaded,
      decoderName: decoder,
      ...(instance ? { decoder: instance } : {}),
      threads,
      device,
    });
  }

  /** The decoder (codes → audio), when its weights are loaded. */
  get decoder(): Decoder | undefined {
    return this.#decoder;
  }

  /** The loaded phoneme tokenizer (e.g. to phonemize a reference text), when loaded. */
  get tokenizer(): PhonemeTokenizer {
    return this.#need("tokenizer", "phonemize text");
  }

  /** The loaded language model (e.g. for its tasks), when loaded. */
  get languageModel(): LanguageModel | undefined {
    return this.#lm;
  }

  /** Requests running now. */
  get activeRequests(): number {
    return this.#runs.size;
  }

  /**
   * Speak a request: text (or phoneme artifacts, or response codes) and a voice in, 24 kHz audio out, with each
   * sentence's seed and frames and the seconds per stage.
   */
  async synthesize(request: SpeechRequest): Promise<SpeechResult> {
    const { source, settings } = resolveRequest(request);
    const run = this.#begin(request);
    const state = newState(source, settings);
    const work = (async () => {
      const pieces: Float32Array[] = [];
      for await (const chunk of this.#speak(request, state, run.controller.signal, false)) {
        pieces.push(chunk.audio);
        await request.onChunk?.(chunk);
      }
      const audio = concat(pieces);
      const dir = request.artifactsDir;
      if (dir !== undefined) {
        await writeWav(join(dir, "output.wav"), audio, SAMPLE_RATE);
        state.written.push("output.wav");
        const manifest = await this.#manifest(request, state, run.controller.signal);
        try {
          await writeFileAtomic(join(dir, "run.json"), `${JSON.stringify(manifest, null, 2)}\n`);
        } catch (error) {
          throw fileWriteError(join(dir, "run.json"), error);
        }
        state.written.push("run.json");
      }
      const result: SpeechResult = {
        audio,
        sampleRate: SAMPLE_RATE,
        sentences: state.sentences,
        ...(state.baseSeed === undefined ? {} : { seed: state.baseSeed }),
        timings: state.timings,
        ...(dir === undefined ? {} : { artifacts: state.written }),
      };
      return result;
    })();
    try {
      return await this.#track(run, work);
    } finally {
      this.#end(run);
    }
  }

  /**
   * The sentences of a request one by one, each as soon as it is decoded, so playback can start before the whole
   * text is done. With `artifactsDir`, each sentence's artifacts and the prompt codes are written as they come
   * (output.wav and run.json are synthesize's). Stopping early (break, return) ends the request.
   */
  stream(request: SpeechRequest): AsyncIterableIterator<SpeechChunk> {
    const { source, settings } = resolveRequest(request);
    const run = this.#begin(request);
    const inner = this.#speak(request, newState(source, settings), run.controller.signal, true);
    let ended = false;
    const step = async (call: () => Promise<IteratorResult<SpeechChunk>>): Promise<IteratorResult<SpeechChunk>> => {
      if (ended) return { done: true, value: undefined };
      try {
        const result = await this.#track(run, call());
        if (result.done) {
          ended = true;
          this.#end(run);
        }
        return result;
      } catch (error) {
        ended = true;
        this.#end(run);
        throw error;
      }
    };
    return {
      next: () => step(() => inner.next()),
      return: () => step(() => inner.return(undefined)),
      throw: (error?: unknown) => step(() => inner.throw(error)),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Encode (or read) voice references once — files (WAV or codes), samples in memory, codes artifacts — into a Voice
   * that any number of requests can use as their `reference`.
   */
  async prepareVoice(
    reference: ReferenceInput | readonly ReferenceInput[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Voice> {
    const run = this.#begin(options);
    try {
      return await this.#track(
        run,
        prepareVoice(this.#need("codec", "prepare a voice"), reference, { signal: run.controller.signal }),
      );
    } finally {
      this.#end(run);
    }
  }

  /**
   * Speech to phonemes with the same model (the stt task): the audio (a file, samples, or its codes) is encoded, the
   * LM writes its phoneme tokens, the tokenizer spells them — a PhonemeArtifact (its `text` empty: unknown).
   */
  async transcribe(request: TranscribeRequest): Promise<TranscribeOutcome> {
    if (typeof request !== "object" || request === null) throw invalid("an options object", "options", request);
    const language = settingValue(REQUEST_SETTINGS.language, request.language ?? "en", "language");
    if (language === "auto") throw invalid("a language (not auto) for stt", "language", language);
    const run = this.#begin(request);
    try {
      return await this.#track(
        run,
        (async () => {
          const codec = this.#need("codec", "encode the audio");
          const model = this.#need("lm", "transcribe");
          const tokenizer = this.#need("tokenizer", "spell the phonemes");
          if (request.audio === undefined) throw invalid("the audio to transcribe", "audio", request.audio);
          const voice = await prepareVoice(codec, request.audio, { signal: run.controller.signal });
          const codes = preparePrompt(voice.references, 0);
          const result = await transcribe(model, {
            codes,
            lang: language,
            ...(request.seed === undefined ? {} : { seed: request.seed }),
            ...(request.sampling ? { sampling: request.sampling } : {}),
            ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
            vocabularySize: tokenizer.vocabularySize, // only what the tokenizer can spell
            threads: this.#lmThreads(),
            signal: run.controller.signal,
            ...(request.onProgress ? { onProgress: request.onProgress } : {}),
          });
          const artifact: PhonemeArtifact = {
            format: PHONEME_ARTIFACT_FORMAT,
            text: "",
            language,
            voice: "",
            ipa: tokenizer.decode(result.tokens),
            // An artifact always ends with </eos>; `stopped` says whether the model wrote it.
            tokens: result.stopped ? result.tokens : [...result.tokens, PHONEME_IDS.eos],
            tokenizer: tokenizer.fingerprint,
          };
          return { artifact, stopped: result.stopped, seed: result.seed, frames: codes[0]?.length ?? 0 };
        })(),
      );
    } finally {
      this.#end(run);
    }
  }

  /**
   * Stop the requests in flight (each rejects with ERR_DISPOSED), wait for their native work to end, then free the
   * models. Idempotent; the engine cannot be used afterwards.
   */
  async dispose(): Promise<void> {
    if (!this.#disposed) {
      this.#disposed = (async () => {
        const pending: Promise<unknown>[] = [];
        for (const run of this.#runs) {
          run.stoppedByDispose = true;
          run.controller.abort(new DisposedError("Engine"));
          pending.push(...run.pending);
        }
        await Promise.allSettled(pending);
        await this.#lm?.dispose();
        await this.#codec?.dispose();
        await this.#vocos?.dispose();
      })();
    }
    await this.#disposed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #begin(request: { signal?: AbortSignal | undefined }): Run {
    if (this.#disposed) throw new DisposedError("Engine");
    const controller = new AbortController();
    const outer = request.signal;
    if (outer) {
      if (outer.aborted) controller.abort(outer.reason);
      else outer.addEventListener("abort", () => controller.abort(outer.reason), { once: true });
    }
    const run: Run = { controller, pending: new Set(), stoppedByDispose: false };
    this.#runs.add(run);
    return run;
  }

  #end(run: Run): void {
    this.#runs.delete(run);
  }

  /** Await a request's work, so dispose() can wait for it; a request stopped by dispose rejects with ERR_DISPOSED. */
  async #track<T>(run: Run, work: Promise<T>): Promise<T> {
    run.pending.add(work);
    try {
      return await work;
    } catch (error) {
      if (run.stoppedByDispose) {
        throw new VallEError("ERR_DISPOSED", "The engine was disposed while this request ran", { cause: error });
      }
      throw error;
    } finally {
      run.pending.delete(work);
    }
  }

  /**
   * Threads of the next LM evaluation: as asked at load, or — by default — the physical cores shared among the
   * requests running now (one request: all of them; two on two cores: one each). Every evaluation takes its turn on
   * the process's one thread pool, so threads beyond the cores would only contend with the JavaScript that samples
   * between evaluations; results do not depend on the count.
   */
  #lmThreads(): number {
    if (this.#threads !== 0) return this.#threads;
    return Math.max(1, Math.floor(systemInfo().defaultThreads / Math.max(1, this.#runs.size)));
  }

  /** The decoder, or ERR_ENGINE_MODEL naming the weights it was loaded without (never another decoder instead). */
  #requireDecoder(): Decoder {
    if (this.#disposed) throw new DisposedError("Engine");
    if (this.#decoder) return this.#decoder;
    const role = DECODER_ROLES[this.#decoderName];
    throw new VallEError(
      "ERR_ENGINE_MODEL",
      `This engine was loaded without the ${WHAT[role]}, which its decoder (${this.#decoderName}) needs to decode (Engine.load({ need }), or decoder: "${this.#decoderName === "vocos" ? "encodec" : "vocos"}")`,
    );
  }

  #need<K extends "lm" | "codec" | "tokenizer">(
    role: K,
    purpose: string,
  ): K extends "lm" ? LanguageModel : K extends "codec" ? Codec : PhonemeTokenizer {
    const part = role === "lm" ? this.#lm : role === "codec" ? this.#codec : this.#tokenizer;
    if (this.#disposed) throw new DisposedError("Engine");
    if (!part) {
      throw new VallEError(
        "ERR_ENGINE_MODEL",
        `This engine was loaded without the ${WHAT[role]}, which it needs to ${purpose} (Engine.load({ need }))`,
      );
    }
    return part as never;
  }

  /** The request's work: every stage, sentence by sentence (or batch by batch); `streaming`: for stream(). */
  async *#speak(
    request: SpeechRequest,
    state: RunState,
    signal: AbortSignal,
    streaming: boolean,
  ): AsyncGenerator<SpeechChunk> {
    const { settings } = state;
    const { task } = settings;
    const dir = request.artifactsDir;
    const timed = <T>(name: string, run: () => Promise<T>) => timeStage(state, name, run);
    if (dir !== undefined) {
      await makeDirectory(dir);
    }

    // Response codes given: decode only.
    if (request.responseCodes !== undefined) {
      const decoder = this.#requireDecoder();
      state.usedModels.add(decoder.weights.role);
      const responses = request.responseCodes;
      for (const [i, codes] of responses.entries()) {
        const sentence = { index: i, count: responses.length, text: codes.text ?? "" };
        yield await this.#decodeSentence(decoder, codes, sentence, request, state, signal);
      }
      return;
    }

    // Phonemes first: bad text fails before any other stage.
    const phonemes: PhonemeArtifact[] = [];
    if (request.phonemes !== undefined) {
      phonemes.push(...request.phonemes);
    } else {
      const text = request.text as string;
      const tokenizer = this.#need("tokenizer", "phonemize text");
      state.usedModels.add("tokenizer");
      const language = settings.language;
      if (task !== "tts" && text.trim() === "") {
        // ns / sr without a transcript: the empty text.
        phonemes.push({
          format: PHONEME_ARTIFACT_FORMAT,
          text,
          language: language === "auto" ? "en" : language,
          voice: "",
          ipa: "",
          tokens: [PHONEME_IDS.bos, PHONEME_IDS.eos],
          tokenizer: tokenizer.fingerprint,
        });
      } else {
        // tts speaks sentence by sentence; ns / sr keep the text whole (the output is the reference's length).
        const texts = task === "tts" ? splitSentences(text, language === "auto" ? "en" : language) : [text];
        if (texts.length === 0) throw invalid("text with something to say", "text", text);
        for (const [i, sentence] of texts.entries()) {
          phonemes.push(await timed("phonemize", () => phonemize(sentence, { language, tokenizer, signal })));
          request.onProgress?.({ stage: "phonemize", sentence: i, sentences: texts.length, step: 1, total: 1 });
        }
      }
    }
    const count = phonemes.length;
    const progress = (stage: PipelineStage, sentence: number, step = 1, total = 1, batch?: PipelineProgress["batch"]) =>
      request.onProgress?.({ stage, sentence, sentences: count, step, total, ...(batch ? { batch } : {}) });

    const decoder = this.#requireDecoder();
    state.usedModels.add(decoder.weights.role);
    state.prompt = await timed("prompt", async () => {
      if (request.promptCodes !== undefined) return codesToLevels(request.promptCodes);
      const references = request.reference === undefined ? [] : [request.reference].flat();
      if (references.length === 0) return [];
      const codec = () => {
        state.usedModels.add("codec");
        return this.#need("codec", "encode the voice");
      };
      const voice = await prepareVoice(codec, references as ReferenceInput[], { signal });
      state.referencesAreFiles = voice.fromFiles;
      state.referenceFiles = [...voice.files];
      // ns / sr take the noisy audio whole.
      return preparePrompt(voice.references, task === "tts" ? settings.promptSeconds : 0);
    });
    progress("prompt", 0);
    if (dir !== undefined && state.prompt.length > 0) {
      await writeCodes(join(dir, "prompt.codes.npy"), codesFromLevels(state.prompt));
      state.written.push("prompt.codes.npy", "prompt.codes.npy.json");
    }

    const model = this.#need("lm", "generate");
    state.usedModels.add("lm");
    const baseSeed = settings.seed ?? Math.floor(Math.random() * 2 ** 32);
    state.baseSeed = baseSeed;
    // Rolling context: the last `contextHistory` sentences' phoneme tokens and level-0 codes.
    const spoken: { tokens: readonly number[]; codes: readonly number[] }[] = [];
    const { contextHistory } = settings;
    const batch = this.#sentenceBatch(settings);
    state.sentenceBatch = batch;
    for (const [first, size] of sentenceGroups(count, batch, streaming && settings.sentenceBatch === 0)) {
      const group = phonemes.slice(first, first + size);
      const requests = group.map((artifact, k): BatchRequest => {
        const i = first + k;
        let previous = contextHistory > 0 ? spoken.slice(-contextHistory) : [];
        // The rolling context gives up its oldest sentences where the model's positions would not hold this
        // sentence's text, the prompt, the longest response and the context together.
        const room =
          maxPositions(model) - artifact.tokens.length - (state.prompt[0]?.length ?? 0) - maxResponseFrames(settings);
        const size = (list: typeof previous) => 2 + list.reduce((n, p) => n + p.tokens.length - 2 + p.codes.length, 0);
        while (previous.length > 0 && size(previous) > room) previous = previous.slice(1);
        const history =
          previous.length === 0
            ? undefined
            : {
                // <bos> a … b c </eos>: each earlier text without its </eos><bos> joins, as the texts are joined.
                phonemes: [PHONEME_IDS.bos, ...previous.flatMap((p) => p.tokens.slice(1, -1)), PHONEME_IDS.eos],
                codes: previous.flatMap((p) => p.codes),
              };
        return {
          phonemes: artifact.tokens,
          lang: artifact.language,
          prompt: state.prompt,
          task,
          seed: (baseSeed + i) % 2 ** 32,
          modality: settings.modality,
          sampling: settings.sampling,
          maxDuration: settings.maxDuration,
          maxLevels: settings.maxLevels,
          remask: settings.remask,
          scoring: settings.scoring,
          ...(history ? { history } : {}),
        };
      });
      // The group's sentences together: one batch per len digit, NAR-len step and NAR level — one event each for the
      // batch (its sentences' own AR steps apart).
      const together = group.length > 1 ? { first, count: group.length } : undefined;
      let reported = "";
      const onProgress = (k: number, e: { stage: PipelineStage; step: number; total: number }) => {
        if (!together) return progress(e.stage, first + k, e.step, e.total);
        if (e.stage === "ar") return progress(e.stage, first + k, e.step, e.total, together);
        const key = `${e.stage} ${e.step}`;
        if (key === reported) return;
        reported = key;
        progress(e.stage, first, e.step, e.total, together);
      };
      const results = await timed("generate", () =>
        generateBatch(model, requests, {
          threads: this.#lmThreads(),
          signal,
          onProgress,
          label: (k) => `Sentence ${first + k + 1} of ${count}`,
        }),
      );
      for (const [k, artifact] of group.entries()) {
        const i = first + k;
        const result = results[k] as GenerateResult;
        if (contextHistory > 0) spoken.push({ tokens: artifact.tokens, codes: result.codes[0] as number[] });
        const codes = codesFromLevels(result.codes, {
          text: artifact.text,
          phonemes: artifact.ipa,
          language: artifact.language,
        });
        if (dir !== undefined) {
          const name = String(i + 1).padStart(3, "0");
          await writePhonemeArtifact(join(dir, `${name}.phonemes.json`), artifact);
          state.written.push(`${name}.phonemes.json`);
        }
        const sentence = { index: i, count, text: artifact.text, seed: result.seed };
        yield await this.#decodeSentence(decoder, codes, sentence, request, state, signal);
      }
    }
  }

  /**
   * The sentences a request generates together: as asked, else (0) GPU_SENTENCE_BATCH on a GPU and 1 on the CPU or a
   * software device (lavapipe runs on the CPU, where a batch saves nothing); 1 with a rolling context (each sentence
   * continues from the one before).
   */
  #sentenceBatch(settings: ResolvedSettings): number {
    if (settings.contextHistory > 0) return 1;
    if (settings.sentenceBatch > 0) return settings.sentenceBatch;
    return this.device.kind === "cpu" || this.device.software ? 1 : GPU_SENTENCE_BATCH;
  }

  /** Decode one sentence's codes, write its codes artifact, and make its chunk (with the pause before it). */
  async #decodeSentence(
    decoder: Pick<Decoder, "decode">,
    codes: CodesArtifact,
    sentence: { index: number; count: number; text: string; seed?: number },
    request: SpeechRequest,
    state: RunState,
    signal: AbortSignal,
  ): Promise<SpeechChunk> {
    const { index, count, text, seed } = sentence;
    const audio = await timeStage(state, "decode", () => decoder.decode(codes, { signal }));
    request.onProgress?.({ stage: "decode", sentence: index, sentences: count, step: 1, total: 1 });
    state.sentences.push({ text, ...(seed === undefined ? {} : { seed }), frames: codes.frames });
    const dir = request.artifactsDir;
    if (dir !== undefined) {
      const name = String(index + 1).padStart(3, "0");
      await writeCodes(join(dir, `${name}.codes.npy`), codes);
      state.written.push(`${name}.codes.npy`, `${name}.codes.npy.json`);
    }
    const silence = index > 0 ? Math.round(state.settings.sentencePause * SAMPLE_RATE) : 0;
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

  /** The SHA-256 of a model file, computed once per engine. */
  #checksum(path: string, signal: AbortSignal): Promise<string> {
    let sum = this.#checksums.get(path);
    if (!sum) {
      sum = checksumOf(path, "sha256", signal);
      this.#checksums.set(path, sum);
      sum.catch(() => this.#checksums.delete(path));
    }
    return sum;
  }

  /** The size and SHA-256 of an input file, read now (never cached: an input may change between requests). */
  async #inputChecksum(path: string, state: RunState, signal: AbortSignal): Promise<FileChecksum> {
    const start = performance.now();
    const found = await statRegularFile(path, "Input file", MAX_INPUT_FILE_BYTES);
    let sha256: string;
    try {
      sha256 = await checksumOf(path, "sha256", signal);
    } catch (error) {
      if (error instanceof VallEError) throw error;
      throw fileReadError("Input file", path, error);
    }
    state.timings.checksums = (state.timings.checksums ?? 0) + (performance.now() - start) / 1e3;
    return { sha256, bytes: found.size };
  }

  async #manifest(request: SpeechRequest, state: RunState, signal: AbortSignal): Promise<RunManifest> {
    const models: RunManifest["models"] = {};
    for (const role of ROLES) {
      if (!state.usedModels.has(role)) continue;
      const path = resolve(this.files[role] as string);
      const start = performance.now();
      const sha256 = await this.#checksum(path, signal);
      state.timings.checksums = (state.timings.checksums ?? 0) + (performance.now() - start) / 1e3;
      models[role] = { path, sha256, bytes: (await stat(path)).size };
    }
    const dir = request.artifactsDir as string;
    const absolute = (paths: readonly string[]) => paths.map((p) => (isEspeakReference(p) ? p : resolve(p)));
    const written = (suffix: string) => state.written.filter((f) => f.endsWith(suffix)).map((f) => resolve(dir, f));
    const record = request.record;
    // Inputs as files: the ones the request named, else the artifacts this run wrote from what it was given (a
    // voice that was not all files is replayed from the prompt codes it made).
    let reference: string[] = [];
    let promptCodes: string | undefined;
    if (record?.reference !== undefined || record?.promptCodes !== undefined) {
      reference = record.reference ?? [];
      promptCodes = record.promptCodes;
    } else if (request.promptCodes !== undefined || !state.referencesAreFiles) {
      if (state.prompt.length > 0) promptCodes = join(dir, "prompt.codes.npy");
    } else reference = state.referenceFiles;
    const phonemes = request.phonemes === undefined ? undefined : (record?.phonemes ?? written(".phonemes.json"));
    const responseCodes =
      request.responseCodes === undefined ? undefined : (record?.responseCodes ?? written(".codes.npy"));
    const { settings } = state;
    const inputs: RunManifest["inputs"] = {
      ...(request.text === undefined ? {} : { text: request.text }),
      ...(record?.textFile === undefined ? {} : { textFile: resolve(record.textFile) }),
      reference: absolute(reference),
      ...(promptCodes === undefined ? {} : { promptCodes: resolve(promptCodes) }),
      ...(phonemes === undefined ? {} : { phonemes: absolute(phonemes) }),
      ...(responseCodes === undefined ? {} : { responseCodes: absolute(responseCodes) }),
    };
    // Each input file's size and SHA-256, for replay to check. Prompt codes this run made (from references, or from
    // codes not given as a file) are hashed where it wrote them: the path recorded may be where they will be moved.
    const sum = (path: string) => this.#inputChecksum(path, state, signal);
    const sums = async (paths: readonly string[]) => {
      const out: FileChecksum[] = [];
      for (const path of paths) out.push(await sum(path));
      return out;
    };
    const inputChecksums: InputChecksums = {};
    if (inputs.textFile !== undefined) inputChecksums.textFile = await sum(inputs.textFile);
    if (inputs.reference.length > 0) {
      inputChecksums.reference = [];
      for (const path of inputs.reference)
        inputChecksums.reference.push(isEspeakReference(path) ? null : await sum(path));
    }
    if (inputs.promptCodes !== undefined) {
      const givenAsFile = request.promptCodes !== undefined && record?.promptCodes !== undefined;
      const made = state.written.includes("prompt.codes.npy") && !givenAsFile;
      inputChecksums.promptCodes = await sum(made ? resolve(dir, "prompt.codes.npy") : inputs.promptCodes);
    }
    if (inputs.phonemes !== undefined) inputChecksums.phonemes = await sums(inputs.phonemes);
    if (inputs.responseCodes !== undefined) inputChecksums.responseCodes = await sums(inputs.responseCodes);
    return {
      format: "vall-e.run/1",
      inputs,
      ...(Object.keys(inputChecksums).length === 0 ? {} : { inputChecksums }),
      models,
      options: {
        task: settings.task,
        language: settings.language,
        modality: settings.modality,
        sampling: settings.sampling,
        ...(state.baseSeed === undefined ? {} : { seed: state.baseSeed }),
        maxDuration: settings.maxDuration,
        maxLevels: settings.maxLevels,
        promptSeconds: settings.promptSeconds,
        remask: settings.remask,
        scoring: settings.scoring,
        sentencePause: settings.sentencePause,
        contextHistory: settings.contextHistory,
        sentenceBatch: state.sentenceBatch,
        decoder: this.#decoderName,
      },
      sentences: state.sentences,
      timings: state.timings,
      device: { spec: this.device.spec, name: this.device.name, description: this.device.description },
      versions: { node: process.version, ggml: systemInfo().ggmlVersion },
    };
  }
}

function newState(source: RequestSource, settings: ResolvedSettings): RunState {
  return {
    settings,
    source,
    timings: {},
    written: [],
    sentences: [],
    baseSeed: undefined,
    usedModels: new Set(),
    prompt: [],
    referencesAreFiles: true,
    referenceFiles: [],
    sentenceBatch: 1,
  };
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

/**
 * The sentences generated together, as [first, count] in order: batches of `batch`; with `firstAlone` (a stream
 * whose batch the engine chose) the first sentence alone, so that its audio comes as soon as one sentence's would,
 * then batches of the rest.
 */
export function sentenceGroups(count: number, batch: number, firstAlone: boolean): [number, number][] {
  const groups: [number, number][] = [];
  let first = 0;
  if (firstAlone && batch > 1 && count > 1) {
    groups.push([0, 1]);
    first = 1;
  }
  for (; first < count; first += batch) groups.push([first, Math.min(batch, count - first)]);
  return groups;
}

/** The longest response a sentence may get, in frames (maxDuration seconds). */
function maxResponseFrames(settings: ResolvedSettings): number {
  return Math.round(settings.maxDuration * FRAME_RATE);
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

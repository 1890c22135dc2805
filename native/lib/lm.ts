/**
 * The VALL-E decoder through the native core: a GGUF's weights (memory-mapped, validated) and contexts that hold a
 * KV cache and run evaluations on a worker thread. @vall-e/lm assembles the inputs (embedding rows, positions,
 * masks) and builds LanguageModel on these classes.
 */
import { existsSync } from "node:fs";
import { DisposedError, expectInteger, expectOneOf, expectThreads, invalid, VallEError } from "@vall-e/core";
import {
  binding,
  type NativeLm,
  type NativeLmContext,
  type NativeLmDumpedTensor,
  type NativeLmInfo,
  type NativeLmSequence,
} from "./binding.js";
import { cancellableCall } from "./cancellable.js";
import { type DeviceInfo, nativeIndex, resolveDevice } from "./devices.js";
import { callNative } from "./errors.js";
import { countLive } from "./live.js";

export type LmActivation = "gelu" | "silu";
export type LmInfo = NativeLmInfo;
export type LmSequence = NativeLmSequence;
/**
 * A named intermediate of the last evaluation, `rows` × `columns` f32 (row-major): "inp_embd", per layer i
 * "l<i>.q" / "l<i>.k" (after RoPE, tokens × heads·head_dim), "l<i>.attn_out" / "l<i>.out" (the residual stream
 * after attention / after the MLP), "out_norm" (the normed output rows) and "logits".
 */
export type LmDumpedTensor = NativeLmDumpedTensor;

export interface LmHead {
  /** First row of the output matrix. */
  start: number;
  /** One past the last row. */
  end: number;
}

export interface LmContextOptions {
  /** Tokens one evaluation and the KV cache may hold (default 4096). */
  contextSize?: number;
  /** Threads (default: physical cores). */
  threads?: number;
  /** KV cache precision: "f16" (default, half the memory) or "f32" (cached steps equal uncached evaluation). */
  cacheType?: "f16" | "f32";
}

function checkSequence(sequence: LmSequence, index: number, vocab: number): void {
  const name = `sequences[${index}]`;
  if (typeof sequence !== "object" || sequence === null) throw invalid("a sequence object", name, sequence);
  const { rowOffsets, rowIds, positions, outputs } = sequence;
  for (const [key, value] of [
    ["rowOffsets", rowOffsets],
    ["rowIds", rowIds],
    ["positions", positions],
  ] as const) {
    if (!(value instanceof Int32Array)) throw invalid("an Int32Array", `${name}.${key}`, value);
  }
  const tokens = positions.length;
  if (tokens === 0) throw invalid("at least one token", `${name}.positions`, positions);
  if (rowOffsets.length !== tokens + 1 || rowOffsets[0] !== 0 || rowOffsets[tokens] !== rowIds.length) {
    throw invalid(`rowOffsets of length ${tokens + 1}, from 0 to rowIds.length`, `${name}.rowOffsets`, rowOffsets);
  }
  for (let i = 0; i < tokens; i++) {
    const count = (rowOffsets[i + 1] as number) - (rowOffsets[i] as number);
    if (count < 1 || count > 64) throw invalid("1 to 64 embedding rows per token", `${name} token ${i}`, count);
  }
  for (let i = 0; i < rowIds.length; i++) {
    const row = rowIds[i] as number;
    if (row < 0 || row >= vocab) throw invalid(`embedding rows from 0 to ${vocab - 1}`, `${name}.rowIds[${i}]`, row);
  }
  for (let i = 0; i < tokens; i++) {
    const position = positions[i] as number;
    if (position < 0 || position > 2 ** 24)
      throw invalid(`positions from 0 to ${2 ** 24}`, `${name}.positions[${i}]`, position);
  }
  expectInteger(outputs, `${name}.outputs`, 1, tokens);
}

/** One KV cache and compute buffers; one call at a time (calls queue). */
export class LmContext implements AsyncDisposable {
  readonly contextSize: number;
  /** The KV cache's precision. */
  readonly cacheType: "f16" | "f32";
  /** The threads it computes with (undefined: the default). */
  readonly threads: number | undefined;
  readonly #model: LmModel;
  #native: NativeLmContext | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    native: NativeLmContext,
    model: LmModel,
    contextSize: number,
    cacheType: "f16" | "f32" = "f16",
    threads?: number,
  ) {
    this.#native = native;
    this.#model = model;
    this.contextSize = contextSize;
    this.cacheType = cacheType;
    this.threads = threads;
    countLive("lmContexts", 1);
  }

  /** Tokens in the KV cache. */
  get cacheLength(): number {
    return this.#handle().cacheLength;
  }

  /**
   * Evaluate independent sequences in one graph (block-diagonal attention), without the cache. Resolves to
   * Σ outputs × (head.end − head.start) logits, sequence after sequence.
   */
  async forward(
    sequences: LmSequence[],
    head: LmHead,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Float32Array> {
    this.#handle();
    if (!Array.isArray(sequences) || sequences.length === 0 || sequences.length > 64) {
      throw invalid("an array of 1 to 64 sequences", "sequences", sequences);
    }
    for (const [i, sequence] of sequences.entries()) checkSequence(sequence, i, this.#model.info.nVocab);
    this.#checkHead(head);
    const tokens = sequences.reduce((sum, s) => sum + s.positions.length, 0);
    if (tokens > this.contextSize) {
      throw new VallEError(
        "ERR_CONTEXT_OVERFLOW",
        `The sequences hold ${tokens} tokens, more than the context size ${this.contextSize}`,
      );
    }
    return this.#finite(
      await this.#run(options.signal, (native) => native.forward(sequences, head.start, head.end)),
      head,
    );
  }

  /** Append a causal sequence after the cached tokens (prefill or one step); logits for its last `outputs` tokens. */
  async append(
    sequence: LmSequence,
    head: LmHead,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Float32Array> {
    checkSequence(sequence, 0, this.#model.info.nVocab);
    this.#checkHead(head);
    const native = this.#handle();
    if (native.cacheLength + sequence.positions.length > this.contextSize) {
      throw new VallEError(
        "ERR_CONTEXT_OVERFLOW",
        `The cache holds ${native.cacheLength} tokens; ${sequence.positions.length} more exceed the context size ${this.contextSize}`,
      );
    }
    return this.#finite(
      await this.#run(options.signal, (n) => n.cacheAppend({ ...sequence, causal: true }, head.start, head.end)),
      head,
    );
  }

  /**
   * Make this context's cache a copy of `source`'s (its tokens and length), e.g. one beam-search hypothesis
   * continuing another. Same model and cache type; this context must be large enough. Waits for both contexts' calls
   * in flight.
   */
  async copyCacheFrom(source: LmContext): Promise<void> {
    if (!(source instanceof LmContext)) throw invalid("an LmContext", "source", source);
    const native = this.#handle();
    const other = source.#handle();
    if (source.#model !== this.#model)
      throw invalid("a context of the same model", "source", "another model's context");
    if (source.cacheLength > this.contextSize) {
      throw new VallEError(
        "ERR_CONTEXT_OVERFLOW",
        `The source cache holds ${source.cacheLength} tokens, more than the context size ${this.contextSize}`,
      );
    }
    await Promise.all([this.#queue, source.#queue]);
    native.cacheCopyFrom(other);
  }

  /** Forget the cached tokens (waits for the call in flight). */
  async clearCache(): Promise<void> {
    const native = this.#handle();
    await this.#queue;
    native.cacheClear();
  }

  /**
   * Debugging: while on, every evaluation keeps copies of its named intermediates (see {@link LmDumpedTensor}) for
   * {@link dumped}. Costs memory (the graph cannot reuse those buffers); off by default.
   */
  async setDebugDump(enabled: boolean): Promise<void> {
    if (typeof enabled !== "boolean") throw invalid("a boolean", "enabled", enabled);
    const native = this.#handle();
    await this.#queue;
    native.setDump(enabled);
  }

  /** The named intermediates of the last evaluation, in graph order (empty unless the debug dump is on). */
  async dumped(): Promise<LmDumpedTensor[]> {
    const native = this.#handle();
    await this.#queue;
    return native.dumped();
  }

  async dispose(): Promise<void> {
    const native = this.#native;
    if (!native) return;
    this.#native = undefined;
    await this.#queue;
    native.dispose();
    countLive("lmContexts", -1);
    this.#model.forget(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #checkHead(head: LmHead): void {
    const vocab = this.#model.info.nVocab;
    if (
      typeof head !== "object" ||
      head === null ||
      !Number.isInteger(head.start) ||
      !Number.isInteger(head.end) ||
      head.start < 0 ||
      head.end > vocab ||
      head.end <= head.start
    ) {
      throw invalid(`a head range { start, end } within [0, ${vocab})`, "head", head);
    }
  }

  /**
   * Logits must be finite: NaN or Inf come from weights that hold them (a damaged or badly converted file), and would
   * otherwise be sampled into garbage without a word. Checking the outputs costs a pass over a few thousand values.
   */
  #finite(logits: Float32Array, head: LmHead): Float32Array {
    const width = head.end - head.start;
    for (let i = 0; i < logits.length; i++) {
      if (!Number.isFinite(logits[i] as number)) {
        throw new VallEError(
          "ERR_MODEL_NUMERICS",
          `${this.#model.path} gave a non-finite logit (${logits[i]}, output row ${Math.floor(i / width)}, column ${head.start + (i % width)}): its weights hold NaN or Inf values (a damaged or badly converted model file)`,
        );
      }
    }
    return logits;
  }

  #handle(): NativeLmContext {
    if (!this.#native) throw new DisposedError("LmContext");
    return this.#native;
  }

  #run<T>(signal: AbortSignal | undefined, call: (native: NativeLmContext) => Promise<T>): Promise<T> {
    const native = this.#handle();
    const result = this.#queue.then(() =>
      cancellableCall(
        signal,
        "The LM evaluation",
        () => native.cancel(),
        () => call(native),
      ),
    );
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** A VALL-E GGUF's decoder weights. */
export class LmModel implements AsyncDisposable {
  readonly path: string;
  readonly info: LmInfo;
  readonly activation: LmActivation;
  /** Whether the logits include the file's per-head output biases (present and not turned off). */
  readonly headBiases: boolean;
  /** The device it runs on. */
  readonly device: DeviceInfo;
  #native: NativeLm | undefined;
  readonly #contexts = new Set<LmContext>();

  private constructor(
    native: NativeLm,
    path: string,
    activation: LmActivation,
    headBiases: boolean,
    device: DeviceInfo,
  ) {
    this.#native = native;
    this.device = device;
    this.path = path;
    this.info = native.info;
    this.activation = activation;
    this.headBiases = headBiases && native.info.hasOutputBias;
    countLive("lmModels", 1);
  }

  /**
   * Load and validate a VALL-E GGUF. `headBiases` (default true): add the per-head classifier biases the file holds
   * (tensor `vall_e.output_bias`, F32 [n_vocab], each head's bias at its output rows) to the logits. `device`
   * (default "cpu"): where the weights, KV caches and graphs live — "auto", "cpu", "vulkan[:N]", "cuda[:N]"
   * (resolveDevice); the chosen one is `model.device`.
   */
  static async load(
    path: string,
    options: { activation?: LmActivation; headBiases?: boolean; device?: string } = {},
  ): Promise<LmModel> {
    if (typeof path !== "string" || path === "") throw invalid("a file path", "path", path);
    const activation = expectOneOf(options.activation ?? "gelu", "activation", ["gelu", "silu"] as const);
    const headBiases = options.headBiases ?? true;
    if (typeof headBiases !== "boolean") throw invalid("a boolean", "headBiases", headBiases);
    if (!existsSync(path)) throw new VallEError("ERR_FILE_NOT_FOUND", `Model file not found: ${path}`);
    const device = resolveDevice(options.device ?? "cpu");
    try {
      const native = await binding().loadLm(
        path,
        activation === "silu" ? 1 : 0,
        headBiases ? 1 : 0,
        nativeIndex(device),
      );
      return new LmModel(native, path, activation, headBiases, device);
    } catch (error) {
      if ((error as { code?: unknown }).code === "VALL_E_ERR_INVALID_ARGUMENT") {
        throw new VallEError("ERR_MODEL_FORMAT", (error as Error).message, { cause: error });
      }
      throw error;
    }
  }

  async createContext(options: LmContextOptions = {}): Promise<LmContext> {
    const native = this.#handle();
    const size = expectInteger(options.contextSize ?? 4096, "contextSize", 1, 2 ** 20);
    const cacheType = expectOneOf(options.cacheType ?? "f16", "cacheType", ["f16", "f32"] as const) === "f32" ? 0 : 1;
    const context = new LmContext(
      await callNative(() => native.createContext(size, expectThreads(options.threads), cacheType)),
      this,
      size,
      cacheType === 0 ? "f32" : "f16",
      options.threads,
    );
    this.#contexts.add(context);
    return context;
  }

  /** Contexts created and not yet disposed. */
  get contextCount(): number {
    return this.#contexts.size;
  }

  /** Free the weights, disposing the model's contexts first. Idempotent. */
  async dispose(): Promise<void> {
    const native = this.#native;
    if (!native) return;
    this.#native = undefined;
    for (const context of [...this.#contexts]) await context.dispose();
    native.dispose();
    countLive("lmModels", -1);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** @internal a context was disposed. */
  forget(context: LmContext): void {
    this.#contexts.delete(context);
  }

  #handle(): NativeLm {
    if (!this.#native) throw new DisposedError("LmModel");
    return this.#native;
  }
}

/** ggml types by name, for quantize(). */
export const GGML_TYPES = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  BF16: 30,
} as const;
export type GgmlTypeName = keyof typeof GGML_TYPES;

/** ggml's own conversion of rows × perRow values to a type (for tools that write GGUF files). */
export async function quantize(
  values: Float32Array,
  type: GgmlTypeName,
  rows: number,
  perRow: number,
): Promise<Uint8Array> {
  const id = GGML_TYPES[type];
  if (id === undefined) throw invalid(`one of ${Object.keys(GGML_TYPES).join(", ")}`, "type", type);
  return callNative(() => binding().quantize(values, id, rows, perRow));
}

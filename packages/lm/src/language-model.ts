/**
 * The VALL-E language model: a GGUF loaded and checked (the vocabulary's layout recovered and compared with the
 * export's, the model profile read from `vall_e.*` keys or given), contexts that evaluate assembled inputs, and the
 * incremental (KV-cached) calls the AR and len passes use.
 */

import { stat } from "node:fs/promises";
import { gguf } from "@huggingface/gguf";
import { expectOneOf, invalid, statRegularFile, VallEError } from "@vall-e/core";
import {
  type DeviceInfo,
  type LmContext,
  type LmContextOptions,
  type LmDumpedTensor,
  type LmInfo,
  LmModel,
} from "@vall-e/native";
import type { EvaluateOptions, Evaluator } from "./evaluator.js";
import {
  type AssembledInput,
  assembleInput,
  type HeadRange,
  type InputSpec,
  type ModelProfile,
  REFERENCE_PROFILE,
  toSequence,
} from "./inputs/assemble.js";
import { type RowRange, TASKS } from "./model/layout.js";
import { type Layout, recoverLayout } from "./model/vocabulary.js";

export interface LanguageModelOptions {
  /** Overrides of the profile the file declares (vall_e.* keys) or the reference's. */
  profile?: Partial<ModelProfile>;
  /**
   * Where the weights, KV caches and graphs live (default "cpu"): "auto" (a real GPU when there is one, else the
   * CPU), "cpu", "vulkan[:N]", "cuda[:N]" — @vall-e/native's resolveDevice. The choice is `model.device`.
   */
  device?: string;
}

const PROFILE_KEYS = {
  activation: ["vall_e.ffn_activation", ["gelu", "silu"]],
  positions: ["vall_e.position_ids", ["per-segment", "unified"]],
  narAttention: ["vall_e.nar_attention", ["non-causal", "causal"]],
  headBiases: ["vall_e.head_biases", ["apply", "ignore"]],
} as const;

export type { EvaluateOptions } from "./evaluator.js";

export class LanguageModel implements AsyncDisposable {
  readonly path: string;
  readonly layout: Layout;
  readonly profile: ModelProfile;
  /**
   * The tasks this model can generate: the file's `vall_e.tasks` (array of strings) when it declares them, else
   * tts, ns and sr (the published models' training tasks; the vocabulary holds every task token either way).
   */
  readonly tasks: readonly string[];
  readonly #native: LmModel;

  private constructor(native: LmModel, path: string, layout: Layout, profile: ModelProfile, tasks: readonly string[]) {
    this.#native = native;
    this.tasks = tasks;
    this.path = path;
    this.layout = layout;
    this.profile = profile;
  }

  /**
   * Load a VALL-E GGUF: its vocabulary must carry the names `vall_e/export.py` `convert_to_hf_llama` writes; every
   * tensor is validated.
   */
  static async load(path: string, options: LanguageModelOptions = {}): Promise<LanguageModel> {
    if (typeof path !== "string" || path === "") throw invalid("a file path", "path", path);
    await statRegularFile(path, "Model file", 2 ** 36); // a FIFO or a device is refused, not read
    let metadata: Record<string, unknown>;
    let dataOffset: bigint;
    try {
      const parsed = await gguf(path, { allowLocalFile: true });
      metadata = parsed.metadata as unknown as Record<string, unknown>;
      dataOffset = parsed.tensorDataOffset;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT")
        throw new VallEError("ERR_FILE_NOT_FOUND", `Model file not found: ${path}`, { cause: error });
      throw new VallEError("ERR_MODEL_FORMAT", `${path} is not a readable GGUF file (${(error as Error).message})`, {
        cause: error,
      });
    }
    // The parser reads zeros past the end of a cut file: a header longer than the file means it was truncated (the
    // native loader checks every tensor's data against the file's size).
    const size = (await stat(path)).size;
    if (dataOffset > BigInt(size)) {
      throw new VallEError(
        "ERR_MODEL_FORMAT",
        `${path} is truncated: its GGUF header runs to byte ${dataOffset}, the file has ${size} bytes`,
      );
    }
    if (metadata["general.architecture"] !== "llama") {
      throw new VallEError(
        "ERR_MODEL_FORMAT",
        `${path}: architecture is ${JSON.stringify(metadata["general.architecture"])}, expected "llama" (a VALL-E export)`,
      );
    }
    const tokens = metadata["tokenizer.ggml.tokens"];
    if (!Array.isArray(tokens))
      throw new VallEError("ERR_MODEL_FORMAT", `${path}: no tokenizer.ggml.tokens vocabulary`);
    const layout = recoverLayout(tokens as string[], path);
    const profile: ModelProfile = { ...REFERENCE_PROFILE };
    for (const [field, [key, allowed]] of Object.entries(PROFILE_KEYS) as [
      keyof ModelProfile,
      readonly [string, readonly string[]],
    ][]) {
      const declared = metadata[key];
      if (declared !== undefined)
        (profile as unknown as Record<string, string>)[field] = expectOneOf(declared, key, allowed);
      const override = options.profile?.[field];
      if (override !== undefined)
        (profile as unknown as Record<string, string>)[field] = expectOneOf(override, `profile.${field}`, allowed);
    }
    const declaredTasks = metadata["vall_e.tasks"];
    if (
      declaredTasks !== undefined &&
      !(Array.isArray(declaredTasks) && declaredTasks.every((t) => (TASKS as readonly unknown[]).includes(t)))
    ) {
      throw new VallEError(
        "ERR_MODEL_FORMAT",
        `${path}: vall_e.tasks must be an array of task names (${TASKS.join(", ")}), got ${JSON.stringify(declaredTasks)}`,
      );
    }
    const tasks = (declaredTasks as string[] | undefined) ?? ["tts", "ns", "sr"];
    const native = await LmModel.load(path, {
      activation: profile.activation,
      headBiases: profile.headBiases === "apply",
      ...(options.device === undefined ? {} : { device: options.device }),
    });
    return new LanguageModel(native, path, layout, profile, tasks);
  }

  get info(): LmInfo {
    return this.#native.info;
  }

  /** The device the model runs on. */
  get device(): DeviceInfo {
    return this.#native.device;
  }

  /** Contexts created and not yet disposed. */
  get contextCount(): number {
    return this.#native.contextCount;
  }

  /** Whether the logits include per-head output biases (the file holds them and the profile applies them). */
  get headBiases(): boolean {
    return this.#native.headBiases;
  }

  async createContext(options: LmContextOptions = {}): Promise<LanguageModelContext> {
    return new LanguageModelContext(this, await this.#native.createContext(options));
  }

  /** Assemble an input with this model's profile. */
  assemble(spec: InputSpec, options: { cfgNull?: boolean } = {}): AssembledInput {
    return assembleInput(spec, this.profile, options);
  }

  async dispose(): Promise<void> {
    await this.#native.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

function sameHead(a: RowRange, b: RowRange): boolean {
  return a.start === b.start && a.end === b.end;
}

/** A context: a KV cache and compute buffers; one evaluation at a time. */
export class LanguageModelContext implements Evaluator, AsyncDisposable {
  readonly model: LanguageModel;
  readonly #native: LmContext;
  #cachedHead: HeadRange | undefined;

  constructor(model: LanguageModel, native: LmContext) {
    this.model = model;
    this.#native = native;
  }

  get tasks(): readonly string[] {
    return this.model.tasks;
  }

  get profile(): ModelProfile {
    return this.model.profile;
  }

  /** Assemble an input with the model's profile. */
  assemble(spec: InputSpec, options: { cfgNull?: boolean } = {}): AssembledInput {
    return this.model.assemble(spec, options);
  }

  /** A new context of the same model, size, cache precision and threads. */
  async sibling(): Promise<LanguageModelContext> {
    return this.model.createContext(this.options);
  }

  get contextSize(): number {
    return this.#native.contextSize;
  }

  /** Options to make another context like this one (same size, cache precision and threads). */
  get options(): LmContextOptions {
    const { contextSize, cacheType, threads } = this.#native;
    return { contextSize, cacheType, ...(threads === undefined ? {} : { threads }) };
  }

  /**
   * Evaluate assembled inputs together (e.g. a CFG pair), without the cache; they must share a head. Resolves to the
   * logits of each input's output rows over the head, input after input ([Σ outputs × head size]).
   */
  async forward(inputs: AssembledInput[], options: EvaluateOptions = {}): Promise<Float32Array> {
    if (!Array.isArray(inputs) || inputs.length === 0) throw invalid("at least one assembled input", "inputs", inputs);
    const head = (inputs[0] as AssembledInput).head;
    if (!inputs.every((input) => sameHead(input.head, head)))
      throw invalid("inputs that share one head", "inputs", inputs);
    return this.#native.forward(inputs.map(toSequence), head, options);
  }

  /** Assemble and evaluate one input. */
  async evaluate(spec: InputSpec, options: EvaluateOptions & { cfgNull?: boolean } = {}): Promise<Float32Array> {
    return this.forward([this.model.assemble(spec, options.cfgNull ? { cfgNull: true } : {})], options);
  }

  /** Start a causal pass with the KV cache: clears it, evaluates the input, keeps its keys and values. */
  async prefill(input: AssembledInput, options: EvaluateOptions = {}): Promise<Float32Array> {
    if (!input.causal) throw invalid("a causal input (ar or len)", "input.causal", input.causal);
    await this.#native.clearCache();
    this.#cachedHead = input.head;
    return this.#native.append(toSequence({ ...input, outputs: 1 }), input.head, options);
  }

  /** One more token after the cached ones: the embedding rows it sums and its position id. */
  async step(rows: readonly number[], position: number, options: EvaluateOptions = {}): Promise<Float32Array> {
    const head = this.#cachedHead;
    if (!head || this.#native.cacheLength === 0)
      throw new VallEError("ERR_INVALID_STATE", "step() needs a prefill() first");
    return this.#native.append(
      toSequence({ rows: [[...rows]], positions: [position], causal: true, outputs: 1, head }),
      head,
      options,
    );
  }

  /** Tokens in the KV cache. */
  get cacheLength(): number {
    return this.#native.cacheLength;
  }

  /**
   * Continue from `source`'s cache: its cached tokens (keys and values) and head become this context's, so step()
   * goes on from there — one beam-search hypothesis branching from another.
   */
  async copyCacheFrom(source: Evaluator): Promise<void> {
    if (!(source instanceof LanguageModelContext)) throw invalid("a LanguageModelContext", "source", source);
    await this.#native.copyCacheFrom(source.#native);
    this.#cachedHead = source.#cachedHead;
  }

  /**
   * Debugging: while on, each evaluation keeps its named intermediates ("inp_embd", "l<i>.q", "l<i>.k",
   * "l<i>.attn_out", "l<i>.out", "out_norm", "logits") for {@link dumped}, to find the first layer where two
   * implementations diverge.
   */
  async setDebugDump(enabled: boolean): Promise<void> {
    await this.#native.setDebugDump(enabled);
  }

  /** The named intermediates of the last evaluation (empty unless the debug dump is on). */
  async dumped(): Promise<LmDumpedTensor[]> {
    return this.#native.dumped();
  }

  async dispose(): Promise<void> {
    await this.#native.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

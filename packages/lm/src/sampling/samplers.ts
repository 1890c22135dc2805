/**
 * The sampler catalogue of the reference (`vall_e/samplers.py`, applied by `vall_e/models/base.py` `Base.sample`), one
 * pure function per sampler over one row of logits: each returns a new Float64Array (filtered entries are −∞) and
 * leaves its input alone. `sampleRow` applies them in the reference's order. Deliberate differences from the reference,
 * each a bug there (`vall_e/samplers.py`):
 * - top-nσ takes σ over the finite logits (the reference's std over a row that earlier filters set to −∞ is NaN,
 *   which filters every token);
 * - the repetition penalty also applies when exactly one token precedes (the reference then penalises nothing);
 * - min-p keeps the 32 highest logits, as the reference, but never more than the row holds.
 */
import type { Rng } from "./rng.js";

export type Logits = ArrayLike<number>;

function copy(logits: Logits): Float64Array {
  return Float64Array.from(logits as ArrayLike<number>);
}

function maxOf(values: Logits): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > max) max = values[i] as number;
  return max;
}

/** Probabilities of a row (−∞ entries get 0). */
export function softmax(logits: Logits): Float64Array {
  const max = maxOf(logits);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** Index of the largest logit (the first of equals). */
export function argmax(logits: Logits): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

/** logits ÷ T (T > 0; T ≤ 0 means greedy selection and leaves the logits alone). */
export function temperature(logits: Logits, t: number): Float64Array {
  const out = copy(logits);
  if (t > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / t;
  return out;
}

/**
 * Dynamic temperature: with pmax the largest probability, T' = T − (T − Tmin) / (1 + e^(−10·(pmax − 0.5)));
 * logits ÷ T'. A confident row gets a temperature near Tmin, a flat one near T.
 */
export function dynamicTemperature(logits: Logits, t: number, tMin: number): Float64Array {
  const max = maxOf(logits);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  const pMax = 1 / sum;
  const effective = t - (t - tMin) / (1 + Math.exp(-10 * (pMax - 0.5)));
  return temperature(logits, effective);
}

/** Keep the logits ≥ the k-th largest (k clamped to [1, V]); k ≤ 0 keeps all. */
export function topK(logits: Logits, k: number): Float64Array {
  const out = copy(logits);
  if (k <= 0) return out;
  const kth = [...out].sort((a, b) => b - a)[Math.min(Math.max(1, k), out.length) - 1] as number;
  for (let i = 0; i < out.length; i++) if ((out[i] as number) < kth) out[i] = Number.NEGATIVE_INFINITY;
  return out;
}

/**
 * Nucleus: sort descending, accumulate probabilities, drop the tokens after the cumulative sum first exceeds p (the
 * token that crosses p is kept; so is the most likely one). p ≥ 1 keeps all.
 */
export function topP(logits: Logits, p: number): Float64Array {
  const out = copy(logits);
  if (p >= 1) return out;
  const probs = softmax(out);
  const order = Array.from(out.keys()).sort((a, b) => (out[b] as number) - (out[a] as number) || a - b);
  let cumulative = 0;
  let removing = false;
  for (const index of order) {
    if (removing) out[index] = Number.NEGATIVE_INFINITY;
    cumulative += probs[index] as number;
    if (cumulative > p) removing = true;
  }
  return out;
}

/** Min-p: drop tokens whose probability is below p × the largest, but always keep the `keep` (32) highest logits. */
export function minP(logits: Logits, p: number, keep = 32): Float64Array {
  const out = copy(logits);
  if (p <= 0) return out;
  const probs = softmax(out);
  const threshold = p * maxOf(probs);
  const kept = new Set(
    Array.from(out.keys())
      .sort((a, b) => (out[b] as number) - (out[a] as number) || a - b)
      .slice(0, keep),
  );
  for (let i = 0; i < out.length; i++) {
    if ((probs[i] as number) < threshold && !kept.has(i)) out[i] = Number.NEGATIVE_INFINITY;
  }
  return out;
}

/** Top-nσ: keep logits ≥ max − n·σ, σ the Bessel-corrected standard deviation of the finite logits. */
export function topNSigma(logits: Logits, n = 1): Float64Array {
  const out = copy(logits);
  const finite = Array.from(out).filter(Number.isFinite);
  if (finite.length < 2) return out;
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sigma = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1));
  const floor = maxOf(out) - n * sigma;
  for (let i = 0; i < out.length; i++) if ((out[i] as number) < floor) out[i] = Number.NEGATIVE_INFINITY;
  return out;
}

/**
 * Repetition penalty: for each previous token at index i (distance d = previous.length − i), its logit is divided by
 * factor · d^decay — once per occurrence, so repeats compound; no sign handling (a negative logit moves up), as the
 * reference. Tokens outside the row are ignored.
 */
export function repetitionPenalty(
  logits: Logits,
  previous: readonly number[],
  factor: number,
  decay = 0,
): Float64Array {
  const out = copy(logits);
  if (factor === 1) return out;
  previous.forEach((token, i) => {
    if (token < 0 || token >= out.length) return;
    const distance = previous.length - i;
    out[token] = (out[token] as number) / (factor * distance ** decay);
  });
  return out;
}

/** Length penalty (AR): the stop token's logit ÷ (length + 1)^factor, length = tokens generated so far. */
export function lengthPenalty(logits: Logits, length: number, factor: number, stop: number): Float64Array {
  const out = copy(logits);
  if (factor !== 0 && stop >= 0 && stop < out.length) out[stop] = (out[stop] as number) / (length + 1) ** factor;
  return out;
}

/**
 * DRY, as the reference computes it (`vall_e/samplers.py` `dry_sampling`; not the textbook variant): for each previous
 * position i, m = 1 + the number of consecutive matches between the tokens before i and the tokens before the last one
 * (capped at max(allowed, 50)); per token the largest m is kept. Then, in first-seen order,
 * multiplier · base^(m − allowed) is subtracted from each token's logit, stopping at the first token whose m is below
 * `allowed`.
 */
export function dry(
  logits: Logits,
  previous: readonly number[],
  multiplier: number,
  base = 1.75,
  allowed = 2,
): Float64Array {
  const out = copy(logits);
  if (multiplier <= 0 || previous.length === 0) return out;
  const cap = Math.max(allowed, 50);
  const last = previous.length - 1;
  const lengths = new Map<number, number>();
  for (let i = 0; i < previous.length; i++) {
    let m = 1;
    while (m <= cap && i - m >= 0 && last - m >= 0 && i - m !== last - m && previous[i - m] === previous[last - m]) m++;
    m = Math.min(m, cap);
    const token = previous[i] as number;
    lengths.set(token, Math.max(lengths.get(token) ?? 0, m));
  }
  for (const [token, m] of lengths) {
    if (m < allowed) break;
    if (token >= 0 && token < out.length) out[token] = (out[token] as number) - multiplier * base ** (m - allowed);
  }
  return out;
}

/** A categorical draw from probabilities (one rng.next()). */
export function categorical(probs: Logits, rng: Rng): number {
  const u = rng.next();
  let cumulative = 0;
  let lastPositive = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i] as number;
    if (p <= 0) continue;
    lastPositive = i;
    cumulative += p;
    if (u < cumulative) return i;
  }
  return lastPositive; // rounding left u past the sum
}

/**
 * VALL-E 2's Repetition Aware Sampling: when the sampled token makes up at least `ratio` of the last `window`
 * tokens, draw again from the unfiltered distribution (softmax of the raw logits at the same temperature).
 */
export interface RepetitionAware {
  window: number;
  ratio: number;
}

export interface SamplerOptions {
  /** 0 or less: greedy (argmax). */
  temperature: number;
  /** Dynamic temperature's lower end; applies when ≥ 0 and |T − Tmin| ≥ 0.001. */
  minTemperature: number;
  topK: number;
  topP: number;
  minP: number;
  /** Top-nσ's n; 0 turns it off. */
  topNSigma: number;
  repetitionPenalty: number;
  repetitionPenaltyDecay: number;
  /** AR only: penalises the stop token with the output's length. */
  lengthPenalty: number;
  dryMultiplier: number;
  dryBase: number;
  dryAllowedLength: number;
  /** Off when undefined. */
  repetitionAware?: RepetitionAware | undefined;
  /** Mirostat selection (AR; needs SampleContext.mirostat); off when undefined. */
  mirostat?: { tau: number; eta: number } | undefined;
}

export interface SampleContext {
  /** Tokens before this one (AR: generated so far; NAR: the previous level's token at the earlier positions). */
  previous?: readonly number[];
  /** The stop token's index in the row, for the length penalty (AR: 1024). */
  stop?: number;
  rng: Rng;
  /** Mirostat's running state across the steps of one sequence. */
  mirostat?: MirostatState;
}

export interface Sampled {
  token: number;
  /** softmax of the processed logits at the chosen token (the reference's `scores`). */
  score: number;
}

/** The processed logits of one row, in `vall_e/models/base.py` `Base.sample`'s order (repetition penalty … DRY). */
export function processLogits(row: Logits, options: SamplerOptions, context: Omit<SampleContext, "rng">): Float64Array {
  const previous = context.previous ?? [];
  let logits = copy(row);
  if (options.repetitionPenalty !== 1 && previous.length > 0)
    logits = repetitionPenalty(logits, previous, options.repetitionPenalty, options.repetitionPenaltyDecay);
  if (options.lengthPenalty !== 0 && context.stop !== undefined)
    logits = lengthPenalty(logits, previous.length, options.lengthPenalty, context.stop);
  if (options.minP > 0) logits = minP(logits, options.minP);
  if (options.topK > 0) logits = topK(logits, options.topK);
  if (options.topP < 1) logits = topP(logits, options.topP);
  const tMin = options.minTemperature < 0 ? options.temperature : options.minTemperature;
  if (Math.abs(options.temperature - tMin) >= 0.001) logits = dynamicTemperature(logits, options.temperature, tMin);
  else logits = temperature(logits, options.temperature);
  if (options.topNSigma > 0) logits = topNSigma(logits, options.topNSigma);
  if (options.dryMultiplier > 0 && previous.length > 0)
    logits = dry(logits, previous, options.dryMultiplier, options.dryBase, options.dryAllowedLength);
  return logits;
}

/** Choose one token from a row of logits with the configured samplers. */
export function sampleRow(row: Logits, options: SamplerOptions, context: SampleContext): Sampled {
  const logits = processLogits(row, options, context);
  const probs = softmax(logits);
  let token: number;
  if (options.temperature <= 0) token = argmax(logits);
  else if (options.mirostat && context.mirostat)
    token = mirostat(logits, options.mirostat.tau, options.mirostat.eta, context.mirostat, context.rng);
  else token = categorical(probs, context.rng);
  const ras = options.repetitionAware;
  const previous = context.previous ?? [];
  if (ras && options.temperature > 0 && previous.length > 0) {
    const recent = previous.slice(-ras.window);
    const repeats = recent.filter((t) => t === token).length;
    if (repeats / ras.window >= ras.ratio)
      token = categorical(softmax(temperature(row, options.temperature)), context.rng);
  }
  return { token, score: probs[token] as number };
}

export interface MirostatState {
  /** The running maximum surprise μ (starts at 2τ). */
  mu: number;
}

/**
 * Mirostat (v1) selection: estimate the Zipf exponent ŝ from the 100 most likely tokens, choose
 * k = ((ε · 2^μ) / (1 − N^−ε))^(1/ŝ) with ε = ŝ − 1, draw from the k most likely, then μ ← μ − η·(surprise − τ) with
 * surprise = −log₂ p(token). The reference builds this sampler but never calls it (and would start μ at 2η); here it
 * is a selection rule of its own, starting at μ = 2τ. Returns the token; updates `state`.
 */
export function mirostat(logits: Logits, tau: number, eta: number, state: MirostatState, rng: Rng): number {
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  const m = Math.min(100, order.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < m - 1; i++) {
    const p0 = probs[order[i] as number] as number;
    const p1 = probs[order[i + 1] as number] as number;
    if (!(p0 > 0 && p1 > 0)) break;
    const t = Math.log((i + 2) / (i + 1));
    num += t * Math.log(p0 / p1);
    den += t * t;
  }
  const s = den > 0 ? num / den : 1;
  const eps = s - 1;
  const n = order.length;
  const k = Math.abs(eps) < 1e-9 ? n : Math.round(((eps * 2 ** state.mu) / (1 - n ** -eps)) ** (1 / s));
  const keep = order.slice(0, Math.min(Math.max(1, Number.isFinite(k) ? k : n), n));
  let total = 0;
  for (const i of keep) total += probs[i] as number;
  let u = rng.next() * total;
  let token = keep[keep.length - 1] as number;
  for (const i of keep) {
    u -= probs[i] as number;
    if (u < 0) {
      token = i;
      break;
    }
  }
  const surprise = -Math.log2((probs[token] as number) / total);
  state.mu -= eta * (surprise - tau);
  return token;
}

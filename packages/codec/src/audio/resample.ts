/**
 * Sample-rate conversion with libsamplerate (its WebAssembly build, best-quality sinc). The output has
 * ceil(n · to / from) samples, as torchaudio's resample (the reference's) gives.
 */
import libsamplerate from "@alexanderolsen/libsamplerate-js";
import { invalid } from "@vall-e/core";

const { create, ConverterType } = libsamplerate;

export async function resample(samples: Float32Array, from: number, to: number): Promise<Float32Array> {
  if (!Number.isInteger(from) || from < 1 || from > 192_000) {
    throw invalid("an integer sample rate from 1 to 192000 Hz", "from", from);
  }
  if (!Number.isInteger(to) || to < 1) throw invalid("a positive integer sample rate", "to", to);
  if (from === to) return samples;
  const length = Math.ceil((samples.length * to) / from);
  // libsamplerate holds back its filter's tail: feed silence after the signal and keep the first `length` samples.
  const tail = Math.ceil(from / to) * 512;
  const input = new Float32Array(samples.length + tail);
  input.set(samples);
  const converter = await create(1, from, to, { converterType: ConverterType.SRC_SINC_BEST_QUALITY });
  try {
    const output = converter.full(input);
    const out = new Float32Array(length);
    out.set(output.subarray(0, length));
    return out;
  } finally {
    converter.destroy();
  }
}

/**
 * WAV in and out (wavefile does the RIFF parsing). Reading accepts PCM 8/16/24/32-bit integer and 32/64-bit float,
 * any channel count and sample rate, and returns per-channel float samples in [-1, 1) (integers divided by
 * 2^(bits−1), 8-bit unsigned centred first, as the reference reads int16 as int16/32768). Truncated files, empty
 * files and non-finite samples are errors. Writing is 16-bit PCM by default (clamped, rounded) or 32-bit float.
 */
import { readFile } from "node:fs/promises";
import { writeOutputFile } from "@vall-e/core";
import wavefile from "wavefile";
import { AudioFormatError, fileReadError } from "../errors.js";

/** The highest sample rate an input may have: what the resampler (libsamplerate) takes. */
export const MAX_INPUT_SAMPLE_RATE = 192_000;

/** Refuse audio the codec's resampler cannot convert, naming the file. */
export function checkInputSampleRate(sampleRate: number, source: string): void {
  if (sampleRate > MAX_INPUT_SAMPLE_RATE) {
    throw new AudioFormatError(
      `${source} is sampled at ${sampleRate} Hz: at most ${MAX_INPUT_SAMPLE_RATE} Hz can be resampled for the codec`,
    );
  }
}

const { WaveFile } = wavefile;

export interface Audio {
  sampleRate: number;
  /** One Float32Array per channel, equal lengths. */
  channels: Float32Array[];
  /** As stored: "8", "16", "24", "32" (integer PCM) or "32f", "64" (float). */
  encoding: string;
}

export type SampleFormat = "s16" | "f32";

const INTEGER_SCALE: Record<string, number> = { "8": 128, "16": 32768, "24": 8388608, "32": 2147483648 };
const FLOAT_ENCODINGS = new Set(["32f", "64"]);

/**
 * A streamed WAV (as `tts -o -` and other streaming writers produce) declares its RIFF and data sizes as 0xFFFFFFFF
 * or 0 because they were not known when the header went out: the data runs to the end of the file. Such a header is
 * given the real sizes (in a copy); any other file is returned as it is.
 */
function withStreamedSizes(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 44) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") return bytes;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === "data") {
      const available = bytes.length - (at + 8);
      if ((size !== 0xffffffff && size !== 0) || available <= 0) return bytes;
      const fixed = new Uint8Array(bytes); // a copy (a Buffer's slice() would share the caller's memory)
      const fixedView = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
      fixedView.setUint32(at + 4, available, true);
      fixedView.setUint32(4, fixed.length - 8, true);
      return fixed;
    }
    at += 8 + size + (size % 2);
  }
  return bytes;
}

/** Parse WAV bytes (also a streamed WAV of unknown length); `source` names the file in messages. */
export function parseWav(input: Uint8Array, source = "audio"): Audio {
  const bytes = withStreamedSizes(input);
  let wav: InstanceType<typeof WaveFile>;
  try {
    wav = new WaveFile(bytes);
  } catch (error) {
    throw new AudioFormatError(`${source} is not a WAV file this reader supports (${(error as Error).message})`, {
      cause: error,
    });
  }
  const fmt = wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number };
  const data = wav.data as { chunkSize: number; samples: Uint8Array };
  const encoding = String(wav.bitDepth);
  if (!(encoding in INTEGER_SCALE) && !FLOAT_ENCODINGS.has(encoding)) {
    throw new AudioFormatError(
      `${source} uses an unsupported WAV encoding (format ${fmt.audioFormat}, ${encoding} bits): expected PCM 8/16/24/32-bit integer or 32/64-bit float`,
    );
  }
  if (fmt.audioFormat === 3 && !FLOAT_ENCODINGS.has(encoding)) {
    throw new AudioFormatError(
      `${source} uses ${encoding}-bit IEEE float samples: expected 32- or 64-bit float (or PCM integer)`,
    );
  }
  if (fmt.audioFormat !== 1 && fmt.audioFormat !== 3 && fmt.audioFormat !== 0xfffe) {
    throw new AudioFormatError(
      `${source} uses an unsupported WAV encoding (format ${fmt.audioFormat}): expected PCM or IEEE float`,
    );
  }
  if (
    fmt.numChannels < 1 ||
    fmt.numChannels > 64 ||
    !Number.isInteger(fmt.sampleRate) ||
    fmt.sampleRate < 1000 ||
    fmt.sampleRate > 768000
  ) {
    throw new AudioFormatError(
      `${source} has an invalid format header (${fmt.numChannels} channels, ${fmt.sampleRate} Hz)`,
    );
  }
  checkInputSampleRate(fmt.sampleRate, source);
  if (data.samples.length < data.chunkSize) {
    throw new AudioFormatError(
      `${source} is truncated: its data chunk declares ${data.chunkSize} bytes but holds ${data.samples.length}`,
    );
  }
  const raw = wav.getSamples(false, Float64Array) as Float64Array | Float64Array[];
  const planes = fmt.numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  const length = planes[0]?.length ?? 0;
  if (length === 0) throw new AudioFormatError(`${source} holds no samples`);
  const scale = INTEGER_SCALE[encoding];
  const offset = encoding === "8" ? 128 : 0;
  const channels = planes.map((plane, channel) => {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) {
      const value = scale === undefined ? (plane[i] as number) : ((plane[i] as number) - offset) / scale;
      if (!Number.isFinite(value)) {
        throw new AudioFormatError(
          `${source} holds a non-finite sample (${value}) at sample ${i} of channel ${channel}`,
        );
      }
      out[i] = value;
    }
    return out;
  });
  return { sampleRate: fmt.sampleRate, channels, encoding };
}

export async function readWav(path: string): Promise<Audio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileReadError("Audio file", path, error);
  }
  return parseWav(bytes, path);
}

/** Float samples as 16-bit PCM: clamped to [-1, 1), rounded; non-finite values become 0. */
export function toPcm16(samples: Float32Array): Int16Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const value = Math.round((samples[i] as number) * 32768);
    pcm[i] = Math.max(-32768, Math.min(32767, Number.isFinite(value) ? value : 0));
  }
  return pcm;
}

/** WAV bytes for mono float samples. s16 clamps to [-1, 1) and rounds; f32 stores the values as they are. */
export function encodeWav(samples: Float32Array, sampleRate: number, format: SampleFormat = "s16"): Uint8Array {
  const wav = new WaveFile();
  if (format === "f32") wav.fromScratch(1, sampleRate, "32f", samples);
  else wav.fromScratch(1, sampleRate, "16", toPcm16(samples));
  return wav.toBuffer();
}

/**
 * Writing a 16-bit mono WAV while the audio is still being made (to a pipe, so playback starts at once): the header
 * first, with the RIFF and data sizes set to 0xFFFFFFFF ("until the end of the stream", as streaming tools write
 * it), then the samples of each piece as they come. The bytes after the header equal encodeWav's for the whole.
 */
export function streamingWavHeader(sampleRate: number): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, "16", new Int16Array(0));
  const header = new Uint8Array(wav.toBuffer());
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  view.setUint32(4, 0xffffffff, true); // RIFF chunk size
  view.setUint32(header.length - 4, 0xffffffff, true); // data chunk size (the last field of the header)
  return header;
}

/** The 16-bit little-endian PCM bytes of a piece of a streamed WAV. */
export function pcm16Bytes(samples: Float32Array): Uint8Array {
  const pcm = toPcm16(samples);
  const bytes = new Uint8Array(pcm.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(2 * i, pcm[i] as number, true);
  return bytes;
}

/**
 * Write a WAV atomically (a temporary file renamed into place: never half-written); into a FIFO or a device such as
 * /dev/null as a stream (writeOutputFile).
 */
export async function writeWav(
  path: string,
  samples: Float32Array,
  sampleRate: number,
  format: SampleFormat = "s16",
): Promise<void> {
  await writeOutputFile(path, encodeWav(samples, sampleRate, format));
}

/**
 * Any common audio file in: WAV (any PCM or float encoding), FLAC, MP3, Ogg Opus and Ogg Vorbis, recognised by their
 * first bytes (not their names) and decoded by well-kept WebAssembly decoders (the wasm-audio-decoders family: libFLAC,
 * mpg123, libopus, libvorbis builds) — no ffmpeg needed. The result is the same `Audio` as readWav's: one Float32Array
 * per channel at the file's rate; toCodecInput resamples it to 24 kHz mono for the codec.
 */
import { readRegularFile } from "@vall-e/core";
import { AudioFormatError } from "../errors.js";
import { type Audio, checkInputSampleRate, parseWav } from "./wav.js";

export const AUDIO_FORMATS = ["wav", "flac", "mp3", "opus", "vorbis"] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));

/** The format of a file from its first bytes, or undefined. */
export function sniffAudioFormat(bytes: Uint8Array): AudioFormat | undefined {
  const head = ascii(bytes, 0, 4);
  if ((head === "RIFF" || head === "RF64") && ascii(bytes, 8, 12) === "WAVE") return "wav";
  if (head === "fLaC") return "flac";
  if (head === "OggS") {
    // The first page carries the codec's identification header.
    const first = ascii(bytes, 0, Math.min(bytes.length, 128));
    if (first.includes("OpusHead")) return "opus";
    if (first.includes("\u0001vorbis")) return "vorbis";
    return undefined;
  }
  if (ascii(bytes, 0, 3) === "ID3") return "mp3";
  // An MPEG audio frame header: 11 sync bits, layer ≠ 0, bitrate index ≠ 15.
  if (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0 && ((bytes[1] ?? 0) & 0x06) !== 0) return "mp3";
  return undefined;
}

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

/** Decode the bytes of an audio file of any of AUDIO_FORMATS; `source` names it in messages. */
export async function decodeAudio(bytes: Uint8Array, source = "audio"): Promise<Audio> {
  const format = sniffAudioFormat(bytes);
  if (format === undefined) {
    throw new AudioFormatError(
      `${source}: not an audio file this build reads (expected WAV, FLAC, MP3, Ogg Opus or Ogg Vorbis)`,
    );
  }
  if (format === "wav") return parseWav(bytes, source);
  let decoded: Decoded;
  try {
    decoded = await decodeCompressed(format, bytes);
  } catch (error) {
    throw new AudioFormatError(`${source}: cannot decode this ${format} file (${(error as Error).message})`, {
      cause: error,
    });
  }
  const { channelData, samplesDecoded, sampleRate } = decoded;
  if (samplesDecoded === 0 || channelData.length === 0 || !(sampleRate > 0)) {
    const why = decoded.errors[0]?.message ?? "no audio in it";
    throw new AudioFormatError(`${source}: cannot decode this ${format} file (${why})`);
  }
  checkInputSampleRate(sampleRate, source);
  return {
    sampleRate,
    channels: channelData.map((channel) => channel.subarray(0, samplesDecoded)),
    encoding: format,
  };
}

async function decodeCompressed(format: Exclude<AudioFormat, "wav">, bytes: Uint8Array): Promise<Decoded> {
  switch (format) {
    case "flac": {
      const { FLACDecoder } = await import("@wasm-audio-decoders/flac");
      const decoder = new FLACDecoder();
      await decoder.ready;
      try {
        return await decoder.decodeFile(bytes);
      } finally {
        decoder.free();
      }
    }
    case "mp3": {
      const { MPEGDecoder } = await import("mpg123-decoder");
      const decoder = new MPEGDecoder();
      await decoder.ready;
      try {
        return decoder.decode(bytes);
      } finally {
        decoder.free();
      }
    }
    case "opus": {
      const { OggOpusDecoder } = await import("ogg-opus-decoder");
      const decoder = new OggOpusDecoder();
      await decoder.ready;
      try {
        return await decoder.decodeFile(bytes);
      } finally {
        decoder.free();
      }
    }
    case "vorbis": {
      const { OggVorbisDecoder } = await import("@wasm-audio-decoders/ogg-vorbis");
      const decoder = new OggVorbisDecoder();
      await decoder.ready;
      try {
        return await decoder.decodeFile(bytes);
      } finally {
        decoder.free();
      }
    }
  }
}

/** The largest audio file read (1 GiB: hours of 16-bit PCM); a larger one is refused before it is read. */
export const MAX_AUDIO_FILE_BYTES = 2 ** 30;

/**
 * Read and decode an audio file of any of AUDIO_FORMATS. Only a regular file is read, of at most
 * MAX_AUDIO_FILE_BYTES: a FIFO, a device (/dev/zero) or a folder is refused at once instead of read without end.
 */
export async function readAudio(path: string): Promise<Audio> {
  // ERR_NOT_A_FILE / ERR_FILE_TOO_LARGE (usage errors) before a byte is read.
  const bytes = await readRegularFile(path, "Audio file", MAX_AUDIO_FILE_BYTES);
  return decodeAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path);
}

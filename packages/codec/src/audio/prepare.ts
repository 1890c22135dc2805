/**
 * Audio as the codec wants it: 24 kHz mono. The reference takes the first channel; `channel: "mix"` averages them.
 */
import { expectOneOf } from "@vall-e/core";
import { SAMPLE_RATE } from "../encodec.js";
import { resample } from "./resample.js";
import type { Audio } from "./wav.js";

export interface PrepareOptions {
  /** "first" (default, as the reference) or "mix" (the mean of all channels). */
  channel?: "first" | "mix";
}

export async function toCodecInput(audio: Audio, options: PrepareOptions = {}): Promise<Float32Array> {
  const channel = expectOneOf(options.channel ?? "first", "channel", ["first", "mix"] as const);
  let mono = audio.channels[0] as Float32Array;
  if (channel === "mix" && audio.channels.length > 1) {
    mono = new Float32Array(mono.length);
    for (const plane of audio.channels)
      for (let i = 0; i < plane.length; i++) mono[i] = (mono[i] as number) + (plane[i] as number);
    for (let i = 0; i < mono.length; i++) mono[i] = (mono[i] as number) / audio.channels.length;
  }
  return resample(mono, audio.sampleRate, SAMPLE_RATE);
}

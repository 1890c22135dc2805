/** What a request yields and returns: each sentence's audio as it is decoded, and the whole result. */

/** One sentence's audio, as `Engine.stream` yields it. */
export interface SpeechChunk {
  /** 0-based sentence index. */
  index: number;
  text: string;
  seed?: number;
  frames: number;
  /** Samples at `sampleRate`: the pause before the sentence (after the first), then the sentence. */
  audio: Float32Array;
  sampleRate: number;
}

/** Per sentence: its text, the seed it used (absent when decoded from response codes), its frames. */
export interface SentenceRecord {
  text: string;
  seed?: number;
  frames: number;
}

export interface SpeechResult {
  audio: Float32Array;
  sampleRate: number;
  sentences: SentenceRecord[];
  /** The seed of the first sentence. */
  seed?: number;
  /** Seconds per stage (phonemize, prompt, generate, decode, checksums). */
  timings: Record<string, number>;
  /** The files written under artifactsDir (absent without one). */
  artifacts?: string[];
}

/**
 * How many native objects this process holds right now — models, contexts, codecs, vocoders — so a program (and the tests of
 * long runs) can check that memory stays bounded by what is alive, not by how much was done.
 */
export interface LiveNativeObjects {
  lmModels: number;
  lmContexts: number;
  codecs: number;
  vocoders: number;
}

const live: LiveNativeObjects = { lmModels: 0, lmContexts: 0, codecs: 0, vocoders: 0 };

/** @internal counted by the wrappers when they create and free native objects. */
export function countLive(kind: keyof LiveNativeObjects, delta: 1 | -1): void {
  live[kind] += delta;
}

/** The native objects alive in this process. */
export function liveNativeObjects(): LiveNativeObjects {
  return { ...live };
}

/**
 * The shape every response encoder has: samples in as they are made, bytes out as soon as the format allows, and
 * the concatenation of every push() and the end() is one valid file. The base class owns the life cycle (push after
 * end or dispose throws; dispose frees an encoder's WebAssembly memory without finishing, once).
 */
import { DisposedError, expectFloat32Array } from "@vall-e/pipeline";

export interface AudioEncoder {
  /** The response's Content-Type. */
  readonly contentType: string;
  /** Encode more samples (mono, in [-1, 1]); returns the bytes ready now, possibly none. */
  push(samples: Float32Array): Uint8Array;
  /** Finish the file: returns the rest of its bytes and frees the encoder. */
  end(): Uint8Array;
  /** Free the encoder without finishing the file (the client went away). Idempotent; end() does it too. */
  dispose(): void;
  [Symbol.dispose](): void;
}

export const NO_BYTES: Uint8Array = new Uint8Array(0);

export abstract class EncoderBase implements AudioEncoder {
  abstract readonly contentType: string;
  #open = true;

  push(samples: Float32Array): Uint8Array {
    this.#expectOpen();
    return this.encode(expectFloat32Array(samples, "samples"));
  }

  end(): Uint8Array {
    this.#expectOpen();
    this.#open = false;
    try {
      return this.finish();
    } finally {
      this.release();
    }
  }

  dispose(): void {
    if (!this.#open) return;
    this.#open = false;
    this.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  protected abstract encode(samples: Float32Array): Uint8Array;
  protected abstract finish(): Uint8Array;
  /** Free what the encoder holds outside the JavaScript heap. Called once. */
  protected release(): void {}

  #expectOpen(): void {
    if (!this.#open) throw new DisposedError("audio encoder");
  }
}

/** The bytes of several pieces as one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const nonEmpty = parts.filter((part) => part.length > 0);
  if (nonEmpty.length === 0) return NO_BYTES;
  if (nonEmpty.length === 1) return nonEmpty[0] as Uint8Array;
  const out = new Uint8Array(nonEmpty.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of nonEmpty) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

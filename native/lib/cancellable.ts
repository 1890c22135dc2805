/** A native call that an AbortSignal can stop: aborted before it starts, or cancelled in flight via `cancel`. */
import { CancelledError } from "@vall-e/core";
import { callNative } from "./errors.js";

export async function cancellableCall<T>(
  signal: AbortSignal | undefined,
  what: string,
  cancel: () => void,
  call: () => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw new CancelledError(`${what} was cancelled`, { cause: signal.reason });
  const onAbort = () => cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await callNative(call);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_CANCELLED") {
      throw new CancelledError(`${what} was cancelled`, { cause: signal?.reason ?? error });
    }
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The calls a native object has in flight, so that dispose() can wait for them before freeing what they use. */
export class InFlightCalls {
  /** One promise per call, resolved (never rejected) once the call settles. */
  readonly #calls = new Set<Promise<void>>();

  /** Track `call` until it settles; returns it unchanged. */
  track<T>(call: Promise<T>): Promise<T> {
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    this.#calls.add(settled);
    void settled.then(() => this.#calls.delete(settled));
    return call;
  }

  /** Resolves once every call tracked so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.#calls);
  }
}

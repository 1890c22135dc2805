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

/**
 * The native core's failures: the addon missing or unloadable, and a vall_e_status from a native call turned into a
 * typed error. The error classes every package shares are @vall-e/core's.
 */

import { VallEError, type VallEErrorCode, type VallEErrorOptions } from "@vall-e/core";
import type { NativeAttempt } from "./loader.js";

/** The native addon is missing or could not be loaded. */
export class NativeLoadError extends VallEError {
  /** Every candidate the loader looked at, in order, when none fits (empty otherwise). */
  readonly attempts: readonly NativeAttempt[];

  constructor(
    code: VallEErrorCode,
    message: string,
    options: VallEErrorOptions & { attempts?: readonly NativeAttempt[] } = {},
  ) {
    super(code, message, options);
    this.attempts = options.attempts ?? [];
  }
}

/** A failure reported by the native core: `status` is its vall_e_status name. */
export class NativeError extends VallEError {
  readonly status: string;

  constructor(status: string, message: string, options: VallEErrorOptions = {}) {
    super(codeForStatus(status), message, options);
    this.status = status;
  }
}

const STATUS_CODES: Record<string, VallEErrorCode> = {
  VALL_E_ERR_INVALID_ARGUMENT: "ERR_INVALID_ARGUMENT",
  VALL_E_ERR_OUT_OF_MEMORY: "ERR_OUT_OF_MEMORY",
  VALL_E_ERR_COMPUTE: "ERR_COMPUTE",
  VALL_E_ERR_CANCELLED: "ERR_CANCELLED",
  VALL_E_ERR_BUSY: "ERR_BUSY",
  VALL_E_ERR_INTERNAL: "ERR_INTERNAL",
};

function codeForStatus(status: string): VallEErrorCode {
  return STATUS_CODES[status] ?? "ERR_INTERNAL";
}

/**
 * Turn whatever the binding threw or rejected with into a NativeError (an Error with a `code` that names a
 * vall_e_status), leaving anything else untouched.
 */
export function fromNative(error: unknown): unknown {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === "string") {
    const status = (error as Error & { code: string }).code;
    if (status.startsWith("VALL_E_")) {
      return new NativeError(status, error.message, { cause: error });
    }
  }
  return error;
}

/** Await a binding call, rethrowing native failures as NativeError. */
export async function callNative<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromNative(error);
  }
}

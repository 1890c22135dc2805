/**
 * Validation helpers with the one message shape of the project: "Expected <what> for <name>, got <value>".
 * Everything user-controlled is checked here before it reaches native code (a ggml assert would kill Node).
 */
import { InvalidArgumentError } from "./errors.js";

/**
 * A short, printable rendering of a value for error messages: what was found, never a dump of an input (strings cut
 * at 40 characters, arrays and objects described, an absent value "nothing").
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name} of length ${(value as unknown as { length: number }).length}`;
  }
  if (typeof value === "function") return "a function";
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

export function invalid(what: string, name: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`Expected ${what} for ${name}, got ${describeValue(value)}`);
}

/** An integer in [min, max]. */
export function expectInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`an integer from ${min} to ${max}`, name, value);
  }
  return value;
}

/** One of a fixed set of strings; the message lists them. */
export function expectOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`one of ${allowed.map((item) => JSON.stringify(item)).join(", ")}`, name, value);
  }
  return value as T;
}

/** A Float32Array, optionally of an exact length. */
export function expectFloat32Array(value: unknown, name: string, length?: number): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw invalid("a Float32Array", name, value);
  }
  if (length !== undefined && value.length !== length) {
    throw invalid(`a Float32Array of length ${length}`, name, value);
  }
  return value;
}

/** A thread count: undefined or 0 means the default (physical cores). */
export function expectThreads(value: unknown, name = "threads"): number {
  if (value === undefined) return 0;
  return expectInteger(value, name, 0, 512);
}

/**
 * results.jsonl: one line per manifest line, in the manifest's order — `{ line, id, status: "ok", seconds, seed,
 * output }` (with `resumed: true` when it was already done) or `{ line, id?, status: "error", code, message }`.
 */
import type { LineFailure } from "./manifest/item.js";
import type { ItemOutput } from "./output/store.js";

export interface OkResult {
  line: number;
  id: string;
  status: "ok";
  /** Seconds of audio. */
  seconds: number;
  seed: number;
  /** DIR/<id>/output.wav, absolute. */
  output: string;
  /** Found done in DIR (not spoken again). */
  resumed?: true;
}

export interface ErrorResult {
  line: number;
  id?: string;
  status: "error";
  code: string;
  message: string;
}

export type BatchResult = OkResult | ErrorResult;

export function okResult(line: number, item: ItemOutput, resumed: boolean): OkResult {
  return {
    line,
    id: item.id,
    status: "ok",
    seconds: Math.round(item.seconds * 1e6) / 1e6,
    seed: item.seed,
    output: item.output,
    ...(resumed ? { resumed: true as const } : {}),
  };
}

export function errorResult(failure: LineFailure): ErrorResult {
  return {
    line: failure.line,
    ...(failure.id === undefined ? {} : { id: failure.id }),
    status: "error",
    code: failure.code,
    message: failure.message,
  };
}

/** The code and message of a thrown error. */
export function describeError(error: unknown): { code: string; message: string } {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return {
    code: typeof code === "string" && code !== "" ? code : "ERR_INTERNAL",
    message: error instanceof Error ? error.message : String(error),
  };
}

export function byLine(results: BatchResult[]): BatchResult[] {
  return results.sort((a, b) => a.line - b.line);
}

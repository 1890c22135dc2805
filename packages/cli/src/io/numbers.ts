/**
 * Numbers as a person types them on a command line: decimal, optionally signed, with a fraction and an exponent
 * (`2`, `-1`, `0.5`, `.5`, `1e-3`). JavaScript's Number() also takes `0x10`, `0b11`, `Infinity` and whitespace; a flag
 * does not (`--threads 0x10` would be 16 threads).
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** The value of a decimal number, or undefined when `text` is not one (or is not finite). */
export function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

import { describe, expect, it } from "vitest";
import { checkItemId, parseManifestLine, seedFor } from "../../src/manifest/item.js";

const ok = (text: string) => {
  const parsed = parseManifestLine(text, 3);
  if (!parsed.ok) throw new Error(`expected ok: ${parsed.message}`);
  return parsed.value;
};
const failure = (text: string) => {
  const parsed = parseManifestLine(text, 3);
  if (parsed.ok) throw new Error("expected a failure");
  return parsed;
};

describe("manifest lines", () => {
  it("ids are folder names: never a path, never a name the batch uses", () => {
    for (const id of ["a", "A-1_b.c", "x".repeat(128), "...", ".hidden"]) expect(checkItemId(id)).toBe(id);
    expect(checkItemId(17)).toBe("17");
    for (const bad of [
      ".",
      "..",
      "../x",
      "a/b",
      "a\\b",
      "",
      "x".repeat(129),
      "é",
      "a b",
      "results.jsonl",
      ".partial",
    ]) {
      expect(() => checkItemId(bad), bad).toThrow(
        /^Expected an id of 1 to 128 letters, digits, dots, dashes or underscores/,
      );
    }
    expect(() => checkItemId(-1)).toThrow(/for id, got -1$/);
    try {
      checkItemId("../x");
    } catch (error) {
      expect((error as { code: string }).code).toBe("ERR_MANIFEST_ID");
      expect((error as Error).message).toBe(
        'Expected an id of 1 to 128 letters, digits, dots, dashes or underscores (not ".", "..", "results.jsonl", ".partial") for id, got "../x"',
      );
    }
  });

  it("a seed not given is derived from the id: fixed, 32-bit, different per id", () => {
    expect(seedFor("a")).toBe(seedFor("a"));
    expect(seedFor("a")).not.toBe(seedFor("b"));
    // SHA-256("vall-e.batch.seed/1\na"), its first 4 bytes big-endian: stable across versions and machines.
    expect(seedFor("a")).toBe(2542144040);
    for (const id of ["a", "b", "item-0001"]) {
      expect(Number.isInteger(seedFor(id))).toBe(true);
      expect(seedFor(id)).toBeGreaterThanOrEqual(0);
      expect(seedFor(id)).toBeLessThan(2 ** 32);
    }
    expect(ok('{"id":"a","text":"Hi."}')).toMatchObject({ seed: 2542144040, seedDerived: true });
    expect(ok('{"id":"a","text":"Hi.","seed":5}')).toMatchObject({ seed: 5, seedDerived: false });
  });

  it("settings in camelCase or snake_case; sampler settings go to sampling", () => {
    const line = ok(
      '{"id":"x","text":"Hi.","voice":"v.wav","max_duration":1,"maxSteps":3,"ar_temperature":0.5,"language":"en","top_n_sigma":1}',
    );
    expect(line).toEqual({
      line: 3,
      id: "x",
      text: "Hi.",
      voice: "v.wav",
      seed: seedFor("x"),
      seedDerived: true,
      settings: { maxDuration: 1, language: "en", sampling: { maxSteps: 3, arTemperature: 0.5, topNSigma: 1 } },
    });
  });

  it("each bad line names its problem, with the field as the line wrote it", () => {
    const cases: [string, string, string, string?][] = [
      ['{"id": "b", "text":', "ERR_MANIFEST_LINE", "Not JSON: Unexpected end of JSON input"],
      ["[1,2]", "ERR_MANIFEST_LINE", 'Expected a JSON object ({ "id", "text", … }), got an array'],
      ['"x"', "ERR_MANIFEST_LINE", 'Expected a JSON object ({ "id", "text", … }), got "x"'],
      ['{"text":"Hi."}', "ERR_MANIFEST_FIELD", 'The line has no "id"'],
      ['{"id":"h"}', "ERR_MANIFEST_FIELD", 'The line has no "text"', "h"],
      ['{"id":"h","text":5}', "ERR_INVALID_ARGUMENT", "Expected a string for text, got 5", "h"],
      ['{"id":"h","text":"  "}', "ERR_INVALID_ARGUMENT", 'Expected text with something to say for text, got "  "', "h"],
      [
        '{"id":"g","text":"x","maxDuration":-1}',
        "ERR_INVALID_ARGUMENT",
        "Expected seconds in (0, 600] for maxDuration, got -1",
        "g",
      ],
      [
        '{"id":"g","text":"x","max_duration":0}',
        "ERR_INVALID_ARGUMENT",
        "Expected seconds in (0, 600] for max_duration, got 0",
        "g",
      ],
      ['{"id":"i","text":"x","top_k":1.5}', "ERR_INVALID_ARGUMENT", "Expected an integer ≥ 0 for top_k, got 1.5", "i"],
      [
        '{"id":"i","text":"x","maxSteps":0}',
        "ERR_INVALID_ARGUMENT",
        "Expected an integer from 1 to 1000 for maxSteps, got 0",
        "i",
      ],
      [
        '{"id":"i","text":"x","modality":"x"}',
        "ERR_INVALID_ARGUMENT",
        'Expected one of "nar-len", "ar+nar" for modality, got "x"',
        "i",
      ],
      [
        '{"id":"i","text":"x","seed":-3}',
        "ERR_INVALID_ARGUMENT",
        "Expected an integer from 0 to 4294967295 for seed, got -3",
        "i",
      ],
      [
        '{"id":"i","text":"x","voice":3}',
        "ERR_INVALID_ARGUMENT",
        "Expected an audio file path, or a voice id or name of the voice library for voice, got 3",
        "i",
      ],
      [
        '{"id":"i","text":"x","maxSteps":3,"max_steps":4}',
        "ERR_MANIFEST_FIELD",
        "Give maxSteps once, not as both maxSteps and max_steps",
        "i",
      ],
      [
        '{"id":"i","text":"x","threads":2}',
        "ERR_MANIFEST_FIELD",
        "threads is a setting of the whole batch (vall-e batch --threads / vall-e worker --threads)",
        "i",
      ],
      [
        '{"id":"i","text":"x","task":"ns"}',
        "ERR_INVALID_ARGUMENT",
        "The ns task needs the noisy audio as the reference (--prompt)",
        "i",
      ],
    ];
    for (const [text, code, message, id] of cases) {
      expect(failure(text), text).toEqual({ ok: false, line: 3, ...(id === undefined ? {} : { id }), code, message });
    }
    const unknown = failure('{"id":"j","text":"x","bogus":1}');
    expect(unknown.code).toBe("ERR_MANIFEST_FIELD");
    expect(unknown.message).toMatch(
      /^Unknown field "bogus" \(a line has id, text, voice, seed and the request settings: task, modality, /,
    );
    expect(failure(JSON.stringify({ id: "k", text: "x".repeat(1 << 20) })).message).toBe(
      "The line is longer than 1048576 bytes",
    );
  });
});

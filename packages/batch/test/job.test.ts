import { describe, expect, it } from "vitest";
import { canonicalJson, checkJob, makeJob } from "../src/job.js";
import { parseManifestLine } from "../src/manifest/item.js";
import type { VoiceSource } from "../src/voices.js";

function job(line: string, voice?: VoiceSource) {
  const parsed = parseManifestLine(line, 1);
  if (!parsed.ok) throw new Error(parsed.message);
  return makeJob(parsed.value, voice);
}

const file = (sha: string, path = "/voices/a.wav"): VoiceSource => ({ kind: "file", path, sha256: sha.repeat(64) });

describe("job keys", () => {
  it("canonical JSON sorts keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it("the same line gives the same key; anything that changes the output changes it", () => {
    const base = job('{"id":"a","text":"Hi.","maxSteps":3}');
    expect(base.key).toMatch(/^[0-9a-f]{64}$/);
    expect(job('{"maxSteps":3,"text":"Hi.","id":"a"}').key).toBe(base.key);
    // The defaults, given or not, are the same request.
    expect(job('{"id":"a","text":"Hi.","max_steps":3,"maxDuration":12,"topP":1,"language":"auto"}').key).toBe(base.key);
    for (const other of [
      '{"id":"b","text":"Hi.","maxSteps":3}',
      '{"id":"a","text":"Hi!","maxSteps":3}',
      '{"id":"a","text":"Hi.","maxSteps":4}',
      `{"id":"a","text":"Hi.","maxSteps":3,"seed":${base.seed + 1}}`,
      '{"id":"a","text":"Hi.","maxSteps":3,"language":"en"}',
    ]) {
      expect(job(other).key, other).not.toBe(base.key);
    }
    // A derived seed given explicitly is the same job.
    expect(job(`{"id":"a","text":"Hi.","maxSteps":3,"seed":${base.seed}}`).key).toBe(base.key);
  });

  it("a file voice is known by its content, not its path", () => {
    const line = '{"id":"a","text":"Hi.","voice":"a.wav"}';
    expect(job(line, file("1")).key).toBe(job(line, file("1", "/elsewhere/copy.wav")).key);
    expect(job(line, file("1")).key).not.toBe(job(line, file("2")).key);
    expect(job(line, file("1")).key).not.toBe(job('{"id":"a","text":"Hi."}').key);
    const library: VoiceSource = { kind: "library", id: "voice_1", name: "n", sha256: "1".repeat(64) };
    expect(job(line, library).key).not.toBe(job(line, file("1")).key);
  });

  it("checkJob takes a job as made and refuses one this machine resolves otherwise", () => {
    const made = job('{"id":"a","text":"Hi.","voice":"a.wav"}', file("1"));
    const copy = JSON.parse(JSON.stringify(made));
    expect(checkJob(copy, made.key)).toEqual(made);
    expect(() => checkJob({ ...copy, text: "Other." })).toThrow(
      "Job a (line 1) resolves to another key here than where it was made: are vall-e's versions the same on every machine?",
    );
    expect(() => checkJob(copy, "f".repeat(64))).toThrow(/resolves to another key/);
    expect(() => checkJob({ ...copy, id: "../x" })).toThrow(/for id, got "\.\.\/x"$/);
    expect(() => checkJob({ format: "other" })).toThrow("Not a vall-e batch job (format is not vall-e.batch.job/1)");
    expect(() => checkJob({ ...copy, voice: { kind: "url", path: "x" } })).toThrow(
      "Not a vall-e batch job (its voice is not a file, library or espeak voice)",
    );
  });
});

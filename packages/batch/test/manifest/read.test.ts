import { writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/pipeline";
import { describe, expect, it } from "vitest";
import { readManifest } from "../../src/manifest/read.js";

describe("reading a manifest", () => {
  it("resolves voices (files relative to the manifest, library ids and names) and reports every bad line", async () => {
    const dir = tempDir("batch-manifest-");
    await mkdir(join(dir, "voices"));
    await mkdir(join(dir, "sub"));
    const wav = encodeWav(new Float32Array(2400).fill(0.1), 24000);
    writeFileSync(join(dir, "sub", "v.wav"), wav);
    writeFileSync(join(dir, "sub", "copy.wav"), wav);
    const library = join(dir, "library");
    await mkdir(library);
    const id = `voice_${"ab".repeat(12)}`;
    writeFileSync(
      join(library, `${id}.json`),
      JSON.stringify({
        format: "vall-e.voice/1",
        id,
        object: "audio.voice",
        name: "narrator",
        seconds: 1,
        created_at: 1,
        references: [[[1, 2, 3]]],
      }),
    );
    const lines = [
      '{"id":"a","text":"Hi.","voice":"v.wav"}',
      "",
      '{"id":"b","text":"Hi.","voice":"copy.wav"}',
      '{"id":"c","text":"Hi.","voice":"missing.wav"}',
      '{"id":"d","text":"Hi.","voice":"voice_000000000000000000000000"}',
      `{"id":"e","text":"Hi.","voice":"${id}"}`,
      '{"id":"f","text":"Hi.","voice":"narrator"}',
      '{"id":"a","text":"again"}',
      "not json",
      '{"id":"g","text":"Hi.","voice":"espeak:en-us"}',
      '{"id":"h","text":"Hi.","voice":"."}',
    ];
    writeFileSync(join(dir, "sub", "m.jsonl"), `\uFEFF${lines.join("\r\n")}\n`);
    const manifest = await readManifest(join(dir, "sub", "m.jsonl"), { voicesDir: library });
    expect(manifest.jobs.map((j) => [j.line, j.id, j.voice?.kind])).toEqual([
      [1, "a", "file"],
      [3, "b", "file"],
      [6, "e", "library"],
      [7, "f", "library"],
      [10, "g", "espeak"],
    ]);
    const [a, b, e, f] = manifest.jobs;
    expect(a?.voice).toMatchObject({ path: join(dir, "sub", "v.wav") });
    expect(
      a?.voice && "sha256" in a.voice && b?.voice && "sha256" in b.voice && a.voice.sha256 === b.voice.sha256,
    ).toBe(true);
    expect(e?.voice).toEqual(f?.voice);
    expect(e?.voice).toMatchObject({ id, name: "narrator" });
    expect(manifest.failures).toEqual([
      {
        line: 4,
        id: "c",
        code: "ERR_FILE_NOT_FOUND",
        message: `Voice file not found: ${join(dir, "sub", "missing.wav")}`,
      },
      {
        line: 5,
        id: "d",
        code: "ERR_VOICE_NOT_FOUND",
        message: `No voice "voice_000000000000000000000000" in the voice library ${library} (vall-e voices list shows them), and no file ${join(dir, "sub", "voice_000000000000000000000000")}`,
      },
      { line: 8, id: "a", code: "ERR_MANIFEST_ID", message: 'The id "a" is also on line 1: ids must be unique' },
      { line: 9, code: "ERR_MANIFEST_LINE", message: expect.stringMatching(/^Not JSON: /) },
      {
        line: 11,
        id: "h",
        code: "ERR_FILE_NOT_FOUND",
        message: `The voice ${join(dir, "sub")} is a folder, not a file`,
      },
    ]);
  });

  it("a manifest that is not there is an error naming it", async () => {
    await expect(readManifest("/nonexistent/m.jsonl")).rejects.toThrow("Manifest not found: /nonexistent/m.jsonl");
  });
});

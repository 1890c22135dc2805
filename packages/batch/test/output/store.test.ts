import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/pipeline";
import { describe, expect, it } from "vitest";
import { type BatchJob, makeJob, resolvedOptions } from "../../src/job.js";
import { parseManifestLine } from "../../src/manifest/item.js";
import { OutputStore } from "../../src/output/store.js";

function job(line: string): BatchJob {
  const parsed = parseManifestLine(line, 1);
  if (!parsed.ok) throw new Error(parsed.message);
  return makeJob(parsed.value, undefined);
}

/** What the engine would write with artifactsDir: output.wav and a run.json naming the text, options and seed. */
async function fakeEngineOutput(dir: string, of: BatchJob, samples = 2400, text = of.text): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "output.wav"), encodeWav(new Float32Array(samples).fill(0.25), 24000));
  const run = { format: "vall-e.run/1", inputs: { text, reference: [] }, models: {}, options: resolvedOptions(of) };
  await writeFile(join(dir, "run.json"), JSON.stringify(run));
}

const host =
  hostname()
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 32) || "host";

describe("the output folder", () => {
  it("an item appears whole under DIR/<id>/ and verifies; a changed job does not", async () => {
    const store = await OutputStore.open(tempDir("batch-store-"));
    const a = job('{"id":"a","text":"Hi."}');
    expect(await store.verify(a)).toBeUndefined();
    let staged = "";
    const item = await store.write(a, async (dir) => {
      staged = dir;
      await fakeEngineOutput(dir, a);
      expect(existsSync(store.itemDir("a"))).toBe(false);
    });
    expect(staged.startsWith(join(store.dir, ".partial", `${host}-${process.pid}-`))).toBe(true);
    expect(existsSync(staged)).toBe(false);
    expect(item).toEqual({ id: "a", output: join(store.dir, "a", "output.wav"), seconds: 0.1, seed: a.seed });
    expect(await store.verify(a)).toEqual(item);
    expect(JSON.parse(readFileSync(join(store.dir, "a", "batch.json"), "utf8"))).toEqual({
      format: "vall-e.batch-item/1",
      id: "a",
      line: 1,
      key: a.key,
      seed: a.seed,
    });
    expect(await store.verify(job('{"id":"a","text":"Hi.","seed":1}'))).toBeUndefined();
    expect(await store.verify(job('{"id":"a","text":"Other."}'))).toBeUndefined();
    // A damaged output.wav: the item is done again.
    writeFileSync(
      join(store.dir, "a", "output.wav"),
      readFileSync(join(store.dir, "a", "output.wav")).subarray(0, 100),
    );
    expect(await store.verify(a)).toBeUndefined();
    expect(readdirSync(join(store.dir, ".partial"))).toEqual([]);
  });

  it("a failed write leaves nothing; an item that does not verify after writing is refused", async () => {
    const store = await OutputStore.open(tempDir("batch-store-"));
    const a = job('{"id":"a","text":"Hi."}');
    await expect(
      store.write(a, async (dir) => {
        await fakeEngineOutput(dir, a);
        throw new Error("engine failed");
      }),
    ).rejects.toThrow("engine failed");
    await expect(store.write(a, (dir) => fakeEngineOutput(dir, a, 2400, "not the text"))).rejects.toThrow(
      /^The item a written in .* does not verify$/,
    );
    expect(readdirSync(store.dir).sort()).toEqual([".partial"]);
    expect(readdirSync(join(store.dir, ".partial"))).toEqual([]);
  });

  it("two runs of one job at once leave exactly one DIR/<id>/; an older different item is replaced", async () => {
    const store = await OutputStore.open(tempDir("batch-store-"));
    const a = job('{"id":"a","text":"Hi."}');
    const results = await Promise.all([1, 2, 3].map(() => store.write(a, (dir) => fakeEngineOutput(dir, a))));
    expect(results.every((r) => r.output === join(store.dir, "a", "output.wav"))).toBe(true);
    expect(readdirSync(store.dir).sort()).toEqual([".partial", "a"]);
    expect(readdirSync(join(store.dir, ".partial"))).toEqual([]);
    // The same id with another text: the old item is moved aside and replaced.
    const b = job('{"id":"a","text":"Something else."}');
    await store.write(b, (dir) => fakeEngineOutput(dir, b, 4800));
    expect(await store.verify(b)).toMatchObject({ seconds: 0.2 });
    expect(await store.verify(a)).toBeUndefined();
    expect(readdirSync(store.dir).sort()).toEqual([".partial", "a"]);
    expect(readdirSync(join(store.dir, ".partial"))).toEqual([]);
  });

  it("what dead processes of this host staged is swept; live ones' and other hosts' are left", async () => {
    const dir = tempDir("batch-store-");
    const staging = join(dir, ".partial");
    mkdirSync(staging, { recursive: true });
    const dead = `${host}-999999999-0123abcd-a`;
    const live = `${host}-${process.pid}-0123abcd-b`;
    const other = `otherhost${host}-999999999-0123abcd-c`;
    for (const name of [dead, live, other]) mkdirSync(join(staging, name));
    await OutputStore.open(dir);
    expect(readdirSync(staging).sort()).toEqual([live, other].sort());
  });

  it("results.jsonl is written whole", async () => {
    const store = await OutputStore.open(tempDir("batch-store-"));
    const path = await store.writeResults([{ line: 1 }, { line: 2 }]);
    expect(readFileSync(path, "utf8")).toBe('{"line":1}\n{"line":2}\n');
    expect(readdirSync(join(store.dir, ".partial"))).toEqual([]);
  });
});

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { closedPort, type HubStub, type HubStubFile, sha256, startHubStub } from "@tooling/config/hub-stub";
import { tempDir } from "@tooling/config/temp-dir";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveModels } from "../../src/models/bundle.js";
import { type HubFile, hubOptionsFromEnv, pullFile } from "../../src/models/hub.js";

const files = new Map<string, HubStubFile>([
  ["gguf/vall_e-Q8_0.gguf", { bytes: randomBytes(300_000), lfs: true }],
  ["gguf/encodec.bin", { bytes: randomBytes(120_000), lfs: true }],
  ["hf/tokenizer.json", { bytes: Buffer.from('{"model":{"type":"BPE","vocab":{},"merges":[]}}\n'), lfs: false }],
  ["charactr/vocos-encodec-24khz/main/pytorch_model.bin", { bytes: randomBytes(90_000), lfs: true }],
  ["charactr/vocos-encodec-24khz/main/config.yaml", { bytes: Buffer.from("backbone: {}\n"), lfs: false }],
]);
let hub: HubStub;
let endpoint: string;
let requests: HubStub["requests"];

beforeAll(async () => {
  hub = await startHubStub(files);
  endpoint = hub.endpoint;
  requests = hub.requests;
});
afterAll(() => hub.close());
beforeEach(() => {
  requests.length = 0;
  hub.fault = {};
});

const gguf: HubFile = { repo: "ecker/vall-e", revision: "gguf", path: "vall_e-Q8_0.gguf" };
const bytesOf = (key: string) => (files.get(key) as { bytes: Buffer }).bytes;
/** GETs of the file body (not the 1-byte probe of its download info). */
const transfers = (name: string) =>
  requests.filter((r) => r.method === "GET" && r.url.endsWith(name) && r.range !== "bytes=0-0");

function cacheDir(): string {
  return tempDir("vall-e-hub-");
}

describe("hub downloads (a local server stands in for the hub via HF_ENDPOINT)", () => {
  it("hub settings come from HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE", () => {
    expect(hubOptionsFromEnv({})).toEqual({ endpoint: "https://huggingface.co", offline: false });
    expect(hubOptionsFromEnv({ HF_ENDPOINT: "http://mirror/", HF_TOKEN: "hf_x", HF_HUB_OFFLINE: "1" })).toEqual({
      endpoint: "http://mirror",
      token: "hf_x",
      offline: true,
    });
  });

  it("a fresh download lands verified under its name with a record; a second pull checks it and fetches nothing", async () => {
    const dir = cacheDir();
    const progress: number[] = [];
    const pulled = await pullFile(gguf, dir, {
      endpoint,
      token: "hf_secret",
      onProgress: (e) => progress.push(e.received),
    });
    expect(pulled).toMatchObject({ path: join(dir, "vall_e-Q8_0.gguf"), downloaded: true, replacedCorrupt: false });
    expect(readFileSync(pulled.path)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
    expect(readdirSync(dir).sort()).toEqual(["vall_e-Q8_0.gguf", "vall_e-Q8_0.gguf.download.json"]);
    const record = JSON.parse(readFileSync(`${pulled.path}.download.json`, "utf8"));
    expect(record.checksum).toEqual({
      algorithm: "sha256",
      hash: sha256(bytesOf("gguf/vall_e-Q8_0.gguf")),
      size: 300_000,
    });
    expect(progress.at(-1)).toBe(300_000);
    expect(requests.every((r) => r.authorization === "Bearer hf_secret")).toBe(true);

    requests.length = 0;
    expect((await pullFile(gguf, dir, { endpoint })).downloaded).toBe(false);
    expect(transfers("vall_e-Q8_0.gguf")).toHaveLength(0);
  });

  it("a small file stored in git is checked against its git blob SHA-1", async () => {
    const dir = cacheDir();
    const pulled = await pullFile({ repo: "ecker/vall-e", revision: "hf", path: "tokenizer.json" }, dir, { endpoint });
    expect(pulled.checksum.algorithm).toBe("git-sha1");
    expect(readFileSync(pulled.path)).toEqual(bytesOf("hf/tokenizer.json"));
  });

  it("the server drops the connection mid-file: the download resumes with a Range request from where it stopped", async () => {
    const dir = cacheDir();
    hub.fault = { dropAfter: 131_072 };
    const pulled = await pullFile(gguf, dir, { endpoint });
    expect(readFileSync(pulled.path)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
    const gets = transfers("vall_e-Q8_0.gguf");
    expect(gets).toHaveLength(2);
    expect(gets[0]?.range).toBeUndefined();
    const resumedAt = Number(gets[1]?.range?.match(/^bytes=(\d+)-$/)?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(131_072);
  });

  it("a transfer that stalls mid-file (the connection open, no bytes) is given up after the timeout and resumed", async () => {
    const dir = cacheDir();
    hub.fault = { stallAfter: 98_304 };
    const pulled = await pullFile(gguf, dir, { endpoint, timeoutMs: 400 });
    expect(readFileSync(pulled.path)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
    const gets = transfers("vall_e-Q8_0.gguf");
    expect(gets).toHaveLength(2);
    expect(Number(gets[1]?.range?.match(/^bytes=(\d+)-$/)?.[1])).toBeGreaterThan(0);
  });

  it("a hub that accepts and never answers is a network error after the timeout, naming it; nothing is cached", async () => {
    const dir = cacheDir();
    hub.fault = { hang: true };
    const started = performance.now();
    await expect(pullFile(gguf, dir, { endpoint, timeoutMs: 300 })).rejects.toMatchObject({
      code: "ERR_NETWORK",
      message: `${endpoint} did not answer within 0.3 s (ecker/vall-e/vall_e-Q8_0.gguf; VALL_E_HUB_TIMEOUT sets the limit)`,
    });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(readdirSync(dir).filter((f) => !f.endsWith(".lock"))).toEqual([]);
    expect(hubOptionsFromEnv({ VALL_E_HUB_TIMEOUT: "2.5" }).timeoutMs).toBe(2500);
    expect(() => hubOptionsFromEnv({ VALL_E_HUB_TIMEOUT: "soon" })).toThrow(
      'Expected seconds in (0, 3600] for VALL_E_HUB_TIMEOUT, got "soon"',
    );
  });

  it("a run that gives up keeps the partial file (never under the real name); the next run resumes it", async () => {
    const dir = cacheDir();
    hub.fault = { dropAfter: 65_536 };
    await expect(pullFile(gguf, dir, { endpoint, attempts: 1 })).rejects.toMatchObject({
      code: "ERR_NETWORK",
      message: expect.stringContaining("the partial download is kept and the next run resumes it"),
    });
    expect(existsSync(join(dir, "vall_e-Q8_0.gguf"))).toBe(false);
    const partial = readdirSync(dir).filter((f) => f.endsWith(".incomplete"));
    expect(partial).toHaveLength(1);
    const kept = statSync(join(dir, partial[0] as string)).size;
    expect(kept).toBeGreaterThan(0);

    requests.length = 0;
    const pulled = await pullFile(gguf, dir, { endpoint });
    expect(readFileSync(pulled.path)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
    expect(transfers("vall_e-Q8_0.gguf").map((r) => r.range)).toEqual([`bytes=${kept}-`]);
    expect(readdirSync(dir).filter((f) => f.endsWith(".incomplete"))).toEqual([]);
  });

  it("a checksum mismatch is a clear error and leaves nothing in the cache", async () => {
    const dir = cacheDir();
    hub.fault = { corrupt: true };
    await expect(pullFile(gguf, dir, { endpoint })).rejects.toMatchObject({
      code: "ERR_CHECKSUM",
      message: expect.stringMatching(
        /^Checksum mismatch for vall_e-Q8_0\.gguf downloaded from .*: the hub says sha256 [0-9a-f]{64}, the bytes received have [0-9a-f]{64}\. The download was deleted and nothing was cached/,
      ),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("two concurrent pulls of the same file: one downloads, the other waits for it and finds it in place", async () => {
    const dir = cacheDir();
    hub.fault = { slow: 5 };
    const waited: string[] = [];
    const [a, b] = await Promise.all([
      pullFile(gguf, dir, { endpoint, onWait: (f) => waited.push(f) }),
      pullFile(gguf, dir, { endpoint, onWait: (f) => waited.push(f) }),
    ]);
    expect([a.downloaded, b.downloaded].sort()).toEqual([false, true]);
    expect(waited).toEqual(["vall_e-Q8_0.gguf"]);
    expect(transfers("vall_e-Q8_0.gguf")).toHaveLength(1);
    expect(readFileSync(a.path)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
  });

  it("a file the hub does not have, and a token that is not one, are named", async () => {
    await expect(
      pullFile({ repo: "ecker/vall-e", revision: "gguf", path: "vall_e-Q2_K.gguf" }, cacheDir(), { endpoint }),
    ).rejects.toMatchObject({
      code: "ERR_MODEL_NOT_FOUND",
      message: "ecker/vall-e has no file vall_e-Q2_K.gguf on branch gguf (check the name, e.g. the --quant)",
    });
    await expect(pullFile(gguf, cacheDir(), { endpoint, token: "nope" })).rejects.toThrow(
      'HF_TOKEN must be a Hugging Face access token (it starts with "hf_")',
    );
  });
});

describe("resolveModels", () => {
  const env = (cache: string, extra: NodeJS.ProcessEnv = {}) => ({
    HOME: "/nonexistent",
    XDG_CACHE_HOME: cache,
    HF_ENDPOINT: endpoint,
    ...extra,
  });

  it("downloads what is missing into the cache, then finds it there", async () => {
    const cache = cacheDir();
    const first = await resolveModels({ env: env(cache) });
    expect(first.sources).toEqual({ lm: "downloaded", codec: "downloaded", tokenizer: "downloaded" });
    expect(first.files.lm).toBe(join(cache, "vall-e", "vall_e-Q8_0.gguf"));
    requests.length = 0;
    const second = await resolveModels({ env: env(cache) });
    expect(second.sources).toEqual({ lm: "cache", codec: "cache", tokenizer: "cache" });
    expect(requests).toEqual([]);
  });

  it("VALL_E_MODEL_DIR comes before the cache; explicit paths before both", async () => {
    const cache = cacheDir();
    const models = cacheDir();
    writeFileSync(join(models, "encodec.bin"), "x");
    await resolveModels({ env: env(cache), need: ["lm"] });
    const resolved = await resolveModels({
      need: ["tokenizer"],
      env: env(cache, { VALL_E_MODEL_DIR: models }),
      tokenizer: "/t",
    }).catch((e) => e);
    expect(resolved.message).toBe("Tokenizer file not found: /t");
    const ok = await resolveModels({ env: env(cache, { VALL_E_MODEL_DIR: models }), need: ["lm", "codec"] });
    expect(ok.sources).toEqual({ lm: "cache", codec: "model-dir" });
  });

  it("a cached model cut short is detected by its record and downloaded again; pull replaces a corrupt one", async () => {
    const cache = cacheDir();
    const { files: first } = await resolveModels({ env: env(cache), need: ["lm"] });
    truncateSync(first.lm, 1000);
    const again = await resolveModels({ env: env(cache), need: ["lm"] });
    expect(again.sources.lm).toBe("downloaded");
    expect(readFileSync(again.files.lm)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
    // Same size, different bytes: the record cannot tell; a pull checks the hash and replaces it.
    const bytes = readFileSync(again.files.lm);
    bytes.writeUInt8((bytes[10] as number) ^ 1, 10);
    writeFileSync(again.files.lm, bytes);
    const pulled = await pullFile(gguf, join(cache, "vall-e"), { endpoint });
    expect(pulled).toMatchObject({ downloaded: true, replacedCorrupt: true });
    expect(readFileSync(again.files.lm)).toEqual(bytesOf("gguf/vall_e-Q8_0.gguf"));
  });

  it("offline and not cached: a message naming the files and --model tiny", async () => {
    const expected =
      /^The model files are not on this machine and cannot be downloaded \((.+)\)\. Needed: vall_e-Q8_0\.gguf \(ecker\/vall-e, branch gguf\), encodec\.bin \(ecker\/vall-e, branch gguf\), tokenizer\.json \(ecker\/vall-e, branch hf\)\. Put them in VALL_E_MODEL_DIR or .*vall-e, run `vall-e models pull` when online, or use --model tiny \(an offline random-weight model: its audio is noise\)\.$/;
    const port = await closedPort();
    const unreachable = await resolveModels({
      env: env(cacheDir(), { HF_ENDPOINT: `http://127.0.0.1:${port}` }),
    }).catch((e) => e);
    expect(unreachable.code).toBe("ERR_MODELS_UNAVAILABLE");
    expect(unreachable.message).toMatch(expected);
    expect(unreachable.message).toContain(`Cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`);
    const offline = await resolveModels({ env: env(cacheDir(), { HF_HUB_OFFLINE: "1" }) }).catch((e) => e);
    expect(offline.message).toMatch(expected);
    expect(offline.message).toContain("(HF_HUB_OFFLINE is set)");
  });

  it("Vocos comes from its own repository with its config.yaml, into a folder of its own; offline, --vocoder encodec is named", async () => {
    const cache = cacheDir();
    const first = await resolveModels({ env: env(cache), need: ["vocos"] });
    expect(first.sources).toEqual({ vocos: "downloaded" });
    expect(first.files.vocos).toBe(join(cache, "vall-e", "vocos-encodec-24khz", "pytorch_model.bin"));
    expect(readFileSync(first.files.vocos)).toEqual(bytesOf("charactr/vocos-encodec-24khz/main/pytorch_model.bin"));
    expect(readFileSync(join(cache, "vall-e", "vocos-encodec-24khz", "config.yaml"), "utf8")).toBe("backbone: {}\n");
    requests.length = 0;
    expect((await resolveModels({ env: env(cache), need: ["vocos"] })).sources).toEqual({ vocos: "cache" });
    expect(requests).toEqual([]);
    const models = cacheDir();
    const local = join(models, "vocos-encodec-24khz", "pytorch_model.bin");
    mkdirSync(dirname(local));
    writeFileSync(local, "x");
    const fromDir = await resolveModels({ env: env(cacheDir(), { VALL_E_MODEL_DIR: models }), need: ["vocos"] });
    expect(fromDir).toMatchObject({ files: { vocos: local }, sources: { vocos: "model-dir" } });
    const offline = await resolveModels({ env: env(cacheDir(), { HF_HUB_OFFLINE: "1" }), need: ["lm", "vocos"] }).catch(
      (e) => e,
    );
    expect(offline.code).toBe("ERR_MODELS_UNAVAILABLE");
    expect(offline.message).toContain("pytorch_model.bin (charactr/vocos-encodec-24khz, branch main)");
    expect(offline.message).toContain("or decode with `--vocoder encodec` (EnCodec's own decoder)");
  });

  it("an unknown quant is named with the known ones", async () => {
    await expect(resolveModels({ env: env(cacheDir()), quant: "Q9_9" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      message: 'Unknown quant "Q9_9": expected one of Q8_0, F16, BF16, Q4_K, Q3_K, Q2_K',
    });
  });
});

/**
 * `vall-e models pull [--quant Q8_0] [--tiny]`, `vall-e models list [--json]`, `vall-e models path`: the model bundle
 * cache — download (resumable, checked against the hub's SHA-256) what `tts` would download, see what is where, and
 * find the cache directory.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { downloadBar, MODEL_HELP } from "../io/model-files.js";

interface ModelFileEntry {
  name: string;
  path: string;
  bytes: number;
  /** Where it is: VALL_E_MODEL_DIR, the cache, or the tiny bundle in the cache. */
  location: "model-dir" | "cache" | "tiny";
  /** The hub checksum recorded when it was downloaded (cache only). */
  sha256?: string;
}

export function modelsCommand(context: CommandContext): Command {
  const models = new Command("models").description("the model bundle cache: pull, list, path");

  models
    .command("pull")
    .description("download a model bundle into the cache (resumable; verified against the hub's SHA-256)")
    .option("--quant <quant>", MODEL_HELP.quant, "Q8_0")
    .option("--tiny", "generate the offline tiny bundle instead (random weights: noise)")
    .action(async (options: { quant: string; tiny?: boolean }) => {
      const pipeline = await import("@vall-e/pipeline");
      const { cacheDir } = pipeline.modelDirectories();
      if (options.tiny) {
        const tiny = await pipeline.tinyBundle(join(cacheDir, "tiny"), context.signal);
        for (const path of [tiny.lm, tiny.codec, tiny.tokenizer, tiny.vocos]) context.output.data(`${path}\n`);
        context.output.info("the tiny bundle: random weights for offline runs and tests — its audio is noise");
        return;
      }
      const files = pipeline.bundleFiles(options.quant);
      const hub = pipeline.hubOptionsFromEnv();
      const bar = await downloadBar(context);
      try {
        for (const file of Object.values(files)) {
          const pulled = await pipeline.pullBundleFile(file, cacheDir, {
            ...hub,
            signal: context.signal,
            onProgress: bar.update,
            onWait: (name) => context.output.info(`waiting for another process downloading ${name}…`),
          });
          bar.stop();
          const state = pulled.downloaded
            ? pulled.replacedCorrupt
              ? "replaced a corrupt copy"
              : "downloaded"
            : "up to date";
          context.output.info(
            `${file.local}: ${state} (${pulled.checksum.algorithm} ${pulled.checksum.hash.slice(0, 12)}…)`,
          );
          context.output.data(`${pulled.path}\n`);
        }
      } finally {
        bar.stop();
      }
    });

  models
    .command("list")
    .description("the model files in VALL_E_MODEL_DIR and the cache")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const pipeline = await import("@vall-e/pipeline");
      const { modelDir, cacheDir } = pipeline.modelDirectories();
      const entries: ModelFileEntry[] = [];
      const scan = async (dir: string, location: ModelFileEntry["location"]) => {
        let names: string[];
        try {
          names = await readdir(dir);
        } catch {
          return;
        }
        for (const name of names.sort()) {
          if (!/\.(gguf|bin|pt|safetensors)$|^tokenizer\.json$/.test(name)) continue;
          const path = join(dir, name);
          const info = await stat(path);
          if (!info.isFile()) continue;
          const record = location === "cache" ? await pipeline.readDownloadRecord(path) : undefined;
          entries.push({
            name,
            path,
            bytes: info.size,
            location,
            ...(record?.checksum.algorithm === "sha256" ? { sha256: record.checksum.hash } : {}),
          });
        }
      };
      // Vocos lives in a folder of its own (vocos-encodec-24khz/pytorch_model.bin), in both places.
      const vocosDir = dirname(pipeline.bundleFiles().vocos.local);
      if (modelDir) {
        await scan(modelDir, "model-dir");
        await scan(join(modelDir, vocosDir), "model-dir");
      }
      await scan(cacheDir, "cache");
      await scan(join(cacheDir, vocosDir), "cache");
      await scan(join(cacheDir, "tiny"), "tiny");
      if (options.json) {
        context.output.data(`${JSON.stringify({ modelDir: modelDir ?? null, cacheDir, files: entries }, null, 2)}\n`);
        return;
      }
      if (entries.length === 0) {
        context.output.data(`no model files (cache: ${cacheDir}); run \`vall-e models pull\`, or use --model tiny\n`);
        return;
      }
      for (const entry of entries) {
        const size = `${(entry.bytes / 1e6).toFixed(1)} MB`.padStart(9);
        context.output.data(`${entry.location.padEnd(9)} ${size}  ${entry.path}\n`);
      }
    });

  models
    .command("path")
    .description("print the cache directory (downloads go there; VALL_E_MODEL_DIR is looked in first)")
    .action(async () => {
      const { modelDirectories } = await import("@vall-e/pipeline");
      context.output.data(`${modelDirectories().cacheDir}\n`);
    });
  return models;
}

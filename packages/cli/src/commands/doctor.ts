/**
 * `vall-e doctor [--json]`: what this installation has — Node, platform, the native addon and ggml's view of the
 * CPU, espeak-ng, the model directories. Exit code 1 when something required is missing.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { arch, cpus, platform, release, totalmem } from "node:os";
import { statPathSync } from "@vall-e/core";
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import type { Colors } from "../output.js";
import { CLI_VERSION } from "../version.js";

const NODE_REQUIRED = { major: 20, minor: 19 };

export interface DoctorReport {
  ok: boolean;
  version: string;
  node: { ok: boolean; version: string; required: string };
  platform: { os: string; arch: string; release: string; logicalCpus: number; memoryBytes: number };
  addon: {
    ok: boolean;
    /** The binary loaded (undefined when none could be). */
    path: string | undefined;
    /** Where it came from: VALL_E_NATIVE_PATH, a source build, or a prebuilt platform package's variant. */
    source: string | undefined;
    packageName: string | undefined;
    variant: string | undefined;
    /** Why this one was chosen. */
    reason: string | undefined;
    /** Every candidate the loader looked at, in order, and what became of it. */
    attempts: { candidate: string; path: string | undefined; outcome: string; reason: string }[];
    error: { code: string; message: string } | undefined;
    ggml:
      | {
          version: string;
          commit: string;
          build: string;
          cpuFeatures: string[];
          physicalCores: number;
          logicalCores: number;
          defaultThreads: number;
        }
      | undefined;
    /** The compute devices of the loaded build, and the one "auto" picks. */
    devices: {
      spec: string;
      name: string;
      description: string;
      kind: string;
      software: boolean;
      memoryTotal: number;
      memoryFree: number;
    }[];
    autoDevice: string | undefined;
  };
  espeakNg: {
    ok: boolean;
    /** As reported by the addon's espeak-ng (when the addon loads). */
    version: string | undefined;
    languages: number | undefined;
    library: string | undefined;
    dataDir: string | undefined;
    problem: string | undefined;
  };
  models: {
    modelDir: string | undefined;
    cacheDir: string;
    cacheExists: boolean;
    cacheWritable: boolean;
    /** The default bundle's files (Q8_0): where each was found, or null (a run would download it). */
    bundle: Record<string, string | null>;
    /** HF_HUB_OFFLINE is set: nothing missing can be downloaded. */
    offline: boolean;
  };
  /** What works but will surprise (a VALL_E_MODEL_DIR that is not there, an unwritable cache, offline with files missing). */
  warnings: string[];
}

function nodeOk(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  return major > NODE_REQUIRED.major || (major === NODE_REQUIRED.major && minor >= NODE_REQUIRED.minor);
}

function writable(dir: string): boolean {
  // The cache may not exist yet: then what matters is whether its nearest existing parent is writable.
  let current = dir;
  while (!existsSync(current)) {
    const parent = current.replace(/\/[^/]*$/, "") || "/";
    if (parent === current) break;
    current = parent;
  }
  try {
    accessSync(current, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function collectDoctorReport(): Promise<DoctorReport> {
  // Loaded here, not at startup: `vall-e --help` must work without a built addon.
  const native = await import("@vall-e/native");
  const { locateEspeakNg } = await import("@vall-e/phonemizer");
  const { bundleFiles, hubOptionsFromEnv, locateModelFile, modelDirectories } = await import("@vall-e/pipeline");

  const addon: DoctorReport["addon"] = {
    ok: false,
    path: undefined,
    source: undefined,
    packageName: undefined,
    variant: undefined,
    reason: undefined,
    attempts: [],
    error: undefined,
    ggml: undefined,
    devices: [],
    autoDevice: undefined,
  };
  try {
    const loaded = native.nativeLoadReport();
    const info = native.systemInfo();
    Object.assign(addon, {
      ok: true,
      path: loaded.path,
      source: loaded.source,
      packageName: loaded.packageName,
      variant: loaded.variant,
      reason: loaded.reason,
      attempts: loaded.attempts,
    });
    addon.ggml = {
      version: info.ggmlVersion,
      commit: info.ggmlCommit,
      build: info.build,
      cpuFeatures: info.cpuFeatures,
      physicalCores: info.physicalCores,
      logicalCores: info.logicalCores,
      defaultThreads: info.defaultThreads,
    };
    addon.devices = native.listDevices().map((d) => ({
      spec: d.spec,
      name: d.name,
      description: d.description,
      kind: d.kind,
      software: d.software,
      memoryTotal: d.memoryTotal,
      memoryFree: d.memoryFree,
    }));
    addon.autoDevice = native.resolveDevice("auto").spec;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    addon.error = { code: typeof code === "string" ? code : "ERR_INTERNAL", message: (error as Error).message };
    if (error instanceof native.NativeLoadError) addon.attempts = [...error.attempts];
  }

  const located = locateEspeakNg();
  const espeak: DoctorReport["espeakNg"] = {
    ok: located.available,
    version: undefined,
    languages: undefined,
    library: located.library,
    dataDir: located.dataDir,
    problem: located.problem,
  };
  if (addon.ok) {
    // The addon's own espeak-ng is what phonemize uses: ask it.
    try {
      const info = await native.espeakInfo();
      Object.assign(espeak, {
        ok: true,
        version: info.version,
        languages: info.languages.size,
        library: info.library,
        dataDir: info.dataDir,
        problem: undefined,
      });
    } catch (error) {
      Object.assign(espeak, { ok: false, problem: (error as Error).message });
    }
  }
  const dirs = modelDirectories();
  const bundle: Record<string, string | null> = {};
  for (const { local: name } of Object.values(bundleFiles()))
    bundle[name] = (await locateModelFile(name))?.path ?? null;
  const node = { ok: nodeOk(process.version), version: process.version, required: ">=20.19" };
  let offline = false;
  const warnings: string[] = [];
  try {
    offline = hubOptionsFromEnv().offline === true;
  } catch (error) {
    warnings.push((error as Error).message); // e.g. a VALL_E_HUB_TIMEOUT that is not a number
  }
  if (dirs.modelDir !== undefined && !statPathSync(dirs.modelDir)?.isDirectory()) {
    warnings.push(`VALL_E_MODEL_DIR is ${dirs.modelDir}, which is not a folder: nothing is found there`);
  }
  const cacheWritable = writable(dirs.cacheDir);
  const missing = Object.entries(bundle).filter(([, path]) => path === null);
  if (!cacheWritable) warnings.push(`the model cache ${dirs.cacheDir} is not writable: downloads will fail`);
  if (offline && missing.length > 0) {
    warnings.push(
      `HF_HUB_OFFLINE is set and ${missing.map(([name]) => name).join(", ")} ${missing.length === 1 ? "is" : "are"} not here: tts cannot run with the default models (--model tiny works offline)`,
    );
  }
  return {
    ok: node.ok && addon.ok && espeak.ok,
    version: CLI_VERSION,
    node,
    platform: { os: platform(), arch: arch(), release: release(), logicalCpus: cpus().length, memoryBytes: totalmem() },
    addon,
    espeakNg: espeak,
    models: {
      modelDir: dirs.modelDir,
      cacheDir: dirs.cacheDir,
      cacheExists: existsSync(dirs.cacheDir),
      cacheWritable,
      bundle,
      offline,
    },
    warnings,
  };
}

export function formatDoctorReport(report: DoctorReport, color: Colors): string {
  const mark = (ok: boolean) => (ok ? color.green("ok  ") : color.red("FAIL"));
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const lines = [
    `vall-e ${report.version}`,
    "",
    `${mark(report.node.ok)} node       ${report.node.version} (required ${report.node.required})`,
    `     platform   ${report.platform.os}-${report.platform.arch} ${report.platform.release}, ${report.platform.logicalCpus} CPUs, ${gib(report.platform.memoryBytes)}`,
  ];
  if (report.addon.ggml) {
    const g = report.addon.ggml;
    const a = report.addon;
    const from = a.source === "prebuilt" ? `${a.packageName} (${a.variant})` : a.source;
    lines.push(
      `${mark(true)} addon      ${a.path}`,
      `     loaded     ${from}: ${a.reason}`,
      ...a.attempts
        .filter((attempt) => attempt.outcome !== "loaded")
        .map((attempt) => `     tried      ${attempt.candidate}: ${attempt.reason}`),
      `     ggml       ${g.version} (${g.commit}), ${g.build} build`,
      `     cpu        ${g.cpuFeatures.join(" ") || "(no SIMD features)"}`,
      `     threads    ${g.defaultThreads} by default (${g.physicalCores} physical cores, ${g.logicalCores} logical)`,
      ...a.devices.map(
        (d) =>
          `     device     ${d.spec}: ${d.description} (${d.kind}${d.software ? ", software" : ""}, ${gib(d.memoryTotal)})${d.spec === a.autoDevice ? ", the one --device auto picks" : ""}`,
      ),
    );
  } else {
    lines.push(`${mark(false)} addon      ${report.addon.error?.message ?? "not loaded"}`);
  }
  lines.push(
    report.espeakNg.ok
      ? `${mark(true)} espeak-ng  ${report.espeakNg.version ? `${report.espeakNg.version}, ${report.espeakNg.languages} languages, ` : ""}${report.espeakNg.library ?? "library"} (data: ${report.espeakNg.dataDir})`
      : `${mark(false)} espeak-ng  ${report.espeakNg.problem}`,
    `     models     cache ${report.models.cacheDir}${report.models.cacheExists ? "" : " (not created yet)"}${report.models.cacheWritable ? "" : color.red(" (not writable)")}`,
  );
  if (report.models.modelDir) lines.push(`     models     VALL_E_MODEL_DIR ${report.models.modelDir}`);
  const missing = Object.entries(report.models.bundle).filter(([, path]) => path === null);
  lines.push(
    missing.length === 0
      ? `     models     ${Object.values(report.models.bundle).join(", ")}`
      : `     models     not here yet: ${missing.map(([name]) => name).join(", ")} (the first tts downloads them; \`vall-e models pull\` now, or --model tiny offline)`,
  );
  for (const warning of report.warnings) lines.push(`${color.red("warn")} ${warning}`);
  lines.push(
    "",
    report.ok ? color.green("everything vall-e needs is here") : color.red("some checks failed (see above)"),
  );
  return `${lines.join("\n")}\n`;
}

export function doctorCommand(context: CommandContext): Command {
  return new Command("doctor")
    .description("check this installation: Node, the native addon and ggml, espeak-ng, model directories")
    .option("--json", "print the report as one JSON document on stdout")
    .action(async (options: { json?: boolean }) => {
      const report = await collectDoctorReport();
      const { output } = context;
      output.data(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report, output.color));
      if (!report.ok) context.setExitCode(EXIT_FAILURE);
    });
}

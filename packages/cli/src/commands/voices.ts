/**
 * `vall-e voices add NAME FILE… [--voices DIR]`, `vall-e voices list [--json]`, `vall-e voices remove ID|NAME`: the
 * voice library — the same directory and format as the server's (`vall-e serve --voices`), so a voice added here is
 * served there and the other way round. A voice is its references' codes, computed once; `vall-e tts --voice-ref NAME`
 * speaks with it (the same audio as `--prompt` with its files).
 */
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addModelOptions, type ModelFlags, resolveModelFiles } from "../io/model-files.js";

const VOICES_HELP = "the voice library (default: VALL_E_VOICES_DIR or ~/.local/share/vall-e/voices; as vall-e serve)";

export async function openVoices(dir: string | undefined) {
  const server = await import("@vall-e/server");
  return server.VoiceStore.open(dir ?? server.defaultVoicesDir());
}

export function voicesCommand(context: CommandContext): Command {
  const voices = new Command("voices").description("the voice library shared with vall-e serve: add, list, remove");

  const add = voices
    .command("add")
    .description("encode audio files (WAV, FLAC, MP3, Ogg) once into a named voice")
    .argument("<name>", "the voice's name (letters, digits, space, . _ -)")
    .argument("<files...>", "its references: one or more audio files")
    .option("--voices <dir>", VOICES_HELP);
  addModelOptions(add, ["codec"]);
  add.action(async (name: string, files: string[], flags: ModelFlags & { voices?: string }) => {
    const [{ Engine }, store] = await Promise.all([import("@vall-e/pipeline"), openVoices(flags.voices)]);
    const resolved = await resolveModelFiles(context, flags, ["codec"]);
    await using engine = await Engine.load({ models: resolved.files, need: ["codec"] });
    const voice = await store.add(engine, name, files, { signal: context.signal });
    context.output.data(`${voice.id}\n`);
    context.output.info(
      `added voice ${JSON.stringify(name)} (${voice.seconds.toFixed(2)} s of prompt codes) to ${store.dir}`,
    );
  });

  voices
    .command("list")
    .description("the voices in the library")
    .option("--json", "as JSON")
    .option("--voices <dir>", VOICES_HELP)
    .action(async (flags: { json?: boolean; voices?: string }) => {
      const store = await openVoices(flags.voices);
      const list = store.list();
      if (flags.json) {
        context.output.data(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      if (list.length === 0) context.output.info(`no voices yet in ${store.dir} (vall-e voices add NAME FILE…)`);
      for (const voice of list) context.output.data(`${voice.id}  ${voice.name}  ${voice.seconds.toFixed(2)} s\n`);
    });

  voices
    .command("remove")
    .description("remove a voice by id or name")
    .argument("<voice>", "its id or name")
    .option("--voices <dir>", VOICES_HELP)
    .action(async (idOrName: string, flags: { voices?: string }) => {
      const store = await openVoices(flags.voices);
      try {
        const removed = await store.remove(idOrName, { byName: true });
        context.output.info(`removed ${removed.name} (${removed.id})`);
      } catch (error) {
        throw Object.assign(new Error((error as Error).message), { code: "ERR_USAGE" });
      }
    });
  return voices;
}

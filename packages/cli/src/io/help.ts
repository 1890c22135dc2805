/**
 * The help of every command: options under headings (input, voice, model, generation, sampling, output) in one
 * order, the global -q / -v listed, and a few examples of that command at the end. `vall-e --help` alone starts
 * with the quick start (program.ts).
 */
import { type Command, Help, type Option } from "commander";

/** Option headings, in the order the help shows them (commander calls the rest "Options:"). */
export const OPTION_GROUPS = {
  input: "Input Options:",
  voice: "Voice Options:",
  model: "Model Options:",
  generation: "Generation Options:",
  sampling: "Sampling Options:",
  output: "Output Options:",
} as const;

const GROUP_ORDER: readonly string[] = Object.values(OPTION_GROUPS);

/** An example: what it does, then the command line. */
type Example = readonly [what: string, command: string];

const GENERATE: readonly Example[] = [
  [
    "the LM stage: phonemes and a voice's codes in, response codes out",
    "generate --phonemes hello.phonemes.json --prompt voice.codes.npy -o hello.codes.npy",
  ],
  [
    "AR then NAR with a fixed seed, the codes as JSON on stdout",
    "generate --phonemes hello.phonemes.json --modality ar+nar --seed 1 -o -",
  ],
];

/** Each command's examples, by its path under `vall-e` (each line starts with `vall-e `). */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  phonemize: [
    ["the IPA and the token ids on stdout", 'phonemize "Hello there."'],
    [
      "the phoneme artifact, for generate or tts --phonemes",
      'phonemize "Hello there." --lang en -o hello.phonemes.json',
    ],
  ],
  encode: [
    ["a voice's codes, for generate --prompt", "encode voice.wav -o voice.codes.npy"],
    ["as JSON on stdout, with the offline tiny codec", "encode voice.wav -o - --codec tiny"],
  ],
  decode: [
    ["response codes to a WAV, through Vocos", "decode hello.codes.npy -o hello.wav"],
    ["through EnCodec's own decoder, played at once", "decode hello.codes.npy --vocoder encodec -o - | aplay"],
  ],
  inspect: [
    ["what a file holds, checked", "inspect hello.codes.npy"],
    ["a run's manifest as JSON", "inspect run/run.json --json"],
  ],
  "convert-codec": [
    [
      "encodec.cpp's weights from a Hugging Face checkpoint, f16 as the published file",
      "convert-codec facebook-encodec_24khz/ -o encodec.bin --f16",
    ],
  ],
  tts: [
    ["in the voice of voice.wav (a few seconds of speech)", 'tts "Hello there." --prompt voice.wav -o hello.wav'],
    [
      "a text file in a voice of the library, played as it is spoken",
      "tts --text-file story.txt --voice-ref anna -o - | aplay",
    ],
    [
      "offline (random weights: noise), every stage's artifact kept",
      'tts "Hello there." --model tiny --artifacts run/ -o hello.wav',
    ],
  ],
  generate: GENERATE,
  lm: [
    ["the LM stage, as vall-e generate", `lm ${GENERATE[0]?.[1]}`],
    ["one forward pass of a fixture case", "lm forward --model tiny --input case.json -o logits.npy"],
  ],
  "lm generate": GENERATE.map(([what, command]) => [what, `lm ${command}`] as const),
  "lm forward": [
    ["the logits of one forward pass", "lm forward --model tiny --input case.json -o logits.npy"],
    [
      "and every layer's intermediates, to find where two implementations diverge",
      "lm forward --model vall_e-F16.gguf --input case.json -o logits.npy --dump-hidden hidden/",
    ],
  ],
  stt: [
    ["the IPA of some speech on stdout", "stt voice.wav"],
    ["the phoneme artifact, on the tiny model", "stt voice.wav --model tiny --seed 3 -o p.json"],
  ],
  eval: [
    ["an HTML report of a file of texts", "eval --texts texts.txt --prompt voice.wav --model tiny --report out/"],
    ["two texts, the results as JSON", 'eval "Hello there." "How are you?" --model tiny --json'],
  ],
  serve: [
    ["the server on the tiny bundle", "serve --model tiny --port 8080"],
    [
      "then, from another shell",
      "curl -s http://127.0.0.1:8080/v1/audio/speech -H 'content-type: application/json' \\\n" +
        '    -d \'{"model": "vall-e", "input": "Hello there."}\' -o hello.wav',
    ],
  ],
  batch: [
    ["speak every line of a manifest here, resumable", "batch lines.jsonl -o out/"],
    [
      "enqueue it for vall-e worker, then wait for the results",
      "batch lines.jsonl --queue redis://127.0.0.1:6379/0 --wait -o out/",
    ],
  ],
  worker: [
    [
      "speak a queue's jobs into a folder every worker shares",
      "worker --queue redis://127.0.0.1:6379/0 -o /shared/out",
    ],
  ],
  voices: [
    [
      "add a voice, then speak with it",
      'voices add anna anna.wav && vall-e tts "Hello." --voice-ref anna -o hello.wav',
    ],
    ["the voices of the library", "voices list"],
  ],
  "voices add": [["a voice from two recordings", "voices add anna anna-1.wav anna-2.flac"]],
  "voices list": [["the voices, as JSON", "voices list --json"]],
  "voices remove": [["remove a voice by name (or id)", "voices remove anna"]],
  models: [
    ["download the default bundle (Q8_0)", "models pull"],
    ["the model files there are, and where", "models list"],
  ],
  "models pull": [
    ["the F16 LM and the rest of its bundle", "models pull --quant f16"],
    ["the offline tiny bundle (random weights)", "models pull --tiny"],
  ],
  "models list": [["the model files, as JSON", "models list --json"]],
  "models path": [["the cache directory", "models path"]],
  doctor: [
    ["check this installation", "doctor"],
    ["the report as one JSON document", "doctor --json"],
  ],
  "build-native": [
    ["compile the addon for this machine's CPU (needs cmake, a C++17 compiler, git)", "build-native"],
    ["a build that runs on any x86-64-v3 CPU, on 2 jobs", "build-native --cpu x86-64-v3 --jobs 2"],
  ],
};

/** The Examples section of a command's help. */
export function examplesText(examples: readonly Example[]): string {
  const lines = examples.map(([what, command]) => {
    const full = command.startsWith("curl ") ? command : `vall-e ${command}`;
    return `  # ${what}\n  ${full}`;
  });
  return `\nExamples:\n${lines.join("\n")}`;
}

/**
 * Option groups in the order of OPTION_GROUPS. The plain "Options:" group comes first when it holds a command's own
 * options (a command that does not sort its options under headings), last when it holds only --help.
 */
function groupItems<T extends Command | Option>(
  this: Help,
  unsortedItems: T[],
  visibleItems: T[],
  getGroup: (item: T) => string,
): Map<string, T[]> {
  const groups = Help.prototype.groupItems.call<Help, [T[], T[], (item: T) => string], Map<string, T[]>>(
    this,
    unsortedItems,
    visibleItems,
    getGroup,
  );
  const rank = (heading: string, items: T[]): number => {
    const known = GROUP_ORDER.indexOf(heading);
    if (known >= 0) return known;
    const onlyHelp = items.every((item) => "long" in item && item.long === "--help");
    return onlyHelp ? GROUP_ORDER.length : -1;
  };
  return new Map([...groups].sort(([a, itemsA], [b, itemsB]) => rank(a, itemsA) - rank(b, itemsB)));
}

/**
 * Every command's help (commander's help settings are not inherited by commands added with addCommand()): the
 * global options shown, the option groups in order, and the command's examples.
 */
export function configureHelp(command: Command, path = ""): void {
  command.configureHelp({ showGlobalOptions: true, groupItems });
  const examples = EXAMPLES[path];
  if (examples) command.addHelpText("after", examplesText(examples));
  for (const sub of command.commands) configureHelp(sub, path === "" ? sub.name() : `${path} ${sub.name()}`);
}

// The page of `vall-e serve`: speech through the server's OpenAI-compatible API, streamed as server-sent events of
// 16-bit PCM and played through Web Audio while later sentences are still being generated; stored voices (uploaded
// WAV files or microphone recordings encoded here as WAV); the run's timings, the whole result as a WAV file and its
// spectrogram. One ES module, standard browser APIs only.

/** The server's output: response_format "pcm" is 16-bit little-endian mono at this rate. */
const SAMPLE_RATE = 24_000;
/** Where the API key is kept (this tab only). */
const KEY_STORAGE = "vall-e.api-key";
/** The server's default limit on a voice's length; a recording stops by itself there. */
const MAX_RECORD_SECONDS = 30;
/** Scheduling slack when playback has caught up with the stream (seconds). */
const LEAD = 0.05;

const $ = (id) => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page has no #${id}`);
  return element;
};

/** The Download link of the result (in the page once there is a file to point at). */
function downloadLink() {
  const link = document.createElement("a");
  link.id = "download";
  link.className = "button secondary";
  link.textContent = "Download WAV";
  $("output").append(link);
  return link;
}

const ui = {
  health: $("health"),
  status: $("status"),
  error: $("error"),
  form: $("speak-form"),
  text: $("text"),
  voice: $("voice"),
  deleteVoice: $("delete-voice"),
  modality: $("modality"),
  language: $("language"),
  seed: $("seed"),
  samplers: [$("temperature"), $("top-p"), $("max-steps")],
  speak: $("speak"),
  stop: $("stop"),
  voiceName: $("voice-name"),
  uploadForm: $("upload-form"),
  voiceFile: $("voice-file"),
  upload: $("upload"),
  record: $("record"),
  recordNote: $("record-note"),
  result: $("result"),
  progress: $("progress"),
  streamProgress: $("stream-progress"),
  parts: $("parts"),
  timings: $("timings"),
  timingsNote: $("timings-note"),
  first: $("t-first"),
  total: $("t-total"),
  audioSeconds: $("t-audio"),
  rtf: $("t-rtf"),
  usedSeed: $("t-seed"),
  output: $("output"),
  audio: $("audio"),
  download: downloadLink(),
  figure: $("spectrogram-figure"),
  canvas: $("spectrogram"),
  apiKey: $("api-key"),
};

// ---- messages --------------------------------------------------------------------------------------------------

function say(message) {
  ui.status.textContent = message;
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.textContent = "";
  ui.error.hidden = true;
}

const seconds = (s) => `${s.toFixed(2)} s`;
const labelOf = (input) => document.querySelector(`label[for="${input.id}"]`)?.textContent?.trim() ?? input.name;
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

// ---- the API -----------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

function authHeaders(headers = {}) {
  const key = ui.apiKey.value.trim();
  return key ? { ...headers, authorization: `Bearer ${key}` } : headers;
}

/** The API's own message (`{ error: { message } }`) when the answer is an error, else its status line. */
async function errorOf(response) {
  let message = `The server answered ${response.status} ${response.statusText}`.trim();
  let code;
  try {
    const body = await response.json();
    if (typeof body?.error?.message === "string") {
      message = body.error.message;
      code = body.error.code;
    }
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) message += " — enter the server's API key under Connection.";
  return new ApiError(message, response.status, code);
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: authHeaders(init.headers) });
  if (!response.ok) throw await errorOf(response);
  return response;
}

// ---- server health -----------------------------------------------------------------------------------------------

let serverReady = false;

function setHealth(text, state) {
  ui.health.textContent = text;
  ui.health.dataset.state = state;
}

/** Polls /health until the models are loaded (true) or failed to load (false). */
async function watchHealth() {
  for (;;) {
    try {
      const response = await fetch("/health", { cache: "no-store" });
      const body = await response.json();
      if (response.ok) {
        setHealth("Server ready", "ok");
        return true;
      }
      if (body.status === "error") {
        setHealth(`The models could not be loaded: ${body.error}`, "bad");
        return false;
      }
      setHealth("Loading the models…", "wait");
    } catch {
      setHealth("The server cannot be reached; retrying…", "bad");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---- voices ------------------------------------------------------------------------------------------------------

/** Fills the voice picker from the server; keeps the choice (or picks `select`) when it is still there. */
async function loadVoices(select = ui.voice.value) {
  const response = await api("/v1/audio/voices");
  const { data } = await response.json();
  const options = data.map((voice) => new Option(`${voice.name} (${voice.seconds.toFixed(1)} s)`, voice.id));
  ui.voice.replaceChildren(new Option("No voice", ""), ...options);
  ui.voice.value = data.some((voice) => voice.id === select) ? select : "";
  updateControls();
}

/** A name the server accepts, from a file name or the time of a recording. */
function voiceName(fallback) {
  const typed = ui.voiceName.value.trim();
  if (typed) return typed;
  const cleaned = fallback
    .replace(/[^\p{L}\p{N} ._-]+/gu, " ")
    .trim()
    .slice(0, 64);
  return cleaned || "voice";
}

async function addVoice(blob, filename, name) {
  const form = new FormData();
  form.append("name", name);
  form.append("file", blob, filename);
  say(`Adding the voice "${name}"…`);
  const response = await api("/v1/audio/voices", { method: "POST", body: form });
  const voice = await response.json();
  await loadVoices(voice.id);
  ui.voiceName.value = "";
  say(`Added the voice "${voice.name}" (${voice.seconds.toFixed(1)} s); it is selected.`);
}

let busyVoices = false;

async function withVoices(task) {
  clearError();
  busyVoices = true;
  updateControls();
  try {
    await task();
  } catch (error) {
    say("");
    showError(messageOf(error));
  } finally {
    busyVoices = false;
    updateControls();
  }
}

ui.uploadForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const file = ui.voiceFile.files?.[0];
  if (!file) {
    showError("Choose a WAV file to upload first.");
    ui.voiceFile.focus();
    return;
  }
  void withVoices(async () => {
    await addVoice(file, file.name, voiceName(file.name.replace(/\.[^.]*$/, "")));
    ui.voiceFile.value = "";
  });
});

ui.voice.addEventListener("change", updateControls);

ui.deleteVoice.addEventListener("click", () => {
  const id = ui.voice.value;
  const label = ui.voice.selectedOptions[0]?.textContent ?? id;
  if (!id || !window.confirm(`Delete the voice ${label}?`)) return;
  void withVoices(async () => {
    await api(`/v1/audio/voices/${encodeURIComponent(id)}`, { method: "DELETE" });
    await loadVoices("");
    say(`Deleted the voice ${label}.`);
  });
});

// ---- recording a voice -------------------------------------------------------------------------------------------

let recording;

function noMicrophone(message) {
  ui.record.disabled = true;
  ui.recordNote.textContent = message;
}

/** Disables recording, with the reason, where the browser or the device cannot record. */
async function checkMicrophone() {
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") {
    noMicrophone("Recording needs a browser with MediaRecorder and a secure page (https or localhost).");
    return;
  }
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    if (!devices.some((device) => device.kind === "audioinput")) {
      noMicrophone("No microphone was found.");
      return;
    }
  } catch {
    // unknown: try when asked
  }
  try {
    const permission = await navigator.permissions?.query({ name: "microphone" });
    if (permission?.state === "denied") {
      noMicrophone("This page may not use the microphone; allow it in the browser's site settings to record.");
    }
  } catch {
    // a browser that cannot query this permission asks when recording starts
  }
}

async function startRecording() {
  clearError();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (error) {
    if (error?.name === "NotAllowedError" || error?.name === "SecurityError") {
      noMicrophone("Microphone permission was refused; allow it in the browser's site settings to record.");
    } else if (error?.name === "NotFoundError") noMicrophone("No microphone was found.");
    else showError(`The microphone could not be opened: ${messageOf(error)}`);
    return;
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  const started = performance.now();
  recorder.addEventListener("dataavailable", (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  });
  recorder.addEventListener("stop", () => {
    for (const track of stream.getTracks()) track.stop();
    clearInterval(recording.timer);
    recording = undefined;
    ui.record.textContent = "Record from microphone";
    ui.record.setAttribute("aria-pressed", "false");
    const name = voiceName(`Recording ${new Date().toLocaleTimeString().replace(/:/g, ".")}`);
    void withVoices(async () => {
      say("Encoding the recording…");
      const samples = await decodeMono(new Blob(chunks, { type: recorder.mimeType }), SAMPLE_RATE);
      if (samples.length < SAMPLE_RATE / 10) throw new Error("The recording is too short; record at least a second.");
      await addVoice(wavBlob([pcm16(samples)], SAMPLE_RATE), "recording.wav", name);
    });
  });
  const tick = () => {
    const elapsed = (performance.now() - started) / 1000;
    ui.record.textContent = `Stop recording (${Math.floor(elapsed)} s)`;
    if (elapsed >= MAX_RECORD_SECONDS && recorder.state === "recording") recorder.stop();
  };
  recording = { recorder, timer: setInterval(tick, 250) };
  recorder.start();
  tick();
  ui.record.setAttribute("aria-pressed", "true");
  say(`Recording… press the button again to stop (at most ${MAX_RECORD_SECONDS} s).`);
  updateControls();
}

ui.record.addEventListener("click", () => {
  if (recording) {
    if (recording.recorder.state === "recording") recording.recorder.stop();
  } else void startRecording();
});

/** Decodes recorded audio (webm/ogg opus, …) at `rate`, mixed down to one channel. */
async function decodeMono(blob, rate) {
  // decodeAudioData resamples to its context's rate; an OfflineAudioContext at the server's rate does it for us.
  const context = new OfflineAudioContext(1, 1, rate);
  const decoded = await context.decodeAudioData(await blob.arrayBuffer());
  const mono = new Float32Array(decoded.length);
  for (let c = 0; c < decoded.numberOfChannels; c++) {
    const channel = decoded.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / decoded.numberOfChannels;
  }
  return mono;
}

// ---- WAV ---------------------------------------------------------------------------------------------------------

/** Samples in [-1, 1] as 16-bit little-endian PCM. */
function pcm16(samples) {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(i * 2, Math.round(s < 0 ? s * 32768 : s * 32767), true);
  }
  return bytes;
}

/** A mono 16-bit PCM WAV file from little-endian sample bytes. */
function wavBlob(chunks, rate) {
  const size = chunks.reduce((n, chunk) => n + chunk.length, 0);
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset, text) => {
    for (let i = 0; i < text.length; i++) header.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  header.setUint32(4, 36 + size, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  header.setUint32(16, 16, true); // fmt chunk size
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // channels
  header.setUint32(24, rate, true);
  header.setUint32(28, rate * 2, true); // bytes per second
  header.setUint16(32, 2, true); // bytes per frame
  header.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  header.setUint32(40, size, true);
  return new Blob([header.buffer, ...chunks], { type: "audio/wav" });
}

// ---- speech ------------------------------------------------------------------------------------------------------

let audioContext;
/** The run in progress (or the last one while its audio still plays). */
let run;
let resultUrl;

function numberField(input) {
  if (input.validity.badInput) {
    throw new Error(`Expected a number for ${labelOf(input)}, got ${JSON.stringify(input.value)}`);
  }
  return input.value === "" ? undefined : input.valueAsNumber;
}

/** The request body from the form; options left empty are the server's defaults. */
function requestBody() {
  const input = ui.text.value.trim();
  if (!input) throw new Error("Type some text to speak.");
  const body = { model: "vall-e", input, response_format: "pcm", stream_format: "sse" };
  if (ui.voice.value) body.voice = ui.voice.value;
  if (ui.modality.value) body.modality = ui.modality.value;
  if (ui.language.value) body.language = ui.language.value;
  // A seed drawn here when none is given, so that a run can be repeated (the stream does not report its seed).
  body.seed = numberField(ui.seed) ?? crypto.getRandomValues(new Uint32Array(1))[0];
  for (const field of ui.samplers) {
    const value = numberField(field);
    if (value !== undefined) body[field.name] = value;
  }
  return body;
}

/** The events of a server-sent event stream, each `data:` payload parsed as JSON. */
async function* serverEvents(stream) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let finished = false;
  try {
    while (!finished) {
      const { value, done } = await reader.read();
      finished = done;
      buffer += decoder.decode(value, { stream: !done }).replace(/\r\n?/g, "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) yield JSON.parse(data);
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** One delta of PCM: kept for the WAV file, and scheduled on the AudioContext right after the previous one. */
function receive(state, delta) {
  // 16-bit samples; a delta that ends inside a sample leaves its last byte for the next one.
  let bytes = delta;
  if (state.carry) {
    bytes = new Uint8Array(state.carry.length + delta.length);
    bytes.set(state.carry);
    bytes.set(delta, state.carry.length);
  }
  const whole = bytes.length - (bytes.length % 2);
  state.carry = whole < bytes.length ? bytes.slice(whole) : undefined;
  if (whole === 0) return;
  const pcm = bytes.subarray(0, whole);
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.length);
  const samples = new Float32Array(whole / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
  state.bytes.push(pcm);
  state.samples.push(samples);
  state.received += samples.length;
  const elapsed = (performance.now() - state.started) / 1000;
  state.firstAudio ??= elapsed;

  const context = state.context;
  const buffer = context.createBuffer(1, samples.length, SAMPLE_RATE);
  buffer.copyToChannel(samples, 0);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  // A running start time: each part starts where the previous one ends, or a little after now if playback caught up.
  const at = Math.max(state.nextTime, context.currentTime + LEAD);
  source.start(at);
  state.nextTime = at + buffer.duration;
  state.sources.add(source);
  source.addEventListener("ended", () => {
    state.sources.delete(source);
    updateControls();
  });

  const item = document.createElement("li");
  item.textContent = `Part ${state.bytes.length}: ${seconds(samples.length / SAMPLE_RATE)} of audio, after ${seconds(elapsed)}`;
  ui.parts.append(item);
  ui.result.dataset.streamSamples = String(state.received);
  const progress = `Generating… ${seconds(state.received / SAMPLE_RATE)} of audio received in ${state.bytes.length} ${
    state.bytes.length === 1 ? "part" : "parts"
  }; playing as it arrives.`;
  ui.streamProgress.textContent = progress;
  say(progress);
}

function stopPlayback() {
  if (!run) return;
  for (const source of run.sources) source.stop();
  run.sources.clear();
  updateControls();
}

function resetResult() {
  ui.parts.replaceChildren();
  ui.timings.hidden = true;
  ui.timingsNote.hidden = true;
  ui.output.hidden = true;
  ui.figure.hidden = true;
  ui.audio.removeAttribute("src");
  ui.audio.load();
  ui.download.removeAttribute("href");
  if (resultUrl) URL.revokeObjectURL(resultUrl);
  resultUrl = undefined;
  ui.result.dataset.streamSamples = "0";
}

/** The whole result: timings, the WAV file in the audio element and the download link, the spectrogram. */
function showResult(state) {
  const total = (performance.now() - state.started) / 1000;
  const audioSeconds = state.received / SAMPLE_RATE;
  ui.first.textContent = state.firstAudio === undefined ? "–" : seconds(state.firstAudio);
  ui.total.textContent = seconds(total);
  ui.audioSeconds.textContent = seconds(audioSeconds);
  ui.rtf.textContent = audioSeconds > 0 ? `${(total / audioSeconds).toFixed(2)}×` : "–";
  ui.usedSeed.textContent = String(state.seed);
  ui.timings.hidden = false;
  ui.timingsNote.hidden = false;
  if (state.received === 0) return;

  resultUrl = URL.createObjectURL(wavBlob(state.bytes, SAMPLE_RATE));
  ui.audio.src = resultUrl;
  ui.download.href = resultUrl;
  ui.download.download = `vall-e-${new Date().toISOString().replace(/[:.]/g, "-")}.wav`;
  ui.output.hidden = false;

  const all = new Float32Array(state.received);
  let offset = 0;
  for (const part of state.samples) {
    all.set(part, offset);
    offset += part.length;
  }
  ui.figure.hidden = false;
  drawSpectrogram(ui.canvas, all);
}

async function speak() {
  clearError();
  let body;
  try {
    body = requestBody();
  } catch (error) {
    showError(messageOf(error));
    return;
  }
  stopPlayback();
  // Created (or resumed) inside the click, so the browser lets it play.
  audioContext ??= new AudioContext();
  void audioContext.resume().catch(() => undefined);
  const state = {
    controller: new AbortController(),
    context: audioContext,
    seed: body.seed,
    started: performance.now(),
    firstAudio: undefined,
    nextTime: 0,
    bytes: [],
    samples: [],
    received: 0,
    carry: undefined,
    sources: new Set(),
    generating: true,
  };
  run = state;
  resetResult();
  ui.result.dataset.state = "running";
  ui.progress.hidden = false;
  ui.streamProgress.textContent = "Waiting for the first sentence…";
  say("Generating…");
  updateControls();

  try {
    const response = await api("/v1/audio/speech", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: state.controller.signal,
    });
    if (!response.body) throw new Error("The browser gave no stream to read the answer from.");
    let done = false;
    try {
      for await (const event of serverEvents(response.body)) {
        if (event.type === "speech.audio.delta") receive(state, base64Bytes(event.audio));
        else if (event.type === "speech.audio.done") done = true;
        else if (event.error) {
          throw new ApiError(event.error.message ?? "The server reported an error", 500, event.error.code);
        }
      }
    } catch (error) {
      if (error instanceof ApiError || state.controller.signal.aborted) throw error;
      throw new Error(`The stream broke off: ${messageOf(error)}`);
    }
    if (!done) throw new Error("The stream ended before the speech was done.");
    ui.result.dataset.state = "done";
    const summary = `Done: ${seconds(state.received / SAMPLE_RATE)} of audio in ${state.bytes.length} ${
      state.bytes.length === 1 ? "part" : "parts"
    }.`;
    ui.streamProgress.textContent = summary;
    say(summary);
    showResult(state);
  } catch (error) {
    if (state.controller.signal.aborted) {
      ui.result.dataset.state = "stopped";
      ui.streamProgress.textContent = `Stopped after ${seconds(state.received / SAMPLE_RATE)} of audio.`;
      say("Stopped.");
      showResult(state);
    } else {
      ui.result.dataset.state = "error";
      ui.streamProgress.textContent = "The run failed.";
      say("");
      showError(messageOf(error));
    }
  } finally {
    state.generating = false;
    ui.progress.hidden = true;
    updateControls();
  }
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!run?.generating) void speak();
});

ui.stop.addEventListener("click", () => {
  if (run?.generating) run.controller.abort();
  stopPlayback();
});

// Playing the whole result stops the streamed playback, so the two do not overlap.
ui.audio.addEventListener("play", stopPlayback);

// ---- spectrogram -------------------------------------------------------------------------------------------------

const FFT_SIZE = 512;
const HOP = 128;
/** Decibels below the loudest bin that still get a colour. */
const DYNAMIC_RANGE = 80;

const HANN = Float64Array.from({ length: FFT_SIZE }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FFT_SIZE));
const COS = Float64Array.from({ length: FFT_SIZE / 2 }, (_, k) => Math.cos((2 * Math.PI * k) / FFT_SIZE));
const SIN = Float64Array.from({ length: FFT_SIZE / 2 }, (_, k) => Math.sin((2 * Math.PI * k) / FFT_SIZE));
const BIT_REVERSED = Uint16Array.from({ length: FFT_SIZE }, (_, i) => {
  let reversed = 0;
  for (let bit = 1, j = i; bit < FFT_SIZE; bit <<= 1, j >>= 1) reversed = (reversed << 1) | (j & 1);
  return reversed;
});

/** In-place iterative radix-2 FFT of FFT_SIZE points (forward: twiddles e^(−2πik/N)). */
function fft(re, im) {
  for (let i = 0; i < FFT_SIZE; i++) {
    const j = BIT_REVERSED[i];
    if (j > i) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let size = 2; size <= FFT_SIZE; size <<= 1) {
    const half = size >> 1;
    const step = FFT_SIZE / size;
    for (let start = 0; start < FFT_SIZE; start += size) {
      for (let j = 0; j < half; j++) {
        const c = COS[j * step];
        const s = SIN[j * step];
        const a = start + j;
        const b = a + half;
        const tr = c * re[b] + s * im[b];
        const ti = c * im[b] - s * re[b];
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** Log power (dB) per frame and bin: frames × (FFT_SIZE / 2) values, bin 0 first. */
function spectrogram(samples) {
  const bins = FFT_SIZE / 2;
  const frames = Math.max(1, Math.floor((samples.length - FFT_SIZE) / HOP) + 1);
  const out = new Float32Array(frames * bins);
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  for (let f = 0; f < frames; f++) {
    const offset = f * HOP;
    for (let i = 0; i < FFT_SIZE; i++) {
      re[i] = (samples[offset + i] ?? 0) * HANN[i];
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < bins; k++) out[f * bins + k] = 10 * Math.log10(re[k] * re[k] + im[k] * im[k] + 1e-12);
  }
  return { frames, bins, decibels: out };
}

/** A dark-to-bright colour ramp (256 RGB entries). */
const PALETTE = (() => {
  const stops = [
    [0, [8, 8, 24]],
    [0.3, [72, 24, 120]],
    [0.55, [176, 48, 112]],
    [0.8, [248, 128, 64]],
    [1, [252, 240, 176]],
  ];
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const upper = stops.findIndex(([at]) => at >= t);
    const [t1, c1] = stops[Math.max(upper, 1)];
    const [t0, c0] = stops[Math.max(upper, 1) - 1];
    const w = (t - t0) / (t1 - t0);
    for (let c = 0; c < 3; c++) palette[i * 3 + c] = Math.round(c0[c] + (c1[c] - c0[c]) * w);
  }
  return palette;
})();

function drawSpectrogram(canvas, samples) {
  const { frames, bins, decibels } = spectrogram(samples);
  let loudest = Number.NEGATIVE_INFINITY;
  for (const value of decibels) if (value > loudest) loudest = value;
  const { width, height } = canvas;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let x = 0; x < width; x++) {
    const frame = Math.min(frames - 1, Math.floor((x * frames) / width));
    for (let y = 0; y < height; y++) {
      const bin = Math.min(bins - 1, Math.floor(((height - 1 - y) * bins) / height)); // low frequencies at the bottom
      const level = 1 + (decibels[frame * bins + bin] - loudest) / DYNAMIC_RANGE;
      const index = Math.round(255 * Math.max(0, Math.min(1, level)));
      const pixel = (y * width + x) * 4;
      image.data[pixel] = PALETTE[index * 3];
      image.data[pixel + 1] = PALETTE[index * 3 + 1];
      image.data[pixel + 2] = PALETTE[index * 3 + 2];
      image.data[pixel + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
}

// ---- controls and start ------------------------------------------------------------------------------------------

function updateControls() {
  const generating = run?.generating === true;
  ui.speak.disabled = generating || !serverReady;
  ui.stop.disabled = !generating && !(run && run.sources.size > 0);
  ui.deleteVoice.disabled = busyVoices || ui.voice.value === "";
  ui.upload.disabled = busyVoices || !serverReady;
  if (!ui.recordNote.textContent) ui.record.disabled = (busyVoices && !recording) || !serverReady;
}

function restoreKey() {
  try {
    ui.apiKey.value = sessionStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    // storage is off: the key lasts as long as the page
  }
  ui.apiKey.addEventListener("change", () => {
    const key = ui.apiKey.value.trim();
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // as above
    }
    clearError();
    loadVoices().catch((error) => showError(messageOf(error)));
  });
}

restoreKey();
updateControls();
void checkMicrophone().then(updateControls);
loadVoices().catch((error) => showError(messageOf(error)));
void watchHealth().then((ready) => {
  serverReady = ready;
  updateControls();
});

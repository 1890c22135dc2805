#!/usr/bin/env bash
# The CUDA build and its checks, for a machine with an NVIDIA GPU and the CUDA toolkit (nvcc on PATH): this
# project's own machines have neither, so CI cannot run it. From the repository root, after ./setup.sh:
#
#   native/scripts/build-cuda.sh [model.gguf]
#
#   1. builds the addon with the CUDA backend (and Vulkan where its packages are installed) into native/build-cuda/;
#   2. runs the agreement checks the CI runs on lavapipe, on cuda:0 against the CPU of the same build: every shared
#      LM case (forward and cached step), EnCodec decode and encode, Vocos decode (../shared/fixtures needed);
#   3. with a model file (the full-shape LM, e.g. from `vall-e models path`), times `vall-e tts` of a 5 s utterance
#      on cuda and on the CPU, NAR-len and AR+NAR, and prints the wall times.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
command -v nvcc >/dev/null || { echo "build-cuda: nvcc is not on PATH (install the CUDA toolkit)" >&2; exit 1; }
export PATH="$root/.tools/node_modules/.bin:$PATH"

backends=cuda
command -v glslc >/dev/null && backends=cuda,vulkan
(cd native && node scripts/build.mjs --backends "$backends")
addon="$root/native/build-$(tr ',' '\n' <<<"$backends" | sort | paste -sd- -)/Release/vall_e.node"
export VALL_E_NATIVE_PATH="$addon"
node -e 'const a = require(process.env.VALL_E_NATIVE_PATH); console.log(a.systemInfo().build); for (const d of a.devices()) console.log(`  ${d.name}: ${d.description}, ${(d.memoryTotal / 2 ** 30).toFixed(1)} GiB`)'

shared="${VALL_E_SHARED_DIR:-$root/../shared}"
# Each check prints its JSON line and fails the script when the device is further from the CPU than CI allows on
# lavapipe (2e-3 of the largest value, the same argmax on every row).
judge='let r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(JSON.stringify(r));
for (const c of r.cases ?? [r]) { const v = c.maxLogit ?? c.maxValue;
  if (!(c.maxAbs / v <= 2e-3) || c.argmax === false) { console.error("FAIL", JSON.stringify(c)); process.exit(1); } }'
if [ -d "$shared/fixtures/lm" ]; then
  for name in $(node -e 'for (const c of require(process.argv[1]).cases) console.log(c.name)' "$shared/fixtures/lm/manifest.json"); do
    for path in forward cache; do
      (cd packages/lm && node --import tsx test/devices/agreement.ts "$shared/fixtures/lm/valle_tiny_random_f16.gguf" \
        "$shared/fixtures/lm" cuda "$name" "$path") | node -e "$judge"
    done
  done
  for check in encodec-decode encodec-encode vocos-decode; do
    (cd packages/codec && node --import tsx test/devices/agreement.ts "$shared/fixtures/encodec" "$shared/fixtures/vocos" \
      cuda "$check") | node -e "$judge"
  done
else
  echo "build-cuda: $shared/fixtures is absent: agreement checks skipped" >&2
fi

if [ $# -ge 1 ]; then
  text="The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet green forest."
  for device in cuda cpu; do
    for modality in nar-len ar+nar; do
      start=$(date +%s.%N)
      node "$root/packages/cli/bin/vall-e.js" tts "$text" --model "$1" --device "$device" --modality "$modality" --seed 1 -o "/tmp/vall-e-cuda-$device.wav" --quiet
      end=$(date +%s.%N)
      echo "tts $device $modality: $(node -e "console.log(($end - $start).toFixed(2))") s"
    done
  done
  rm -f /tmp/vall-e-cuda-*.wav
fi

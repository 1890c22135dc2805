#!/usr/bin/env bash
# Set up everything vall-e for Node needs on this machine, then run `pnpm <args>` when arguments are given.
#
#   ./setup.sh                       set up only
#   ./setup.sh exec vall-e doctor    set up, then run the CLI
#   ./setup.sh test                  set up, then run the whole test suite
#
# Steps, each skipped when already done:
#   1. system packages (cmake, a C++ compiler, git, pkg-config, espeak-ng, ...; for the Vulkan build — with
#      VALL_E_BACKENDS=vulkan, and for `test` — libvulkan-dev, glslc, spirv-headers, mesa-vulkan-drivers): apt-get when
#      running as root, otherwise the exact command to run is printed;
#   2. pnpm at the version pinned in package.json, installed into .tools/ (no global changes);
#   3. `pnpm install --frozen-lockfile` and `pnpm build` (turbo: builds the native addon and every package).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(pwd)

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# ---- Node ---------------------------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "Node.js >= 20.19 is required (https://nodejs.org or your distribution's nodejs package)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "Node.js >= 20.19 is required, found $(node --version)"

# ---- system packages ----------------------------------------------------------------------------------------------
# Debian/Ubuntu package names, and how we check that each is present.
packages=(cmake g++ make git pkg-config tar ca-certificates libespeak-ng-dev espeak-ng-data espeak-ng ninja-build ccache
  chromium redis-server)
missing=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd cmake || missing+=(cmake)
have_cmd c++ || missing+=(g++)
have_cmd make || missing+=(make)
have_cmd git || missing+=(git)
have_cmd pkg-config || missing+=(pkg-config)
have_cmd tar || missing+=(tar)
have_cmd ninja || missing+=(ninja-build)
have_cmd ccache || missing+=(ccache)
have_cmd espeak-ng || missing+=(espeak-ng)
have_cmd chromium || missing+=(chromium) # the web page's browser test (driven by playwright-core, no browser download)
have_cmd redis-server || missing+=(redis-server) # batch queue tests (started by the tests on 127.0.0.1)
[ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if ! (have_cmd pkg-config && pkg-config --exists espeak-ng); then missing+=(libespeak-ng-dev); fi
# espeak-ng's data lives in /usr/lib/<triplet>/espeak-ng-data or /usr/share/espeak-ng-data: either one will do.
have_espeak_data=false
for data_dir in /usr/lib/*/espeak-ng-data /usr/share/espeak-ng-data; do [ -d "$data_dir" ] && have_espeak_data=true; done
$have_espeak_data || missing+=(espeak-ng-data)

# The Vulkan build (VALL_E_BACKENDS=vulkan; the test suite builds it too, native/build-x86-64-v3-vulkan, and checks it on Mesa's
# software driver): the loader and headers, the shader compiler, SPIR-V headers and lavapipe.
want_vulkan=false
case ",${VALL_E_BACKENDS:-}," in *,vulkan,*) want_vulkan=true ;; esac
[ "${1:-}" = test ] && want_vulkan=true
[ "${VALL_E_SETUP_VULKAN:-}" = 1 ] && want_vulkan=true # only the packages (CI installs everything before the suite)
if $want_vulkan; then
  have_cmd glslc || missing+=(glslc)
  [ -e /usr/include/vulkan/vulkan.h ] || missing+=(libvulkan-dev)
  [ -d /usr/include/spirv ] || missing+=(spirv-headers)
  ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if ! have_cmd apt-get; then
    die "missing system packages: ${missing[*]} (install the equivalents of: ${packages[*]})"
  fi
  install_cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    die "missing system packages: ${missing[*]}. Install them with: sudo sh -c '$install_cmd'"
  fi
fi

# ---- pnpm (pinned in package.json's packageManager) ---------------------------------------------------------------
pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
pnpm_bin="$root/.tools/node_modules/.bin/pnpm"
if [ ! -x "$pnpm_bin" ] || [ "$("$pnpm_bin" --version 2>/dev/null)" != "$pnpm_version" ]; then
  say "installing pnpm $pnpm_version into .tools/"
  mkdir -p .tools
  npm install --prefix .tools --no-save --no-package-lock --no-audit --no-fund --loglevel=error "pnpm@$pnpm_version" >&2
fi
export PATH="$root/.tools/node_modules/.bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1 DO_NOT_TRACK=1

# ---- dependencies and build ---------------------------------------------------------------------------------------
pnpm install --frozen-lockfile --reporter=append-only >&2
pnpm build >&2

if [ $# -gt 0 ]; then
  exec pnpm "$@"
fi
say "ready. Put pnpm on your PATH with: export PATH=\"$root/.tools/node_modules/.bin:\$PATH\""

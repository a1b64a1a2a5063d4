#!/usr/bin/env bash
# Installs a real VS Code (1.100.3, as the web build inside the npm package code-server@4.100.3) into a cache
# outside the repository, keyed by version, for the integration suite's runner B and the e2e script.
#
# Why code-server: @vscode/test-electron downloads VS Code from Microsoft's update servers, which CI cannot reach;
# code-server comes from the npm registry. Its install scripts download prebuilt binaries (ripgrep, native
# modules), which cannot work offline, so they are skipped and the native modules are rebuilt locally instead.
#
# Idempotent: a finished build leaves a stamp; a second run only checks the stamp and prints the path.
# Prints the install root (the folder holding node_modules/code-server) on its last line of stdout.
# Environment: JWT_API_SECURITY_CACHE overrides the cache root (default ~/.cache/jwt-api-security);
#              SKIP_APT=1 skips the apt-get step (when the packages are known to be present).
set -euo pipefail

VERSION=4.100.3
CACHE_ROOT="${JWT_API_SECURITY_CACHE:-$HOME/.cache/jwt-api-security}"
DEST="$CACHE_ROOT/code-server-$VERSION"
STAMP="$DEST/.complete"
SERVER_MAIN="$DEST/node_modules/code-server/lib/vscode/out/server-main.js"

log() { echo "[setup-code-server] $*" >&2; }

if [[ -f "$STAMP" && -f "$SERVER_MAIN" ]]; then
  log "cached: $DEST"
  echo "$DEST"
  exit 0
fi

# System packages: headers for the native modules (kerberos, native-keymap, keytar), ripgrep to replace the
# downloaded binary, chromium for the headless browser. Only what is missing is installed.
APT_PACKAGES=(build-essential python3 libkrb5-dev libxkbfile-dev libsecret-1-dev ripgrep chromium)
if [[ "${SKIP_APT:-0}" != "1" ]]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi
command -v rg >/dev/null || { log "ripgrep (rg) not found"; exit 1; }

# Build in a scratch folder beside the destination, then move it into place, so an interrupted build never
# leaves a half-built cache that looks complete.
mkdir -p "$CACHE_ROOT"
BUILD="$(mktemp -d "$CACHE_ROOT/.build-$VERSION.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_loglevel=warn

cd "$BUILD"
echo '{"name":"code-server-cache","private":true}' > package.json
log "npm install code-server@$VERSION (scripts skipped)"
npm install --ignore-scripts --no-save "code-server@$VERSION" >&2
log "npm rebuild argon2"
npm rebuild argon2 >&2

VSCODE_DIR="$BUILD/node_modules/code-server/lib/vscode"
cd "$VSCODE_DIR"
log "installing VS Code's server dependencies"
npm install --omit=dev --ignore-scripts >&2
# @vscode/ripgrep's postinstall downloads a binary; the system's rg takes its place.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
log "rebuilding native modules (node-pty, spdlog, kerberos, ...)"
npm rebuild >&2
# The server loads its modules through node_modules.asar paths in the packaged layout.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
log "installing built-in extensions' dependencies"
(cd extensions && npm install --omit=dev --ignore-scripts >&2 && npm rebuild >&2)

[[ -f "$VSCODE_DIR/out/server-main.js" ]] || { log "server-main.js missing after install"; exit 1; }
date -u +%FT%TZ > "$BUILD/.complete"

cd "$CACHE_ROOT"
rm -rf "$DEST"
mv "$BUILD" "$DEST"
trap - EXIT
log "installed: $DEST"
echo "$DEST"

#!/usr/bin/env bash
# Install headless Chromium and its WebDriver server for the `weft ui`
# browser tests (crates/weft-cli/tests/ui_browser.rs).
#
#   bash scripts/ui/setup.sh
#
# Debian packages only: chromium + chromium-driver (apt-get update, then
# install without recommends). Idempotent: when both `chromium` and
# `chromedriver` are on PATH nothing is done. Runs apt-get through sudo when
# not root. Cold: ~40 s and ~300 MB.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "ui: chromium and chromedriver ready"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver
command -v chromium >/dev/null && command -v chromedriver >/dev/null
echo "ui: chromium and chromedriver installed in $(( $(date +%s) - start )) s"

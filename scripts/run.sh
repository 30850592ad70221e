#!/usr/bin/env bash
# The "open the workstation" command of the README: installs build
# prerequisites if missing, builds in release mode and opens sample_scans
# (or the folder given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/nadir-target}"
exec cargo run --release -- "${1:-sample_scans}"

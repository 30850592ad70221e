#!/usr/bin/env bash
# The test command of the README: installs build prerequisites if missing, then
# runs every test (unit, integration over ../shared/dicom and sample_scans, doc).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/nadir-target}"
cargo test --all-targets "$@"
cargo test --doc

#!/usr/bin/env bash
# The test command of the README: installs build prerequisites if missing, then
# runs every test (unit, integration over ../shared/dicom and sample_scans, doc,
# and the end-to-end read of the real binary under Xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/nadir-target}"
cargo test --all-targets "$@"
cargo test --doc
# the real binary under a real X server, driven with real input
bash scripts/e2e_read.sh

#!/usr/bin/env bash
# Loading benchmark, side by side in one run (issue 2): `nadir inspect` against
# dcm2niix, SimpleITK and pydicom on a synthetic 300 x 512^2 CT written by
# `nadir synth`, uncompressed and in the common compressed transfer syntaxes.
#
#   bash scripts/bench_inspect.sh            # SLICES=300 RUNS=7 by default
#
# Needs (installed here if missing): dcmtk, libgdcm-tools, hyperfine, GNU time;
# pip: pydicom numpy pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle SimpleITK dcm2niix.
# Results: a table of medians and ratios on stdout, raw hyperfine JSON in $BENCH_DIR/results.
set -euo pipefail
cd "$(dirname "$0")/.."
SLICES=${SLICES:-300}
RUNS=${RUNS:-7}
WORK=${BENCH_DIR:-/var/tmp/nadir-bench}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/nadir-target}"
bash scripts/prereqs.sh
missing=()
for tool in dcmcrle:dcmtk gdcmconv:libgdcm-tools hyperfine:hyperfine /usr/bin/time:time; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c "import pydicom, SimpleITK, pylibjpeg, dcm2niix" 2>/dev/null ||
  pip install -q pydicom numpy pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle SimpleITK dcm2niix
DCM2NIIX=$(python3 -c "import dcm2niix, os; print(os.path.join(os.path.dirname(dcm2niix.__file__), 'dcm2niix'))" 2>/dev/null || command -v dcm2niix)
[ -x "$DCM2NIIX" ] || DCM2NIIX=$(command -v dcm2niix)

cargo build --release --quiet
NADIR="$CARGO_TARGET_DIR/release/nadir"
mkdir -p "$WORK/results"
data="$WORK/ct${SLICES}"
if [ ! -f "$data/.done" ]; then
  rm -rf "$data"; mkdir -p "$data"
  "$NADIR" synth "$data/unc" --slices "$SLICES" >/dev/null
  "$NADIR" synth "$data/jpegls" --slices "$SLICES" --transfer-syntax jpeg-ls >/dev/null
  mkdir -p "$data/rle" "$data/jpegll" "$data/j2k"
  for f in "$data"/unc/*.dcm; do
    b=$(basename "$f")
    dcmcrle "$f" "$data/rle/$b"
    dcmcjpeg --encode-lossless-sv1 "$f" "$data/jpegll/$b"
    gdcmconv --j2k "$f" "$data/j2k/$b"
  done
  touch "$data/.done"
fi
out=/dev/shm/nadir-bench-nii
mkdir -p "$out"
for set in unc rle jpegll jpegls j2k; do
  dir="$data/$set"
  cat "$dir"/*.dcm > /dev/null   # warm page cache
  rm -f "$out"/*
  cmds=(-n "nadir inspect" "$NADIR inspect $dir --json"
        -n "nadir inspect --no-hash" "$NADIR inspect $dir --json --no-hash"
        -n "dcm2niix" "$DCM2NIIX -z n -b n -w 1 -o $out -f x $dir"
        -n "SimpleITK" "python3 scripts/peers/sitk_load.py $dir")
  if [ "$set" = unc ]; then
    cmds+=(-n "pydicom" "python3 scripts/peers/pydicom_load.py $dir"
           -n "read files (cat)" "bash -c 'cat $dir/*.dcm'")
  fi
  # -N: no intermediate shell; every tool's output is discarded by hyperfine.
  hyperfine -N --output=null --warmup 1 --runs "$RUNS" --export-json "$WORK/results/$set.json" "${cmds[@]}" >/dev/null
done
peak_kib=$(/usr/bin/time -f %M "$NADIR" inspect "$data/unc" --json 2>&1 >/dev/null | tail -1)
voxel_bytes=$((SLICES * 512 * 512 * 2))
python3 - "$WORK/results" "$peak_kib" "$voxel_bytes" <<'PY'
import json, os, sys
res, peak_kib, voxel_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"{'data':8} {'tool':26} {'median s':>9}  {'vs nadir':>8}")
for s in ["unc", "rle", "jpegll", "jpegls", "j2k"]:
    runs = {r["command"]: r["median"] for r in json.load(open(os.path.join(res, s + ".json")))["results"]}
    base = runs["nadir inspect"]
    for name, med in runs.items():
        print(f"{s:8} {name:26} {med:9.3f}  {med / base:7.2f}x")
budget = 1.15 * voxel_bytes + 32 * 2**20
print(f"peak RSS of nadir inspect (unc, hash): {peak_kib / 1024:.0f} MiB; "
      f"voxel bytes {voxel_bytes / 2**20:.0f} MiB; budget 1.15x+32 MiB = {budget / 2**20:.0f} MiB")
PY

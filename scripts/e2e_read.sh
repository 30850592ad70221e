#!/usr/bin/env bash
# End-to-end read of the real binary under a real X server (Xvfb), driven
# with real input (xdotool: key presses, wheel clicks, pointer drags):
#   open sample_scans with --project, zoom, step slices to T2's widest slice
#   (liver, InstanceNumber 25), draw a bidirectional, make it a target with
#   its organ, go to W8, step to the same image, draw, attach (the default),
#   close the window; then read the saved project with `nadir export
#   --lesions` and check the recorded lesion and values.
# Screenshots go to $NADIR_E2E_SHOTS (default: target dir/e2e-shots).
#
# Coordinates are for a 1280 × 800 screen: egui draws with its bundled
# fonts, so the layout is the same on every machine.
#
# Note on wheel clicks: winit 0.30 on X11 reports a synthetic (XTest) wheel
# click twice (the button and the server's emulated scroll valuator), so the
# script only uses wheel clicks in pairs that cancel, and positions slices
# with the Down key; one notch = one image is asserted by the UI tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/nadir-target}"
BIN="${NADIR_BIN:-$CARGO_TARGET_DIR/debug/nadir}"
SHOTS="${NADIR_E2E_SHOTS:-$CARGO_TARGET_DIR/e2e-shots}"
WORK="$(mktemp -d)"
mkdir -p "$SHOTS"
DISPLAY_NUMBER=":$((90 + RANDOM % 9))"
XVFB_PID=""
APP_PID=""
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "e2e_read: FAILED: $*" >&2
  [ -f "$WORK/app.log" ] && tail -20 "$WORK/app.log" >&2
  exit 1
}

for tool in Xvfb xdotool import; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/prereqs.sh installs it)"
done
[ -x "$BIN" ] || cargo build --quiet
Xvfb "$DISPLAY_NUMBER" -screen 0 1280x800x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
export DISPLAY="$DISPLAY_NUMBER"
for _ in $(seq 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done

PROJECT="$WORK/read.nadir"
"$BIN" sample_scans --project "$PROJECT" >"$WORK/app.log" 2>&1 &
APP_PID=$!
# the project file appears once sample_scans has loaded
for _ in $(seq 240); do [ -f "$PROJECT" ] && break; sleep 0.5; done
[ -f "$PROJECT" ] || fail "no project file after 120 s"
WINDOW="$(xdotool search --sync --name Nadir | head -1)"
xdotool windowsize "$WINDOW" 1280 800
xdotool windowmove "$WINDOW" 0 0
sleep 1
xdotool windowfocus "$WINDOW"
shot() { sleep 0.7; import -window root "$SHOTS/$1.png"; }
step() { xdotool key "$1"; sleep 0.12; }

# -- baseline --------------------------------------------------------------
xdotool mousemove 570 430
sleep 0.3
shot 01-opened
# the wheel: down then up (pairs cancel, see above); Ctrl+wheel: in, then out
xdotool click 5; sleep 0.2; xdotool click 4; sleep 0.2
xdotool keydown ctrl; xdotool click 4; sleep 0.2; xdotool click 5; xdotool keyup ctrl
sleep 0.2
# Im 19 -> Im 25 (T2's widest slice): Down is the next image number
for _ in 1 2 3 4 5 6; do step Down; done
step plus
step plus
shot 02-baseline-T2-zoomed
# the bidirectional across T2's long axis (44 mm, tilted 25 degrees)
draw() { # x0 y0 x1 y1
  xdotool mousemove "$1" "$2"; sleep 0.2
  xdotool mousedown 1
  for i in 1 2 3 4 5; do
    xdotool mousemove $(($1 + ($3 - $1) * i / 5)) $(($2 + ($4 - $2) * i / 5)); sleep 0.08
  done
  xdotool mouseup 1
  sleep 0.4
}
step b
draw 347 448 443 404
shot 03-baseline-measured
# organ (typed into the organ field), then Make T1
xdotool mousemove 1148 231 click 1; sleep 0.3
xdotool type --delay 40 liver; sleep 0.2
xdotool mousemove 992 284 click 1
shot 04-baseline-target
# -- W8 --------------------------------------------------------------------
xdotool mousemove 160 302 click 1   # the W8 CT in the browser
sleep 0.5
xdotool mousemove 570 430
for _ in 1 2 3 4 5 6; do step Down; done
draw 356 444 434 408
shot 05-w8-measured
# attach: the default lesion is the one selected in the table (T1)
shot 06-w8-box
xdotool mousemove 1163 182 click 1   # "Attach at W8"
shot 07-w8-attached
xdotool windowclose "$WINDOW" 2>/dev/null || kill "$APP_PID"
for _ in $(seq 40); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.25; done
kill "$APP_PID" 2>/dev/null || true
APP_PID=""

# -- what was recorded ----------------------------------------------------
"$BIN" export "$PROJECT" --lesions "$WORK/lesions.csv" 2>"$WORK/export.log" ||
  fail "nadir export: $(cat "$WORK/export.log")"
python3 - "$WORK/lesions.csv" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def fail(msg):
    print("e2e_read: FAILED:", msg, rows, file=sys.stderr)
    sys.exit(1)
by_visit = {r["visit"]: r for r in rows if r["lesion_id"] == "T1"}
if set(by_visit) != {"baseline", "W8"}:
    fail("T1 must be recorded at baseline and W8")
for r in rows:
    if r["lesion_id"] != "T1":
        fail("only T1 was made")
base, w8 = by_visit["baseline"], by_visit["W8"]
if base["category"] != "target" or base["organ"] != "liver":
    fail("T1 is a liver target")
long_bl, long_w8 = float(base["long_axis_mm"]), float(w8["long_axis_mm"])
# truth: 44 mm at baseline, 36 mm at W8 (sample_scans/truth.json)
if abs(long_bl - 44.0) > 2.5 or abs(long_w8 - 36.0) > 2.5:
    fail(f"long axes {long_bl} / {long_w8} mm, truth 44 / 36")
for v in (base["long_axis_mm"], w8["long_axis_mm"]):
    if "." in v and len(v.split(".")[1]) > 1:
        fail(f"{v}: diameters are recorded at 0.1 mm")
print(f"e2e_read: T1 liver target {long_bl} mm at baseline, {long_w8} mm at W8 (truth 44 / 36)")
EOF
echo "e2e_read: screenshots in $SHOTS"
echo "1 passed, 0 failed"

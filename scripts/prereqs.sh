#!/usr/bin/env bash
# Installs what building and testing Nadir needs beyond Rust: cmake and a C++ compiler
# (CharLS, the JPEG-LS codec, and libjpeg-turbo, for 12-bit lossy JPEG, are
# built from source; nasm gives libjpeg-turbo its SIMD code). Idempotent and quiet when
# everything is present. Xvfb, xdotool and ImageMagick's import run the
# end-to-end read (scripts/e2e_read.sh). Uses sudo when not root.
set -euo pipefail
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v nasm >/dev/null 2>&1 || need+=(nasm)
# the end-to-end read under a real X server (scripts/e2e_read.sh)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v import >/dev/null 2>&1 || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing build prerequisites: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

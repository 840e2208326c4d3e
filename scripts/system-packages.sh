#!/usr/bin/env bash
# Install the Debian packages the course uses, when this machine can (root, or passwordless sudo).
#   dataset-fashion-mnist  the real Fashion-MNIST files, so load_data() works offline
#   chromium               the headless browser for the JupyterLab test (tests only)
#   bubblewrap             isolates each submission while grading (instructors and tests)
# Anything it cannot install is reported with the command to run; it never fails the set-up,
# because online machines can download Fashion-MNIST and the browser test says what it needs.
set -u
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
if [ "$sudo" = none ] || ! command -v apt-get >/dev/null; then
  echo "note: missing Debian packages: ${missing[*]} (install with: sudo apt-get install ${missing[*]})"
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -qq >/dev/null 2>&1
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || echo "note: could not install ${missing[*]}; try: sudo apt-get install ${missing[*]}"
fi
exit 0

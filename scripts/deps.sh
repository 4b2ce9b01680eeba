#!/bin/sh
# deps.sh - install the Debian packages snitch needs to build, test and run
# its demo, if any is missing.  Needs root (or sudo) only when something is
# missing; does nothing otherwise.
set -e
PKGS="build-essential clang libclang-rt-14-dev pkg-config libpcap-dev libpsl-dev publicsuffix libssl-dev
      libopenblas-dev valgrind openssl python3 python3-dpkt python3-numpy python3-cryptography
      gnuplot-nox graphviz chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing >/dev/null

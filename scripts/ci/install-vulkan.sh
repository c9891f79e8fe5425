#!/bin/sh
# Install Mesa's software Vulkan driver (lavapipe, Mesa >= 24) so tfjs's WebGPU backend
# (Dawn, npm package "webgpu") gets an adapter on a machine without a GPU (CI).
#
# Debian bookworm ships Mesa 22.3, whose lavapipe lacks features Dawn needs; bookworm-backports
# has Mesa >= 24. This script adds the backports suite from the same mirror the machine already
# uses, then installs mesa-vulkan-drivers from it plus the Vulkan loader (libvulkan1).
#
# Idempotent; must run as root; quiet when everything is already installed.
#   sudo scripts/ci/install-vulkan.sh
set -eu

if [ "$(id -u)" != 0 ]; then
  echo "install-vulkan.sh: must run as root (it uses apt-get)" >&2
  exit 1
fi

lavapipe_icd() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1
}

mesa_major() {
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  # "24.2.8-1~bpo12+1" -> 24; empty when not installed
  echo "${v%%.*}"
}

installed_ok() {
  dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed' || return 1
  m=$(mesa_major)
  [ -n "$m" ] && [ "$m" -ge 24 ] 2>/dev/null && [ -n "$(lavapipe_icd)" ]
}

if installed_ok; then
  exit 0
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "install-vulkan.sh: written for Debian bookworm, this is ${PRETTY_NAME:-unknown}; install mesa-vulkan-drivers (Mesa >= 24) and libvulkan1 with your package manager" >&2
  exit 1
fi

# The mirror the machine already uses for bookworm (deb822 or one-line format).
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}

list=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -qs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null; then
  cat > "$list" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  echo "install-vulkan.sh: added bookworm-backports from $mirror ($list)"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers >/dev/null
apt-get install -y -qq --no-install-recommends libvulkan1 >/dev/null

if ! installed_ok; then
  echo "install-vulkan.sh: installed, but lavapipe (Mesa >= 24) is still missing: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo none)" >&2
  exit 1
fi
echo "install-vulkan.sh: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) ($(lavapipe_icd)), libvulkan1 installed"

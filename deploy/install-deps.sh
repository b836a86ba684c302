#!/usr/bin/env bash
# install-deps.sh - install every Debian 12 package that Sanji's build, test
# suite and local network need.  Idempotent; silent when all is installed.
# Must run as root (or via sudo); uses only Debian's package registry.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  protobuf-c-compiler libprotobuf-c-dev
  libuv1-dev libssl-dev openssl libpq-dev libsqlite3-dev sqlite3
  libgtk-4-dev gettext
  # the .xlsx statistics workbook of `sanji stats` and the desk (client/stats_out.c)
  libxlsxwriter-dev
  # tests
  libcmocka-dev postgresql-15 postgresql-client-15 valgrind
  # desktop under test: X server, fonts with Chinese glyphs, locales
  xvfb fonts-noto-cjk locales
  # printed papers checked by their text and rendering (pdftotext, pdftoppm)
  poppler-utils
  # process tools the scripts use; systemd-analyze checks the units
  procps iproute2 util-linux systemd git tar
  # the daemons' readiness and watchdog notifications (sd_notify)
  libsystemd-dev
  # the daemons' metrics endpoint (GET /metrics), and curl that the tests fetch it with
  libmicrohttpd-dev curl
  # .deb packages (deploy/packages.sh) and their checks (tests/packages)
  dpkg-dev fakeroot file lintian desktop-file-utils appstream adduser
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    echo "install-deps: run as root, or: sudo $0" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt or dpkg (unattended-upgrades) rather than fail.
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Chinese locale: user-facing text is Chinese first.
if ! locale -a 2>/dev/null | grep -qi '^zh_CN\.utf8$'; then
  if [ "$(id -u)" -eq 0 ]; then
    sed -i 's/^# *zh_CN.UTF-8 UTF-8/zh_CN.UTF-8 UTF-8/' /etc/locale.gen
    grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen || echo 'zh_CN.UTF-8 UTF-8' >> /etc/locale.gen
    locale-gen >/dev/null
  fi
fi

# Debian's postgresql package starts a cluster of its own; Sanji never uses
# it (tests and the local network run private clusters), so it is left alone.
exit 0

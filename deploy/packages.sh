#!/usr/bin/env bash
# packages.sh - make the Debian 12 packages of Sanji: a Release build of only
# what is packaged, in a build folder of its own, then CPack's DEB generator
# (deploy/packaging/CMakeLists.txt) and lintian.
#
#   deploy/packages.sh [BUILD_DIR]      default BUILD_DIR: build/packages
#
# Writes BUILD_DIR/debs/sanji-{common,county,relay,station,pki}_VERSION_ARCH.deb
# and prints their paths, one a line, on stdout (everything else goes to
# stderr).  lintian's report is kept in BUILD_DIR/debs/lintian.txt; an error
# (a line "E: ...") fails the run, warnings do not.
#
# Needs the build packages and dpkg-dev, fakeroot, file and lintian
# (deploy/install-deps.sh installs them all).  Runs as any user.
#
# Environment: JOBS (parallel build jobs, default 2), SANJI_PACKAGE_MAINTAINER
# (the packages' Maintainer field).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build/packages}")
jobs=${JOBS:-2}
# dpkg-buildflags maps the current folder out of the debugging paths.
cd "$root"

say() { echo "packages: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in cmake cpack dpkg-shlibdeps dpkg-deb fakeroot lintian; do
  command -v "$tool" >/dev/null || die "$tool is missing: run deploy/install-deps.sh as root"
done

# Reproducible dates (the changelog, file times in the packages): those of
# the last commit, when the tree is a git clone.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct)
  export SOURCE_DATE_EPOCH
fi

# Debian's hardening flags (stack protector, fortified functions, RELRO,
# immediate binding), as a Debian package build would use them; given on
# the command line, not through CFLAGS, which CMake reads only when a build
# folder is new.
export DEB_BUILD_MAINT_OPTIONS=${DEB_BUILD_MAINT_OPTIONS:-hardening=+all}
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)

args=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc
      "-DCMAKE_C_FLAGS=$cflags" "-DCMAKE_EXE_LINKER_FLAGS=$ldflags"
      -DCMAKE_INSTALL_PREFIX=/usr -DSANJI_PACKAGE=ON
      # cpack installs without building `all` (the tests): sanji_packaged
      # below is built instead
      -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON)
[ -z "${SANJI_PACKAGE_MAINTAINER:-}" ] || args+=("-DSANJI_PACKAGE_MAINTAINER=$SANJI_PACKAGE_MAINTAINER")

say "configure $build (Release, installed paths)"
cmake "${args[@]}" >&2
say "build what is packaged (-j$jobs)"
cmake --build "$build" -j "$jobs" --target sanji_packaged >&2

debs=$build/debs
rm -rf "$debs"
say "cpack -G DEB"
# fakeroot: the files in the packages are owned by root whoever builds them.
(cd "$build" && fakeroot cpack -G DEB -C Release) >&2

mapfile -t files < <(find "$debs" -maxdepth 1 -name '*.deb' | sort)
[ "${#files[@]}" -eq 5 ] || die "expected 5 packages in $debs, found ${#files[@]}"

say "lintian (report in $debs/lintian.txt)"
# --fail-on error: only errors fail; warnings are reported.  The overrides
# shipped in the packages (/usr/share/lintian/overrides) are honoured.
if ! lintian --fail-on error --tag-display-limit 0 "${files[@]}" >"$debs/lintian.txt" 2>&1; then
  cat "$debs/lintian.txt" >&2
  die "lintian found errors (see above)"
fi
sed 's/^/  /' "$debs/lintian.txt" >&2

printf '%s\n' "${files[@]}"

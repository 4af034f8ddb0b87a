#!/usr/bin/env bash
# Fetches a Debian 12 source package and prints the directory it unpacked to.
#
#   bash tools/sources/fetch.sh boost   # the full Boost 1.81 source tree (with boost/ made by `b2 headers`)
#   bash tools/sources/fetch.sh fmt     # fmt 9.1's sources
#   bash tools/sources/fetch.sh gcc     # gcc-12's libbacktrace with what its configure needs
#   bash tools/sources/fetch.sh benchmark  # Google Benchmark 1.7.1's sources
#
# Downloads and trees are kept under $RTHREAD_CACHE (default
# /var/cache/rthread), so later runs on the same machine reuse them; an
# empty cache works (the deb-src entry is added when missing). Everything
# but the path goes to stderr.
set -euo pipefail
what=${1:?usage: fetch.sh boost|fmt|gcc|benchmark}
cache=${RTHREAD_CACHE:-/var/cache/rthread}
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi

case $what in
boost) package=boost1.81 tarball='boost1.81_1.81.0.orig.tar.xz' tree=boost_1_81_0 ;;
fmt) package=fmtlib tarball='fmtlib_9.1.0+ds1.orig.tar.gz' tree=fmt-9.1.0 ;;
gcc) package=gcc-12 tarball='gcc-12_12.2.0.orig.tar.gz' tree=gcc-12-12.2.0 ;;
benchmark) package=benchmark tarball='benchmark_1.7.1.orig.tar.gz' tree=benchmark-1.7.1 ;;
*) echo "fetch.sh: unknown source '$what' (boost, fmt, gcc or benchmark)" >&2; exit 2 ;;
esac

mkdir -p "$cache/src"
if [ ! -e "$cache/src/$tarball" ]; then
    list=/etc/apt/sources.list.d/rthread-deb-src.sources
    if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
        ! grep -qs '^deb-src .*bookworm main' /etc/apt/sources.list; then
        printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm' \
            'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
            "${as_root[@]}" tee "$list" >/dev/null
        "${as_root[@]}" apt-get update >&2
    fi
    (cd "$cache/src" && apt-get source --download-only "$package" >&2)
fi
[ -e "$cache/src/$tarball" ] || { echo "fetch.sh: $package gave no $tarball" >&2; exit 1; }

if [ ! -e "$cache/$tree/.rthread-complete" ]; then
    rm -rf "${cache:?}/$tree" "$cache/$tree.partial"
    mkdir -p "$cache/$tree.partial"
    tar -xf "$cache/src/$tarball" -C "$cache/$tree.partial" >&2
    # The tarball holds one top directory; the tree is that directory.
    top=$(find "$cache/$tree.partial" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    mv "$top" "$cache/$tree"
    rm -rf "$cache/$tree.partial"
    if [ "$what" = gcc ]; then
        # Debian's orig tarball nests upstream's (gcc-12.2.0-dfsg.tar.xz,
        # beside newlib's and gm2's): unpack from it libbacktrace and the
        # top-level files and directories its configure and build read.
        inner=$(find "$cache/$tree" -maxdepth 1 -name 'gcc-*.tar.*' | head -n 1)
        if [ -n "$inner" ]; then
            tar -xf "$inner" -C "$cache/$tree" --strip-components=1 --wildcards \
                '*/libbacktrace/*' '*/include/*' '*/config/*' '*/config.guess' \
                '*/config.sub' '*/install-sh' '*/ltmain.sh' '*/missing' '*/mkinstalldirs' \
                '*/move-if-change' '*/libtool.m4' '*/ltoptions.m4' '*/ltsugar.m4' \
                '*/ltversion.m4' '*/lt~obsolete.m4' '*/compile' '*/depcomp' '*/ar-lib' \
                '*/test-driver' '*/config-ml.in' '*/multilib.am' >&2
            rm -f "$cache/$tree"/*.tar.*
        fi
    fi
    if [ "$what" = boost ]; then
        # Debian's tarball cannot bootstrap its own b2 (no jamgram.cpp): the
        # installed b2 reads its build system from /usr/share/b2.
        (cd "$cache/$tree" && b2 -d0 headers >&2)
    fi
    # Records what it was made from (a build keyed to the tree reads it).
    sha256sum "$cache/src/$tarball" >"$cache/$tree/.rthread-complete"
fi
echo "$cache/$tree"

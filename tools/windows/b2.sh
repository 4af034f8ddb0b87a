#!/usr/bin/env bash
# b2 for Windows x86_64: builds what tools/windows/toolchain.sh needs when
# missing, then runs b2 with the mingw-w64 toolset, static runtime, and the
# test suites run as .exe's under our headless Wine (wine_run.sh), each for
# at most RTHREAD_WINE_TIMEOUT seconds. The arguments go to b2:
#   bash tools/windows/b2.sh -j2 --build-dir=bin/windows test
# Waits for the Wine server to end before returning (wineserver -w).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RTHREAD_MINGW=$(bash "$here/toolchain.sh" | tail -n 1)
export RTHREAD_MINGW
# shellcheck source=tools/windows/env.sh
source "$here/env.sh"
config=$(mktemp "${TMPDIR:-/tmp}/rthread-mingw-XXXXXX.jam")
trap 'rm -f "$config"' EXIT
cat >"$config" <<JAM
import testing ;
using gcc : mingw : x86_64-w64-mingw32-g++-posix
    : <archiver>x86_64-w64-mingw32-ar <ranlib>x86_64-w64-mingw32-ranlib
      <rc>x86_64-w64-mingw32-windres
      <compileflags>-isystem$RTHREAD_MINGW_BOOST/include
      <compileflags>-isystem$RTHREAD_MINGW_FMT/include
      <compileflags>-isystem$RTHREAD_MINGW_BENCHMARK/include
      <compileflags>"-include $here/static_boost_test.hpp"
      <linkflags>-L$RTHREAD_MINGW_BOOST/lib <linkflags>-L$RTHREAD_MINGW_BACKTRACE/lib
      <linkflags>-L$RTHREAD_MINGW_FMT/lib <linkflags>-L$RTHREAD_MINGW_BENCHMARK/lib
    ;
JAM
status=0
(cd "$root" && b2 --user-config="$config" toolset=gcc-mingw target-os=windows threadapi=win32 \
    address-model=64 runtime-link=static testing.launcher="$here/wine_run.sh" "$@") || status=$?
timeout 60 "$WINESERVER" -w || true
exit "$status"

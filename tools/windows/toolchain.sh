#!/usr/bin/env bash
# The mingw-w64 cross toolchain and rthread's dependencies built for
# Windows (x86_64, static), and a headless Wine to run what it builds.
# Prints, as its last line, the directory everything is in; sourcing
# tools/windows/env.sh with RTHREAD_MINGW set to it gives the paths.
#
#   bash tools/windows/toolchain.sh            # install, build what is missing
#   bash tools/windows/toolchain.sh benchmark  # ... and Google Benchmark too
#
# Debian's packages g++-mingw-w64-x86-64-posix (the posix thread model:
# the win32 one has no std::thread), mingw-w64-x86-64-dev and wine64; then,
# from Debian 12's source packages (tools/sources/fetch.sh), each kept under
# $RTHREAD_CACHE/mingw (default /var/cache/rthread/mingw) in a directory
# named by its version and the compiler's, rebuilt only when absent:
#   boost-1.81.0-*      Boost.Thread, Chrono, System, Context, Test (b2);
#   libbacktrace-*      from gcc-12's sources (names and lines under Wine),
#                       with Boost.Stacktrace's libbacktrace backend built by
#                       hand (b2's configure checks cannot run a
#                       cross-compiled .exe);
#   fmt-9.1.0-*         with CMake and a mingw toolchain file;
#   benchmark-1.7.1-*   Google Benchmark (Debian's `benchmark` source
#                       package), with CMake, only when asked for: the
#                       benchmarks need it (RTHREAD_BENCH_TARGET=windows
#                       tools/bench/run.sh), the tests do not.
# Everything but the last line goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${RTHREAD_CACHE:-/var/cache/rthread}
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi
jobs=$(nproc)

cxx=x86_64-w64-mingw32-g++-posix
if ! command -v "$cxx" >/dev/null || [ ! -x /usr/lib/wine/wine64 ]; then
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get install -y --no-install-recommends \
        g++-mingw-w64-x86-64-posix mingw-w64-x86-64-dev wine64 >&2 ||
        { "${as_root[@]}" apt-get update >&2 &&
            "${as_root[@]}" apt-get install -y --no-install-recommends \
                g++-mingw-w64-x86-64-posix mingw-w64-x86-64-dev wine64 >&2; }
fi
gcc_version=$("$cxx" -dumpfullversion)
mingw=$cache/mingw
mkdir -p "$mingw"
log() { echo "toolchain.sh: $*" >&2; }

# Runs "$@" to build $dir, unless $dir/.rthread-complete says it is built.
built() { [ -e "$1/.rthread-complete" ]; }
done_building() { touch "$1/.rthread-complete"; }

# --- Boost ----------------------------------------------------------------
boost_dir=$mingw/boost-1.81.0-mingw$gcc_version
build_boost() {
    local src work config
    src=$(bash "$root/tools/sources/fetch.sh" boost)
    work=$boost_dir.build
    rm -rf "$boost_dir" "$work"
    mkdir -p "$work" "$boost_dir/lib"
    config=$work/user-config.jam
    echo "using gcc : mingw : $cxx : <archiver>x86_64-w64-mingw32-ar" \
        "<ranlib>x86_64-w64-mingw32-ranlib <rc>x86_64-w64-mingw32-windres ;" >"$config"
    # Boost.Test as the tests use it (test/test_main.hpp has its own main
    # and the init API of Debian's shared library).
    log "boost: b2 toolset=gcc-mingw (a few minutes)"
    (cd "$src" && b2 -j"$jobs" -d0 --user-config="$config" --build-dir="$work" \
        --stagedir="$boost_dir" --layout=system toolset=gcc-mingw target-os=windows \
        threadapi=win32 address-model=64 architecture=x86 abi=ms binary-format=pe \
        link=static runtime-link=static variant=release cxxstd=17 \
        define=BOOST_TEST_ALTERNATIVE_INIT_API define=BOOST_TEST_NO_MAIN \
        --with-thread --with-chrono --with-system --with-context --with-test stage \
        >"$work.log" 2>&1) || { tail -n 40 "$work.log" >&2; return 1; }
    # The headers are the source tree's (fetch.sh made boost/).
    ln -sfn "$src" "$boost_dir/include"
    # A main() for the suites that let Boost.Test make theirs (the shared
    # library's header does on Linux; the static one cannot): an archive
    # member, so linked only into programs that have no main of their own.
    printf '%s\n' '#define BOOST_TEST_ALTERNATIVE_INIT_API' '#include <boost/test/unit_test.hpp>' \
        'bool init_unit_test();' \
        'int main(int argc, char* argv[]) {' \
        '    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);' '}' \
        >"$work/boost_test_main.cpp"
    "$cxx" -std=c++17 -O2 -c -I"$src" "$work/boost_test_main.cpp" -o "$work/boost_test_main.o"
    x86_64-w64-mingw32-ar rs "$boost_dir/lib/libboost_unit_test_framework.a" \
        "$work/boost_test_main.o"
    # The Jamfile's dependency list (Debian's shared libraries) links
    # -lpthread in dynamic mode, which would pick winpthreads' DLL import
    # library: this linker script, found first, gives the static archive.
    echo "INPUT(/usr/x86_64-w64-mingw32/lib/libpthread.a)" >"$boost_dir/lib/libpthread.dll.a"
    rm -rf "$work" "$work.log"
    done_building "$boost_dir"
}

# --- libbacktrace (gcc-12's sources) -------------------------------------
backtrace_dir=$mingw/libbacktrace-gcc12.2.0-boost1.81.0-mingw$gcc_version
build_backtrace() {
    local src work
    src=$(bash "$root/tools/sources/fetch.sh" gcc)
    work=$backtrace_dir.build
    rm -rf "$backtrace_dir" "$work"
    mkdir -p "$work" "$backtrace_dir/include" "$backtrace_dir/lib"
    log "libbacktrace: configure --host=x86_64-w64-mingw32"
    (cd "$work" && "$src/libbacktrace/configure" --host=x86_64-w64-mingw32 \
        CC=x86_64-w64-mingw32-gcc-posix CFLAGS=-O2 >"$work.log" 2>&1 &&
        make -j"$jobs" >>"$work.log" 2>&1) ||
        { tail -n 30 "$work.log" >&2; return 1; }
    cp "$work/.libs/libbacktrace.a" "$backtrace_dir/lib/"
    cp "$src/libbacktrace/backtrace.h" "$work/backtrace-supported.h" "$backtrace_dir/include/"
    # backtrace.h includes gstdint.h when built inside gcc's tree.
    cp "$work/gstdint.h" "$backtrace_dir/include/" 2>/dev/null || true
    # Boost.Stacktrace's libbacktrace backend, as b2 would build it.
    "$cxx" -std=c++17 -O2 -c \
        -I"$boost_dir/include" -I"$backtrace_dir/include" \
        "$boost_dir/include/libs/stacktrace/src/backtrace.cpp" -o "$work/stacktrace.o"
    # With libbacktrace's objects in the same archive, as Debian's shared
    # library carries them: a consumer links boost_stacktrace_backtrace only.
    mkdir -p "$work/objects"
    (cd "$work/objects" && x86_64-w64-mingw32-ar x "$backtrace_dir/lib/libbacktrace.a")
    x86_64-w64-mingw32-ar rcs "$backtrace_dir/lib/libboost_stacktrace_backtrace.a" \
        "$work/stacktrace.o" "$work/objects"/*.o
    rm -rf "$work" "$work.log"
    done_building "$backtrace_dir"
}

# --- CMake packages: fmt, and Google Benchmark (when asked for) ----------
# Fetches source package $1 and builds and installs it into $2 with CMake,
# the mingw toolchain file and the options after them.
cmake_package() {
    local name=$1 dir=$2 src work
    shift 2
    src=$(bash "$root/tools/sources/fetch.sh" "$name")
    work=$dir.build
    rm -rf "$dir" "$work"
    mkdir -p "$work"
    log "$name: cmake with a mingw toolchain"
    (cmake -S "$src" -B "$work" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/mingw.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$dir" "$@" >"$work.log" 2>&1 &&
        cmake --build "$work" -j"$jobs" >>"$work.log" 2>&1 &&
        cmake --install "$work" >>"$work.log" 2>&1) || { tail -n 30 "$work.log" >&2; return 1; }
    rm -rf "$work" "$work.log"
    done_building "$dir"
}
fmt_dir=$mingw/fmt-9.1.0-mingw$gcc_version
build_fmt() { cmake_package fmt "$fmt_dir" -DFMT_DOC=OFF -DFMT_TEST=OFF; }
benchmark_dir=$mingw/benchmark-1.7.1-mingw$gcc_version
build_benchmark() {
    cmake_package benchmark "$benchmark_dir" -DBENCHMARK_ENABLE_TESTING=OFF \
        -DBENCHMARK_ENABLE_GTEST_TESTS=OFF -DBENCHMARK_ENABLE_WERROR=OFF \
        -DBENCHMARK_ENABLE_INSTALL=ON
}

built "$boost_dir" || build_boost
built "$backtrace_dir" || build_backtrace
built "$fmt_dir" || build_fmt
if [ "${1:-}" = benchmark ]; then
    built "$benchmark_dir" || build_benchmark
fi

# --- Wine -----------------------------------------------------------------
# A prefix of our own, made once (wineboot --init, some seconds).
# shellcheck source=tools/windows/env.sh
RTHREAD_MINGW=$mingw source "$here/env.sh"
if [ ! -e "$WINEPREFIX/.rthread-complete" ]; then
    log "wine: wineboot --init in $WINEPREFIX"
    rm -rf "$WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    timeout 120 /usr/lib/wine/wine64 wineboot --init >&2 2>/dev/null || true
    timeout 120 "$WINESERVER" -w
    [ -e "$WINEPREFIX/system.reg" ] || { log "wineboot made no prefix"; exit 1; }
    touch "$WINEPREFIX/.rthread-complete"
fi
echo "$mingw"

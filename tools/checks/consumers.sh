#!/usr/bin/env bash
# Users reach rthread four ways; each is built and run here as a user would,
# from a copy of test/consumers/ outside the checkout (so nothing leans on
# paths inside it), all building test/consumers/app.cpp:
#   1. b2, from the sources:   use-project /rthread : <checkout> ;
#   2. b2, from an install:    b2 install --prefix=P, use-project /rthread : P/lib/b2/rthread ;
#   3. CMake, from an install: cmake --install, find_package(rthread CONFIG REQUIRED)
#   4. make + pkg-config, from the same install: rthread.pc
# and the consumers' build files name nothing of rthread's dependencies (the
# usage requirements, the CMake target and rthread.pc carry them). Also:
#   - debug and release installed into one prefix, each consumer variant
#     linking its own archive;
#   - static Boost: b2 link=static, CMake with Boost_USE_STATIC_LIBS, and
#     pkg-config --static against a directory of libboost_*.a only (as
#     vcpkg's static Boost is);
#   - plugins: a dlopen()ed shared library linking librthread.a, built with
#     b2 (<link>shared) and with CMake (add_library(SHARED), installed
#     package); runtime-link=static refused with a message naming fmt.
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
jobs=${RTHREAD_JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-consumers.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r test/consumers "$work/consumers"
rm -rf "$work"/consumers/*/{bin,stage,build}

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

# Runs a consumer program; it prints "consumer ok" last when all went well.
runs_ok() {
    local out
    out=$("$1" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    [[ "$out" == *"consumer ok on ThreadId(1)"* ]]
}

# 0. The consumers name nothing but rthread (comments aside).
for f in b2/Jamroot b2-installed/Jamroot cmake/CMakeLists.txt pkg-config/Makefile plugin/Jamroot plugin/CMakeLists.txt; do
    if grep -v '^\s*#' "test/consumers/$f" | grep -nE 'boost_|Boost|fmt|pthread|Threads|stacktrace'; then
        bad "$f names a dependency of rthread (the library's usage requirements must carry it)"
    else
        ok "$f names nothing but rthread"
    fi
done

# 1. b2 from the sources. One build directory for the consumers, the install
# below and the other b2-based checks, so the library is built once.
b2dir="$root/bin/checks/b2"
if (cd "$work/consumers/b2" && b2 -j"$jobs" -sRTHREAD_ROOT="$root" --build-dir="$b2dir") \
    >"$work/b2.log" 2>&1 && runs_ok "$work/consumers/b2/stage/app"; then
    ok "b2 consumer through use-project of the sources builds and runs"
else
    tail -n 30 "$work/b2.log"
    bad "b2 consumer through use-project of the sources"
fi

# Links no Boost shared library (ldd).
no_shared_boost() {
    if ldd "$1" | grep -q 'libboost_'; then
        ldd "$1" | grep 'libboost_'
        return 1
    fi
}

# 1b. b2 link=static: the static Boost libraries (fmt stays shared).
if (cd "$work/consumers/b2" && b2 -j"$jobs" -sRTHREAD_ROOT="$root" --build-dir="$b2dir" link=static) \
    >"$work/b2-static.log" 2>&1 && runs_ok "$work/consumers/b2/stage/app" &&
    no_shared_boost "$work/consumers/b2/stage/app"; then
    ok "b2 consumer with link=static links the static Boost libraries (and libbacktrace) and runs"
else
    tail -n 30 "$work/b2-static.log"
    bad "b2 consumer with link=static"
fi
if (cd "$work/consumers/b2" && b2 -n -sRTHREAD_ROOT="$root" --build-dir="$b2dir" runtime-link=static) \
    >"$work/b2-static-runtime.log" 2>&1; then
    bad "runtime-link=static was accepted (Debian has no libfmt.a: it cannot link)"
elif grep -q 'runtime-link=static is not supported.*fmt' "$work/b2-static-runtime.log"; then
    ok "runtime-link=static stops with a message naming fmt's missing static library"
else
    cat "$work/b2-static-runtime.log"
    bad "runtime-link=static failed without the message"
fi

# 1c. A plugin built with b2: a shared library linking librthread.a, dlopen()ed.
if (cd "$work/consumers/plugin" && b2 -j"$jobs" -sRTHREAD_ROOT="$root" --build-dir="$b2dir") \
    >"$work/b2-plugin.log" 2>&1 &&
    "$work/consumers/plugin/stage/host" "$work/consumers/plugin/stage/libplugin.so" | tee -a "$work/b2-plugin.log" |
    grep -qx 'plugin ok: plugin in the plugin'; then
    ok "b2 plugin (<link>shared, linking librthread.a) builds, is dlopen()ed, spawns, joins, takes a panic"
else
    tail -n 30 "$work/b2-plugin.log"
    bad "b2 plugin"
fi

# 2. b2 install of debug and release into one prefix, then a consumer of
# that prefix in each variant.
prefix="$work/b2-prefix"
if b2 -j"$jobs" --build-dir="$b2dir" install --prefix="$prefix" variant=release >"$work/b2-install.log" 2>&1 &&
    cp "$prefix/lib/b2/rthread/jamroot.jam" "$work/jamroot-release.jam" &&
    b2 -j"$jobs" --build-dir="$b2dir" install --prefix="$prefix" variant=debug >>"$work/b2-install.log" 2>&1 &&
    [ -f "$prefix/lib/librthread.a" ] && [ -f "$prefix/lib/librthread-debug.a" ] &&
    ! cmp -s "$prefix/lib/librthread.a" "$prefix/lib/librthread-debug.a" &&
    [ -f "$prefix/include/rthread/rthread.hpp" ] &&
    cmp -s "$prefix/lib/b2/rthread/jamroot.jam" "$work/jamroot-release.jam"; then
    ok "b2 install of release then debug: librthread.a, librthread-debug.a, headers, one b2 project for both"
else
    tail -n 30 "$work/b2-install.log"
    bad "b2 install --prefix of release and debug"
fi
for variant in release debug; do
    if [ $variant = release ]; then archive=librthread.a; else archive=librthread-debug.a; fi
    if (cd "$work/consumers/b2-installed" && rm -rf stage && b2 -j"$jobs" -d+2 -sRTHREAD_PREFIX="$prefix" \
        --build-dir="$work/b2-installed-build" variant=$variant) >"$work/b2-installed-$variant.log" 2>&1 &&
        runs_ok "$work/consumers/b2-installed/stage/app"; then
        if grep -q "\"$prefix/lib/$archive\"" "$work/b2-installed-$variant.log"; then
            ok "b2 consumer ($variant) of the installed prefix links $archive and runs"
        else
            grep -o '"[^"]*librthread[^"]*"' "$work/b2-installed-$variant.log" | sort -u
            bad "b2 consumer ($variant) of the installed prefix linked the wrong archive"
        fi
    else
        tail -n 30 "$work/b2-installed-$variant.log"
        bad "b2 consumer ($variant) of the installed prefix"
    fi
done

# 3. CMake: the library alone (as the vcpkg port builds it), installed.
cprefix="$work/cmake-prefix"
# The README's quick start: no build type, no BUILD_TESTING.
if cmake -S . -B "$work/cmake-build" -DRTHREAD_WARNINGS_AS_ERRORS=ON >"$work/cmake.log" 2>&1 &&
    cmake --build "$work/cmake-build" -j"$jobs" >>"$work/cmake.log" 2>&1 &&
    cmake --install "$work/cmake-build" --prefix "$cprefix" >>"$work/cmake.log" 2>&1 &&
    [ -f "$cprefix/lib/cmake/rthread/rthreadConfig.cmake" ] &&
    [ -f "$cprefix/lib/cmake/rthread/rthreadConfigVersion.cmake" ] &&
    [ -f "$cprefix/lib/pkgconfig/rthread.pc" ] && [ -f "$cprefix/lib/librthread.a" ]; then
    ok "cmake builds and installs the library, rthreadConfig.cmake, its version file and rthread.pc"
else
    tail -n 30 "$work/cmake.log"
    bad "cmake build and install"
fi
if cmake -S "$work/consumers/cmake" -B "$work/cmake-consumer" -DCMAKE_PREFIX_PATH="$cprefix" \
    >"$work/cmake-consumer.log" 2>&1 &&
    cmake --build "$work/cmake-consumer" -j"$jobs" >>"$work/cmake-consumer.log" 2>&1 &&
    runs_ok "$work/cmake-consumer/app"; then
    ok "CMake consumer: find_package(rthread CONFIG REQUIRED) + rthread::rthread builds and runs"
else
    tail -n 30 "$work/cmake-consumer.log"
    bad "CMake consumer"
fi
# The version file accepts this version and refuses the next minor one.
cat >"$work/version.cmake" <<'EOF_CMAKE'
file(STRINGS "${CMAKE_PREFIX_PATH}/lib/cmake/rthread/rthreadConfigVersion.cmake" line
     REGEX "set\\(PACKAGE_VERSION ")
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" version "${line}")
string(REGEX MATCH "^[0-9]+" major "${version}")
string(REGEX MATCH "\\.([0-9]+)\\." minor "${version}")
math(EXPR next "${CMAKE_MATCH_1} + 1")
foreach(ask IN ITEMS "${version}" "${major}.${next}")
    set(PACKAGE_FIND_VERSION "${ask}")
    string(REPLACE "." ";" parts "${ask}")
    list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
    list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
    set(PACKAGE_VERSION_COMPATIBLE)
    include("${CMAKE_PREFIX_PATH}/lib/cmake/rthread/rthreadConfigVersion.cmake")
    message(STATUS "${ask}: ${PACKAGE_VERSION_COMPATIBLE}")
    if(ask STREQUAL version AND NOT PACKAGE_VERSION_COMPATIBLE)
        message(FATAL_ERROR "version ${version} refuses itself")
    elseif(NOT ask STREQUAL version AND PACKAGE_VERSION_COMPATIBLE)
        message(FATAL_ERROR "version ${version} accepts ${ask}")
    endif()
endforeach()
EOF_CMAKE
if cmake -DCMAKE_PREFIX_PATH="$cprefix" -P "$work/version.cmake" >"$work/version.log" 2>&1; then
    ok "rthreadConfigVersion.cmake accepts its own version and refuses the next minor one"
else
    cat "$work/version.log"
    bad "rthreadConfigVersion.cmake"
fi

# CMake's defaults: at top level, Release and no tests unless asked; a build
# type given stays; as a subdirectory, neither is set.
cache_value() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; }
tests_of() { (cd "$1" && ctest -N | sed -n 's/^Total Tests: //p'); }
mkdir -p "$work/outer"
printf '%s\n' 'cmake_minimum_required(VERSION 3.21)' 'project(outer LANGUAGES CXX)' \
    "add_subdirectory(\"$root\" rthread)" >"$work/outer/CMakeLists.txt"
if [ "$(cache_value "$work/cmake-build" CMAKE_BUILD_TYPE)" = Release ] &&
    [ "$(cache_value "$work/cmake-build" BUILD_TESTING)" = OFF ] && [ "$(tests_of "$work/cmake-build")" = 0 ] &&
    cmake -S . -B "$work/cmake-debug" -DCMAKE_BUILD_TYPE=Debug >"$work/cmake-debug.log" 2>&1 &&
    [ "$(cache_value "$work/cmake-debug" CMAKE_BUILD_TYPE)" = Debug ] &&
    cmake -S . -B "$work/cmake-tests" -DBUILD_TESTING=ON >"$work/cmake-tests.log" 2>&1 &&
    [ "$(tests_of "$work/cmake-tests")" -gt 0 ] &&
    cmake -S "$work/outer" -B "$work/cmake-outer" >"$work/cmake-outer.log" 2>&1 &&
    [ -z "$(cache_value "$work/cmake-outer" CMAKE_BUILD_TYPE)" ] &&
    [ -z "$(cache_value "$work/cmake-outer" BUILD_TESTING)" ] && [ "$(tests_of "$work/cmake-outer")" = 0 ]; then
    ok "CMake: top level defaults to Release without tests, keeps a given build type, builds tests when asked; a subdirectory sets neither"
else
    tail -n 5 "$work"/cmake-debug.log "$work"/cmake-tests.log "$work"/cmake-outer.log 2>/dev/null
    grep -E '^(CMAKE_BUILD_TYPE|BUILD_TESTING):' "$work"/cmake-*/CMakeCache.txt
    bad "CMake's build type and BUILD_TESTING defaults"
fi

# A plugin built with CMake against the installed package.
if cmake -S "$work/consumers/plugin" -B "$work/cmake-plugin" -DCMAKE_PREFIX_PATH="$cprefix" \
    >"$work/cmake-plugin.log" 2>&1 &&
    cmake --build "$work/cmake-plugin" -j"$jobs" >>"$work/cmake-plugin.log" 2>&1 &&
    "$work/cmake-plugin/host" "$work/cmake-plugin/libplugin.so" | tee -a "$work/cmake-plugin.log" |
    grep -qx 'plugin ok: plugin in the plugin'; then
    ok "CMake plugin (add_library(SHARED) + rthread::rthread) builds, is dlopen()ed, spawns, joins, takes a panic"
else
    tail -n 30 "$work/cmake-plugin.log"
    bad "CMake plugin"
fi
# The CMake package against static Boost: Boost's static targets carry
# libbacktrace and libdl.
if cmake -S "$work/consumers/cmake" -B "$work/cmake-static" -DCMAKE_PREFIX_PATH="$cprefix" \
    -DBoost_USE_STATIC_LIBS=ON >"$work/cmake-static.log" 2>&1 &&
    cmake --build "$work/cmake-static" -j"$jobs" >>"$work/cmake-static.log" 2>&1 &&
    runs_ok "$work/cmake-static/app" && no_shared_boost "$work/cmake-static/app" &&
    grep -rq 'libboost_stacktrace_backtrace\.a.*-lbacktrace' "$work/cmake-static/CMakeFiles/app.dir/"; then
    ok "CMake consumer with Boost_USE_STATIC_LIBS=ON links the static Boost libraries, libbacktrace, and runs"
else
    tail -n 30 "$work/cmake-static.log"
    bad "CMake consumer against static Boost"
fi

# 4. make + pkg-config against the same install.
if PKG_CONFIG_PATH="$cprefix/lib/pkgconfig" make -C "$work/consumers/pkg-config" \
    >"$work/pkg-config.log" 2>&1 && runs_ok "$work/consumers/pkg-config/app"; then
    ok "pkg-config consumer (make, rthread.pc) builds and runs"
else
    cat "$work/pkg-config.log"
    bad "pkg-config consumer"
fi

# 4b. pkg-config --static against static Boost libraries only (a directory
# of libboost_*.a, found before the system's shared ones, as vcpkg's are).
static_boost="$work/static-boost"
mkdir -p "$static_boost"
ln -s "/usr/lib/$(gcc -dumpmachine)"/libboost_*.a "$static_boost/"
if grep -qx 'Libs.private: -lbacktrace -ldl' "$cprefix/lib/pkgconfig/rthread.pc" &&
    make -C "$work/consumers/pkg-config" clean >/dev/null &&
    PKG_CONFIG_PATH="$cprefix/lib/pkgconfig" make -C "$work/consumers/pkg-config" PKG_CONFIG_FLAGS=--static \
        LDFLAGS="-L$static_boost" >"$work/pkg-config-static.log" 2>&1 &&
    runs_ok "$work/consumers/pkg-config/app" && no_shared_boost "$work/consumers/pkg-config/app"; then
    ok "pkg-config --static consumer against static Boost libraries (Libs.private: -lbacktrace -ldl) builds and runs"
else
    cat "$work/pkg-config-static.log"
    bad "pkg-config --static against static Boost"
fi
# Built against a static Boost, rthread.pc puts them in Libs (plain
# pkg-config --libs then links).
if cmake -S . -B "$work/cmake-static-boost" -DBoost_USE_STATIC_LIBS=ON >"$work/cmake-static-boost.log" 2>&1 &&
    grep -Eq '^Libs: .*-lboost_stacktrace_backtrace.* -lbacktrace -ldl' "$work/cmake-static-boost/rthread.pc"; then
    ok "rthread.pc of a build against static Boost has -lbacktrace -ldl in Libs"
else
    cat "$work/cmake-static-boost.log" "$work/cmake-static-boost/rthread.pc"
    bad "rthread.pc against static Boost"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

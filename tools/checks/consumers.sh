#!/usr/bin/env bash
# Users reach rthread four ways; each is built and run here as a user would,
# from a copy of test/consumers/ outside the checkout (so nothing leans on
# paths inside it), all building test/consumers/app.cpp:
#   1. b2, from the sources:   use-project /rthread : <checkout> ;
#   2. b2, from an install:    b2 install --prefix=P, use-project /rthread : P/lib/b2/rthread ;
#   3. CMake, from an install: cmake --install, find_package(rthread CONFIG REQUIRED)
#   4. make + pkg-config, from the same install: rthread.pc
# and the consumers' build files name nothing of rthread's dependencies (the
# usage requirements, the CMake target and rthread.pc carry them).
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
for f in b2/Jamroot b2-installed/Jamroot cmake/CMakeLists.txt pkg-config/Makefile; do
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

# 2. b2 install, then a consumer of the installed prefix.
prefix="$work/b2-prefix"
if b2 -j"$jobs" --build-dir="$b2dir" install --prefix="$prefix" >"$work/b2-install.log" 2>&1 &&
    [ -f "$prefix/lib/librthread.a" ] && [ -f "$prefix/include/rthread/rthread.hpp" ] &&
    [ -f "$prefix/lib/b2/rthread/jamroot.jam" ]; then
    ok "b2 install puts the headers, librthread.a and the b2 project under the prefix"
else
    tail -n 30 "$work/b2-install.log"
    bad "b2 install --prefix"
fi
if (cd "$work/consumers/b2-installed" && b2 -j"$jobs" -sRTHREAD_PREFIX="$prefix" \
    --build-dir="$work/b2-installed-build") >"$work/b2-installed.log" 2>&1 &&
    runs_ok "$work/consumers/b2-installed/stage/app"; then
    ok "b2 consumer of the installed prefix builds and runs"
else
    tail -n 30 "$work/b2-installed.log"
    bad "b2 consumer of the installed prefix"
fi

# 3. CMake: the library alone (as the vcpkg port builds it), installed.
cprefix="$work/cmake-prefix"
if cmake -S . -B "$work/cmake-build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DRTHREAD_WARNINGS_AS_ERRORS=ON >"$work/cmake.log" 2>&1 &&
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

# 4. make + pkg-config against the same install.
if PKG_CONFIG_PATH="$cprefix/lib/pkgconfig" make -C "$work/consumers/pkg-config" \
    >"$work/pkg-config.log" 2>&1 && runs_ok "$work/consumers/pkg-config/app"; then
    ok "pkg-config consumer (make, rthread.pc) builds and runs"
else
    cat "$work/pkg-config.log"
    bad "pkg-config consumer"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

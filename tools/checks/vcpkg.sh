#!/usr/bin/env bash
# The vcpkg port (tools/vcpkg/ports/rthread), checked without vcpkg (it needs
# the network): its manifest, its usage text, and its portfile run for real
# by tools/vcpkg/mock-vcpkg.cmake (the vcpkg helpers done as plain CMake
# steps: release and debug builds, install, config fixup to share/rthread),
# then a CMake consumer and a pkg-config consumer built against that vcpkg
# layout, in Release and in Debug (which must link the debug archive).
# Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
port=tools/vcpkg/ports/rthread
jobs=${RTHREAD_JOBS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-vcpkg.XXXXXX")
trap 'rm -rf "$work"' EXIT

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

# 1. vcpkg.json: valid JSON with vcpkg's required fields, the version of
# CMakeLists.txt, and a port for every library the Jamfile links.
if python3 - "$port/vcpkg.json" CMakeLists.txt libs/rthread/Jamfile <<'EOF_PY'; then
import json, re, sys
manifest_path, cmake_path, jamfile_path = sys.argv[1:4]
m = json.load(open(manifest_path))
errors = []
def need(cond, what):
    if not cond:
        errors.append(what)
need(m.get("name") == "rthread", "name must be rthread")
need(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", m.get("name", "")), "name: lowercase, digits, hyphens")
for field in ("version", "description", "homepage", "license"):
    need(isinstance(m.get(field), str) and m[field], f"{field} is required")
need(m.get("license") == "BSL-1.0", "license must be the SPDX id of LICENSE: BSL-1.0")
need(open("LICENSE").read().startswith("Boost Software License - Version 1.0"), "LICENSE is not the BSL")
cmake_version = re.search(r"project\(rthread\s+VERSION\s+([0-9.]+)", open(cmake_path).read())
need(cmake_version and m.get("version") == cmake_version.group(1),
     f"version {m.get('version')} differs from CMakeLists.txt's project(VERSION)")
deps = {}
for d in m.get("dependencies", []):
    d = {"name": d} if isinstance(d, str) else d
    deps[d["name"]] = d
for name in ("boost-thread", "boost-context", "boost-system", "fmt"):
    need(name in deps, f"dependency {name} is missing")
for name in ("vcpkg-cmake", "vcpkg-cmake-config"):
    need(deps.get(name, {}).get("host") is True, f"{name} must be a host dependency")
jam = re.search(r"local\s+dependencies\s*=([^;]*);", open(jamfile_path).read())
need(jam, "no 'local dependencies' in the Jamfile")
for lib in (jam.group(1).split() if jam else []):
    if lib == "boost_stacktrace_backtrace":
        need("backtrace" in deps.get("boost-stacktrace", {}).get("features", []),
             "the Jamfile links boost_stacktrace_backtrace: depend on boost-stacktrace[backtrace]")
    elif lib.startswith("boost_"):
        need(lib.replace("_", "-") in deps, f"the Jamfile links {lib}: depend on {lib.replace('_', '-')}")
    elif lib == "fmt":
        need("fmt" in deps, "the Jamfile links fmt: depend on fmt")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
EOF_PY
    ok "vcpkg.json is valid, complete, at CMakeLists.txt's version, with a port for each linked library"
else
    bad "vcpkg.json"
fi

# 2. usage: what vcpkg prints after the install.
if grep -q 'find_package(rthread CONFIG REQUIRED)' "$port/usage" &&
    grep -q 'target_link_libraries(.*rthread::rthread)' "$port/usage"; then
    ok "usage names find_package(rthread CONFIG REQUIRED) and rthread::rthread"
else
    bad "usage"
fi

mock() { # packages-dir, buildtrees-dir, portfile, extra -D...
    local packages=$1 trees=$2 portfile=$3
    shift 3
    cmake -DPORTFILE="$portfile" -DPORT=rthread -DCURRENT_PACKAGES_DIR="$packages" \
        -DCURRENT_BUILDTREES_DIR="$trees" -DMOCK_JOBS="$jobs" "$@" -P tools/vcpkg/mock-vcpkg.cmake
}

# 3. The port copied elsewhere finds the sources through RTHREAD_SOURCE_DIR,
# and says what to do without it.
cp -r "$port" "$work/copied-port"
if RTHREAD_SOURCE_DIR="$root" mock "$work/dry" "$work/dry-trees" "$work/copied-port/portfile.cmake" \
    -DMOCK_DRY_RUN=ON >"$work/dry.log" 2>&1 &&
    grep -qx "vcpkg_cmake_configure SOURCE_PATH $root OPTIONS -DBUILD_TESTING=OFF" "$work/dry/mock-calls.txt"; then
    ok "a copy of the port elsewhere takes its sources from RTHREAD_SOURCE_DIR"
else
    cat "$work/dry.log" "$work/dry/mock-calls.txt" 2>/dev/null
    bad "RTHREAD_SOURCE_DIR"
fi
if ! env -u RTHREAD_SOURCE_DIR cmake -DPORTFILE="$work/copied-port/portfile.cmake" -DPORT=rthread \
    -DCURRENT_PACKAGES_DIR="$work/dry2" -DCURRENT_BUILDTREES_DIR="$work/dry2-trees" -DMOCK_DRY_RUN=ON \
    -P tools/vcpkg/mock-vcpkg.cmake >"$work/dry2.log" 2>&1 &&
    grep -q "RTHREAD_SOURCE_DIR" "$work/dry2.log"; then
    ok "a copy of the port without RTHREAD_SOURCE_DIR stops with a message naming it"
else
    cat "$work/dry2.log"
    bad "a copied port without RTHREAD_SOURCE_DIR"
fi

# 4. The real run, from the port in this checkout.
pkgs="$work/packages"
if env -u RTHREAD_SOURCE_DIR bash -c "$(declare -f mock); mock '$pkgs' '$work/buildtrees' '$root/$port/portfile.cmake'" \
    >"$work/port.log" 2>&1; then
    ok "the portfile's configure, build, install and fixup succeed (release and debug)"
else
    tail -n 40 "$work/port.log"
    bad "the portfile run"
fi
grep -qx "vcpkg_check_linkage ONLY_STATIC_LIBRARY" "$pkgs/mock-calls.txt" 2>/dev/null &&
    grep -qx "linkage static" "$pkgs/mock-calls.txt" &&
    ok "the port is static only (vcpkg_check_linkage(ONLY_STATIC_LIBRARY))" ||
    bad "vcpkg_check_linkage(ONLY_STATIC_LIBRARY)"

# 5. The layout vcpkg's post-build checks expect.
layout_errors=()
for f in include/rthread/rthread.hpp lib/librthread.a debug/lib/librthread.a \
    share/rthread/rthreadConfig.cmake share/rthread/rthreadConfigVersion.cmake \
    share/rthread/rthreadTargets.cmake share/rthread/rthreadTargets-release.cmake \
    share/rthread/rthreadTargets-debug.cmake share/rthread/copyright share/rthread/usage \
    lib/pkgconfig/rthread.pc debug/lib/pkgconfig/rthread.pc; do
    [ -f "$pkgs/$f" ] || layout_errors+=("missing $f")
done
for d in debug/include debug/share lib/cmake debug/lib/cmake; do
    [ ! -e "$pkgs/$d" ] || layout_errors+=("left behind: $d")
done
if find "$pkgs" -name '*.so*' | grep -q .; then layout_errors+=("a shared library was installed"); fi
if grep -rl "$pkgs" "$pkgs/share" "$pkgs/lib/pkgconfig" "$pkgs/debug/lib/pkgconfig" 2>/dev/null | grep -q .; then
    layout_errors+=("absolute paths into the package dir remain")
fi
cmp -s LICENSE "$pkgs/share/rthread/copyright" || layout_errors+=("copyright is not LICENSE")
if [ ${#layout_errors[@]} = 0 ]; then
    ok "vcpkg layout: headers, release and debug archives, share/rthread package, copyright, usage, no debug headers"
else
    printf '  %s\n' "${layout_errors[@]}"
    bad "vcpkg layout"
fi

# 6. Consumers against the vcpkg layout, moved to another place first (vcpkg
# copies packages into installed/): nothing may point back.
installed="$work/installed"
mv "$pkgs" "$installed"
cp -r test/consumers "$work/consumers"
for type in Release Debug; do
    b="$work/consumer-$type"
    if cmake -S "$work/consumers/cmake" -B "$b" -DCMAKE_BUILD_TYPE=$type -DCMAKE_PREFIX_PATH="$installed" \
        >"$b.log" 2>&1 && cmake --build "$b" -j"$jobs" >>"$b.log" 2>&1 &&
        "$b/app" | grep -q "consumer ok on ThreadId(1)"; then
        if [ $type = Debug ]; then want="$installed/debug/lib/librthread.a"; else want="$installed/lib/librthread.a"; fi
        if grep -rqF "$want" "$b/CMakeFiles/app.dir/"; then
            ok "CMake consumer ($type) against the vcpkg layout builds, links $(echo "$want" | sed "s|$installed/||") and runs"
        else
            grep -r "librthread.a" "$b/CMakeFiles/app.dir/" | head -3
            bad "CMake consumer ($type) linked the wrong archive"
        fi
    else
        tail -n 30 "$b.log"
        bad "CMake consumer ($type) against the vcpkg layout"
    fi
done
if PKG_CONFIG_PATH="$installed/lib/pkgconfig" make -C "$work/consumers/pkg-config" >"$work/pc.log" 2>&1 &&
    "$work/consumers/pkg-config/app" | grep -q "consumer ok on ThreadId(1)"; then
    ok "pkg-config consumer against the vcpkg layout builds and runs"
else
    cat "$work/pc.log"
    bad "pkg-config consumer against the vcpkg layout"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

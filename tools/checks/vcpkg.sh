#!/usr/bin/env bash
# The vcpkg port (tools/vcpkg/ports/rthread, registry-shaped: its sources
# are GitHub's tarball of the tag) and the overlay port that
# tools/vcpkg/make-overlay.sh makes of the checkout (a `git archive` tarball
# by a file:// URL with its SHA512), checked without vcpkg (it needs the
# network): the manifest (fields, version bounds as tested, "supports"), the
# usage text, the registry port's download as the registry needs it, the
# overlay port's SHA512 (it is the tarball's, stays for the same sources,
# changes with a source file), then the overlay port run for real, copied
# away from the checkout, by tools/vcpkg/mock-vcpkg.cmake (the vcpkg helpers
# done as plain CMake steps: download and extraction, release and debug
# builds, install, config fixup to share/rthread), then a CMake consumer and
# a pkg-config consumer built against that vcpkg layout, in Release and in
# Debug (which must link the debug archive). Where VCPKG_ROOT names a real
# vcpkg, `vcpkg install rthread` with the overlay port runs too.
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
# Version bounds: what this machine builds and tests against.
def installed(cmd):
    import subprocess
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
boost = re.search(r"#define BOOST_VERSION (\d+)", open("/usr/include/boost/version.hpp").read())
boost = f"{int(boost.group(1)) // 100000}.{int(boost.group(1)) // 100 % 1000}.{int(boost.group(1)) % 100}"
fmt = installed("pkg-config --modversion fmt")
for name, d in deps.items():
    if name.startswith("boost-"):
        need(d.get("version>=") == boost, f"{name}: version>= must be {boost}, the tested Boost")
    elif name == "fmt":
        need(d.get("version>=") == fmt, f"fmt: version>= must be {fmt}, the tested fmt")
# "supports": the platforms with an implementation under libs/rthread/src/sys/.
import glob, os
# (file name prefix: vcpkg's platform name)
platforms = {"linux": "linux", "win": "windows", "darwin": "osx", "macos": "osx", "osx": "osx"}
have = {v for k, v in platforms.items()
        if any(os.path.basename(f).startswith(k) for f in glob.glob("libs/rthread/src/sys/*.cpp"))}
# Platform names only: qualifiers (mingw, uwp, static) narrow a platform.
claimed = set(re.findall(r"[a-z]+", m.get("supports", ""))) & {"linux", "windows", "osx", "freebsd", "android"}
need(have and claimed == have,
     f"supports is '{m.get('supports')}' but libs/rthread/src/sys/ implements {sorted(have)}")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
EOF_PY
    ok "vcpkg.json is valid, complete, at CMakeLists.txt's version, a port for each linked library, version>= as tested, supports as implemented"
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

# 3. The registry port: vcpkg_from_github as the registry needs it, and no
# path to a checkout.
if mock "$work/dry" "$work/dry-trees" "$root/$port/portfile.cmake" -DMOCK_DRY_RUN=ON >"$work/dry.log" 2>&1 &&
    version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$port/vcpkg.json") &&
    grep -qE "^vcpkg_from_github OUT_SOURCE_PATH SOURCE_PATH REPO rthread/rthread REF v$version SHA512 [0-9a-f]+ HEAD_REF main\$" \
        "$work/dry/mock-calls.txt" &&
    ! grep -nE 'CMAKE_CURRENT_LIST_DIR}/\.\.|RTHREAD_SOURCE_DIR|SOURCE_PATH "\$\{CMAKE' "$port/portfile.cmake"; then
    ok "the registry port takes GitHub's tarball of v$version (vcpkg_from_github REPO, REF, SHA512, HEAD_REF main), no checkout path"
else
    cat "$work/dry.log" "$work/dry/mock-calls.txt" 2>/dev/null
    bad "the registry port's vcpkg_from_github"
fi
if grep -qE '^ +SHA512 0$' "$port/portfile.cmake"; then
    echo "note: the registry port's SHA512 is 0 until the tag v$version exists on GitHub (not checked here)"
fi

# 3b. The overlay port of a checkout (a clone, so that a source change can
# be made without touching this one).
clone="$work/clone"
git clone -q "$root" "$clone"
# The clone holds what is committed; the check runs on the sources as they are.
git -C "$root" diff HEAD --binary | git -C "$clone" apply --allow-empty
(cd "$root" && git ls-files --others --exclude-standard -z | xargs -0 -r cp --parents -t "$clone")
git -C "$clone" add -A
overlay_sha() { sed -n 's/^ *SHA512 \([0-9a-f]*\)$/\1/p' "$1/ports/rthread/portfile.cmake"; }
if ports=$(bash "$clone/tools/vcpkg/make-overlay.sh" "$work/overlay1" 2>"$work/overlay1.log") &&
    [ "$ports" = "$work/overlay1/ports" ] && [ -f "$ports/rthread/vcpkg.json" ] && [ -f "$ports/rthread/usage" ]; then
    tarball=$(ls "$work/overlay1"/rthread-*.tar.gz)
    sha1=$(overlay_sha "$work/overlay1")
    if [ "$sha1" = "$(sha512sum "$tarball" | cut -d' ' -f1)" ] &&
        grep -qF "URLS \"file://$tarball\"" "$ports/rthread/portfile.cmake" &&
        diff <(tar -tzf "$tarball" | sed 's|^[^/]*/||; /\/$/d; /^$/d' | sort) \
            <(git -C "$clone" ls-files | sort) >"$work/tarball.diff"; then
        ok "make-overlay.sh: the port's SHA512 is its file:// tarball's, which holds the checkout's tracked files"
    else
        head -n 20 "$work/tarball.diff"
        bad "make-overlay.sh: SHA512, URL or tarball contents"
    fi
else
    cat "$work/overlay1.log"
    bad "make-overlay.sh"
fi
if bash "$clone/tools/vcpkg/make-overlay.sh" "$work/overlay2" >/dev/null 2>"$work/overlay2.log" &&
    [ -n "${sha1:-}" ] && [ "$(overlay_sha "$work/overlay2")" = "$sha1" ]; then
    ok "make-overlay.sh gives the same SHA512 for the same sources (vcpkg keeps its cached build)"
else
    cat "$work/overlay2.log"
    bad "make-overlay.sh is not reproducible"
fi
# A tarball that is not the one the port was made with is refused.
echo >>"$(ls "$work/overlay2"/rthread-*.tar.gz)"
if ! mock "$work/tampered" "$work/tampered-trees" "$work/overlay2/ports/rthread/portfile.cmake" -DMOCK_DRY_RUN=ON \
    >"$work/tampered.log" 2>&1 && grep -qi 'hash' "$work/tampered.log"; then
    ok "a tarball changed after the port was made fails the port's SHA512 check"
else
    cat "$work/tampered.log"
    bad "a changed tarball passed the SHA512 check"
fi
echo "// a change" >>"$clone/libs/rthread/src/spawn.cpp"
if bash "$clone/tools/vcpkg/make-overlay.sh" "$work/overlay3" >/dev/null 2>"$work/overlay3.log" &&
    sha3=$(overlay_sha "$work/overlay3") && [ -n "$sha3" ] && [ "$sha3" != "${sha1:-}" ]; then
    ok "an uncommitted source change gives a new tarball and SHA512 (a new vcpkg ABI hash)"
else
    cat "$work/overlay3.log"
    bad "a source change does not change the overlay port's SHA512"
fi

# 4. The real run, from the overlay port copied away from the checkout (the
# clone removed: the port needs nothing but its tarball).
mv "$work/overlay1/ports" "$work/elsewhere"
rm -rf "$clone"
pkgs="$work/packages"
if mock "$pkgs" "$work/buildtrees" "$work/elsewhere/rthread/portfile.cmake" >"$work/port.log" 2>&1 &&
    grep -q '^vcpkg_download_distfile ARCHIVE URLS file://' "$pkgs/mock-calls.txt" &&
    grep -qE "^vcpkg_cmake_configure SOURCE_PATH $work/buildtrees/src/extracted/rthread-" "$pkgs/mock-calls.txt"; then
    ok "the overlay port, away from the checkout: download (SHA512 checked), extraction, configure, build, install, fixup (release and debug)"
else
    tail -n 40 "$work/port.log"
    bad "the overlay portfile run"
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

# 7. A real vcpkg, where there is one (none here: it needs the network).
if [ -n "${VCPKG_ROOT:-}" ] && [ -x "$VCPKG_ROOT/vcpkg" ]; then
    if "$VCPKG_ROOT/vcpkg" install rthread --overlay-ports="$work/elsewhere" \
        --x-install-root="$work/vcpkg-installed" >"$work/vcpkg.log" 2>&1 &&
        cmake -S "$work/consumers/cmake" -B "$work/vcpkg-consumer" \
            -DCMAKE_TOOLCHAIN_FILE="$VCPKG_ROOT/scripts/buildsystems/vcpkg.cmake" \
            -DVCPKG_INSTALLED_DIR="$work/vcpkg-installed" >>"$work/vcpkg.log" 2>&1 &&
        cmake --build "$work/vcpkg-consumer" -j"$jobs" >>"$work/vcpkg.log" 2>&1 &&
        "$work/vcpkg-consumer/app" | grep -q "consumer ok on ThreadId(1)"; then
        ok "vcpkg ($VCPKG_ROOT) installs the overlay port; a CMake consumer through its toolchain builds and runs"
    else
        tail -n 40 "$work/vcpkg.log"
        bad "vcpkg install rthread with the overlay port"
    fi
else
    echo "note: VCPKG_ROOT names no vcpkg: no real vcpkg install (checked with the mock above)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

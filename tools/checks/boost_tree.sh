#!/usr/bin/env bash
# rthread inside a Boost source tree, as users of a Boost-based b2 tree have
# it: this checkout placed at libs/rthread of Debian's Boost 1.81 source tree
# (tools/sources/fetch.sh boost), and an app in the tree (test/consumers/
# app.cpp: a named thread joined for a value, a panic back through join)
# linking /rthread//rthread.
#   1. With the system's Boost hidden (a private mount namespace: the
#      multiarch library directory replaced by a copy without libboost_* and
#      cmake/Boost*, an empty directory over /usr/include/boost), the app
#      builds, warnings as errors, and runs: everything Boost comes from
#      the tree.
#   2. With the system's Boost visible, the same build's command lines name
#      no /usr/include/boost and no -lboost_*, compile rthread with the tree
#      as a system include directory (-isystem), and link the tree's
#      libraries; the app loads the tree's libraries, not the system's.
#   3. b2 run in libs/rthread itself (the demo) uses the tree's Boost too.
# The tree is never written to: it is the lower layer of an overlay mount.
# The Boost libraries the app needs are built once a tree, toolset and b2,
# under $RTHREAD_CACHE/boost-tree-build-<key>, so later runs are quick.
# Needs root (or sudo) for unshare -m. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)
jobs=${RTHREAD_JOBS:-2}
cache=${RTHREAD_CACHE:-/var/cache/rthread}
work=$(mktemp -d "${TMPDIR:-/tmp}/rthread-boost-tree.XXXXXX")
trap '[ -n "${RTHREAD_KEEP:-}" ] || rm -rf "$work"' EXIT

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo -n); fi

if ! tree=$(bash tools/sources/fetch.sh boost 2>"$work/fetch.log"); then
    tail -n 20 "$work/fetch.log"
    bad "the Boost 1.81 source tree (tools/sources/fetch.sh boost)"
    finish
fi
if ! "${as_root[@]}" unshare -m true 2>"$work/unshare.log"; then
    cat "$work/unshare.log"
    bad "unshare -m (a private mount namespace, to hide the system's Boost) is not available"
    finish
fi

# The build directory's key: the tree (fetch.sh records its tarball's
# checksum), the compiler and b2.
key=$( (cat "$tree/.rthread-complete" && stat -c %Y "$tree/.rthread-complete" &&
    g++ --version | head -n 1 && b2 -v | head -n 1) | sha256sum | cut -c1-16)
build="$cache/boost-tree-build-$key"
# Builds for another tree, compiler or b2 are of no more use.
find "$cache" -maxdepth 1 -name 'boost-tree-build-*' ! -name "boost-tree-build-$key" -exec rm -rf {} +
mkdir -p "$build"
props=(-j"$jobs" --build-dir="$build" warnings-as-errors=on)

# The app's project inside the tree: it names rthread only.
mkdir -p "$work/app"
cp test/consumers/app.cpp "$work/app/app.cpp"
cat >"$work/app/Jamfile" <<'EOF_JAM'
use-project /rthread : ../libs/rthread ;
exe app : app.cpp /rthread//rthread ;
explicit app ;
EOF_JAM

# Runs "$@" in a private mount namespace where $work/tree is the tree with
# this checkout at libs/rthread and the app at rthread-app; with hide=1, the
# system's Boost is hidden too.
in_tree() {
    local hide=$1
    shift
    "${as_root[@]}" unshare -m bash -s "$tree" "$work" "$root" "$hide" "$@" <<'EOF_NS'
set -eu
tree=$1 work=$2 root=$3 hide=$4
shift 4
mkdir -p "$work/upper" "$work/overlay-work" "$work/tree"
mount -t overlay overlay -o "lowerdir=$tree,upperdir=$work/upper,workdir=$work/overlay-work" "$work/tree"
if [ ! -d "$work/tree/libs/rthread" ]; then
    mkdir -p "$work/tree/libs/rthread" "$work/tree/rthread-app"
    tar -C "$root" --exclude=./bin --exclude=./.git --exclude=./build -cf - . |
        tar -C "$work/tree/libs/rthread" -xf -
    cp "$work/app/"* "$work/tree/rthread-app/"
fi
if [ "$hide" = 1 ]; then
    multiarch=/usr/lib/$(gcc -dumpmachine)
    rm -rf "$work/multiarch"
    # Hard links when on one file system (instant), else a copy.
    cp -al "$multiarch" "$work/multiarch" 2>/dev/null || cp -a "$multiarch" "$work/multiarch"
    rm -rf "$work/multiarch"/libboost_* "$work/multiarch"/cmake/Boost* "$work/multiarch"/cmake/boost_*
    mount --bind "$work/multiarch" "$multiarch"
    mkdir -p "$work/empty"
    mount --bind "$work/empty" /usr/include/boost
fi
cd "$work/tree/rthread-app"
"$@"
EOF_NS
}

# 0. The system's Boost is hidden in the namespace.
if in_tree 1 bash -c '! ls /usr/lib/$(gcc -dumpmachine)/libboost_* /usr/lib/$(gcc -dumpmachine)/cmake/Boost* 2>/dev/null &&
    [ -z "$(ls -A /usr/include/boost)" ] &&
    ! echo "#include <boost/version.hpp>" | g++ -x c++ -E - >/dev/null 2>&1 &&
    ls /usr/lib/$(gcc -dumpmachine)/libfmt.so >/dev/null' >"$work/hidden.log" 2>&1; then
    ok "the private mount namespace hides the system's Boost libraries, CMake packages and headers (fmt stays)"
else
    cat "$work/hidden.log"
    bad "hiding the system's Boost"
fi

# 1. Build and run with the system's Boost hidden.
start=$(date +%s)
if in_tree 1 bash -c 'b2 "$@" app && app=$(find "$0" -path "*/rthread-app/*" -name app -type f -newer Jamfile | head -n 1) &&
    echo "app: $app" && "$app"' "$build" "${props[@]}" >"$work/build.log" 2>&1 &&
    grep -q 'consumer ok on ThreadId(1)' "$work/build.log"; then
    ok "with the system's Boost hidden, an app in the tree links /rthread//rthread, builds (warnings as errors) and runs ($(($(date +%s) - start)) s)"
else
    tail -n 40 "$work/build.log"
    bad "the app in the Boost tree, system Boost hidden"
fi

# 2. The command lines, with the system's Boost visible (-a -n: every
# command of the build, none run).
if in_tree 0 b2 "${props[@]}" -a -n app >"$work/commands.log" 2>&1; then
    compiles=$(grep -cE '^ *"?g\+\+"? .* -c .*libs/rthread/libs/rthread/src/' "$work/commands.log")
    errors=()
    if grep -n '/usr/include/boost' "$work/commands.log"; then errors+=("a command names /usr/include/boost"); fi
    if grep -nE '(^| )-lboost_' "$work/commands.log"; then errors+=("a command links a system -lboost_*"); fi
    [ "$compiles" -gt 0 ] || errors+=("no compile of rthread's sources")
    if grep -E '^ *"?g\+\+"? .* -c .*libs/rthread/libs/rthread/src/' "$work/commands.log" |
        grep -vqF -- "-isystem$work/tree "; then
        errors+=("an rthread source is compiled without -isystem <tree>")
    fi
    link=$(grep -E '^ *"?g\+\+"? .* -o "[^"]*/rthread-app/[^"]*/app" ' "$work/commands.log")
    [ -n "$link" ] || errors+=("no link of the app")
    for lib in thread context chrono stacktrace_backtrace system; do
        grep -qE "\"$build/boost/[^\"]*/libboost_$lib\.so[.0-9]*\"" <<<"$link" ||
            errors+=("the app's link has no libboost_$lib of the tree's build")
    done
    if [ ${#errors[@]} = 0 ]; then
        ok "with the system's Boost visible: no /usr/include/boost, no -lboost_*, rthread compiled -isystem <tree> ($compiles sources), the tree's Boost libraries linked"
    else
        printf '  %s\n' "${errors[@]}"
        bad "the build's command lines"
    fi
else
    tail -n 30 "$work/commands.log"
    bad "b2 -a -n in the tree"
fi
if in_tree 0 bash -c 'app=$(find "$0" -path "*/rthread-app/*" -name app -type f | head -n 1) && ldd "$app"' "$build" \
    >"$work/ldd.log" 2>&1 && grep -q "libboost_thread.*=> $build/" "$work/ldd.log" &&
    ! grep -E 'libboost_.*=> /usr/' "$work/ldd.log"; then
    ok "with the system's Boost visible, the app loads the tree's Boost libraries"
else
    cat "$work/ldd.log"
    bad "the app's Boost libraries (ldd)"
fi

# 3. b2 run in libs/rthread itself (the demo, tools/tour.cpp): rthread's
# Jamroot finds the enclosing tree and uses its Boost, the system's hidden.
if in_tree 1 bash -c 'cd ../libs/rthread && b2 "$@" tour' "${props[@]}" >"$work/tour.log" 2>&1 &&
    grep -q 'available_parallelism()' "$work/tour.log"; then
    ok "b2 tour in libs/rthread of the tree, the system's Boost hidden, builds against the tree and runs"
else
    tail -n 30 "$work/tour.log"
    bad "b2 in libs/rthread of the tree"
fi

finish

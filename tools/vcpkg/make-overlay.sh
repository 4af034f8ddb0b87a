#!/usr/bin/env bash
# Makes a vcpkg overlay port of this checkout and prints its ports directory:
#
#   vcpkg install rthread --overlay-ports="$(bash tools/vcpkg/make-overlay.sh [DIR])"
#
# DIR (default bin/vcpkg-overlay) gets ports/rthread/ and the sources as a
# tarball, rthread-<tree>.tar.gz: `git archive` of the checkout's tracked
# files as they are now (uncommitted changes included, untracked files not:
# `git add` them). The port is tools/vcpkg/ports/rthread with its download
# (vcpkg_from_github) replaced by that tarball, taken by a file:// URL
# through vcpkg_download_distfile with its SHA512 and unpacked by
# vcpkg_extract_source_archive. vcpkg's ABI hash covers the portfile, so a
# source change (a new SHA512) is a new build, never a stale binary from the
# cache; the same sources give the same tarball (fixed dates), so an
# unchanged checkout keeps its cached build. The port works from anywhere:
# it names the tarball, not the checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
out=${1:-$checkout/bin/vcpkg-overlay}
mkdir -p "$out"
out=$(cd "$out" && pwd)
registry="$here/ports/rthread"

cd "$checkout"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$registry/vcpkg.json")
# The tracked files as they are now: `git stash create` commits the working
# tree's changes without touching it (nothing to commit: HEAD). Its tree is
# archived through a commit of fixed dates, so equal sources give an equal
# tarball.
snapshot=$(git stash create)
tree=$(git rev-parse "${snapshot:-HEAD}^{tree}")
commit=$(GIT_AUTHOR_NAME=rthread GIT_AUTHOR_EMAIL=rthread@invalid GIT_AUTHOR_DATE='@0 +0000' \
    GIT_COMMITTER_NAME=rthread GIT_COMMITTER_EMAIL=rthread@invalid GIT_COMMITTER_DATE='@0 +0000' \
    git commit-tree "$tree" -m "rthread $version overlay sources")
name="rthread-$version-${tree:0:12}"
tarball="$out/$name.tar.gz"
git archive --format=tar --prefix="$name/" "$commit" | gzip -9n >"$tarball.partial"
mv "$tarball.partial" "$tarball"
find "$out" -maxdepth 1 -name 'rthread-*.tar.gz' ! -name "$name.tar.gz" -delete
sha512=$(sha512sum "$tarball" | cut -d' ' -f1)

port="$out/ports/rthread"
rm -rf "$port"
mkdir -p "$port"
cp "$registry/vcpkg.json" "$registry/usage" "$port/"
marker='# ---- the build: make-overlay.sh keeps everything from this line on ----'
if ! grep -qxF -- "$marker" "$registry/portfile.cmake"; then
    echo "make-overlay.sh: no '$marker' line in $registry/portfile.cmake" >&2
    exit 1
fi
{
    echo "# Overlay port of a checkout of rthread, made by tools/vcpkg/make-overlay.sh"
    echo "# (git tree $tree): its sources are the tarball below, checked by SHA512."
    echo "vcpkg_download_distfile(ARCHIVE"
    echo "    URLS \"file://$tarball\""
    echo "    FILENAME \"$name.tar.gz\""
    echo "    SHA512 $sha512"
    echo ")"
    echo "vcpkg_extract_source_archive(SOURCE_PATH ARCHIVE \"\${ARCHIVE}\")"
    sed -n "\\|^$marker\$|,\$p" "$registry/portfile.cmake"
} >"$port/portfile.cmake"
echo "$out/ports"

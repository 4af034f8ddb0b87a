#!/usr/bin/env bash
# Installs every Debian 12 package listed in tools/packages.txt (as root, or
# through sudo when it is there).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=$(grep -v '^#' "$here/packages.txt" | tr '\n' ' ')
as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
# shellcheck disable=SC2086
"${as_root[@]}" apt-get install -y --no-install-recommends $packages

#!/usr/bin/env bash
# b2's testing.launcher for the Windows build: runs a test .exe under our
# headless Wine (tools/windows/env.sh), for at most RTHREAD_WINE_TIMEOUT
# seconds (default 300). RTHREAD_MINGW: what toolchain.sh printed.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/windows/env.sh
source "$here/env.sh"
rthread_wine "${RTHREAD_WINE_TIMEOUT:-300}" "$@"

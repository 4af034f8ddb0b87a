#!/usr/bin/env bash
# b2's testing.launcher for the Windows build: runs a test .exe under our
# headless Wine (tools/windows/env.sh), for at most RTHREAD_WINE_TIMEOUT
# seconds (default 300). RTHREAD_MINGW: what toolchain.sh printed.
# Stress loops run a tenth of their rounds (test_support::stress_count in
# test/platform.hpp): every thread start and kernel-object wait is a round
# trip to the Wine server.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/windows/env.sh
source "$here/env.sh"
export RTHREAD_TEST_STRESS_DIVISOR=${RTHREAD_TEST_STRESS_DIVISOR:-10}
rthread_wine "${RTHREAD_WINE_TIMEOUT:-300}" "$@"

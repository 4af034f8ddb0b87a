# shellcheck shell=bash
# Sourced: the paths of tools/windows/toolchain.sh's build and the headless
# Wine that runs its .exe's. RTHREAD_MINGW: the directory toolchain.sh
# printed.
: "${RTHREAD_MINGW:?set RTHREAD_MINGW to what tools/windows/toolchain.sh printed}"
rthread_mingw_gcc=$(x86_64-w64-mingw32-g++-posix -dumpfullversion)
export RTHREAD_MINGW_BOOST=$RTHREAD_MINGW/boost-1.81.0-mingw$rthread_mingw_gcc
export RTHREAD_MINGW_BACKTRACE=$RTHREAD_MINGW/libbacktrace-gcc12.2.0-boost1.81.0-mingw$rthread_mingw_gcc
export RTHREAD_MINGW_FMT=$RTHREAD_MINGW/fmt-9.1.0-mingw$rthread_mingw_gcc
export RTHREAD_MINGW_BENCHMARK=$RTHREAD_MINGW/benchmark-1.7.1-mingw$rthread_mingw_gcc
export WINEPREFIX=$RTHREAD_MINGW/wine-prefix
export WINEDEBUG=-all
# winedbg off: a crash ends the program with its code instead of a debugger
# session waiting for the timeout.
export WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree=d;mshtml=d;winedbg.exe=d"
export WINEARCH=win64
unset DISPLAY
export WINESERVER=/usr/lib/wine/wineserver
# Runs a Windows program under our Wine, for at most $1 seconds.
rthread_wine() {
    local limit=$1
    shift
    timeout --kill-after=10 "$limit" /usr/lib/wine/wine64 "$@"
}

#!/usr/bin/env bash
# Model-checks the futex parker's protocol (tools/model/parker.pml) with
# spin: no lost wake-up, no deadlock, the token exact and saturating at one,
# in several configurations (unparkers, unparks, spurious wake-ups, timed
# parks, the spin phase). Then checks that the check has teeth: each
# deliberately broken parker (MUTANT=1..4 in the model) must be rejected.
# Also checks that the model and the source still name the states alike.
# Prints "N passed, N failed" last; exits non-zero on a failure.
set -u
cd "$(dirname "$0")/../.."
root=$(pwd)

# shellcheck source=lib/tally.sh
source "tools/checks/lib/tally.sh"

if ! command -v spin >/dev/null 2>&1; then
    bad "spin is not installed (tools/packages.txt lists it)"
    finish
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tools/model/parker.pml "$work/"

# verify FLAGS: runs spin and pan; sets errors, complete (1 when the whole
# state space was searched) and states.
verify() {
    errors=""
    complete=0
    states=0
    # shellcheck disable=SC2086
    if ! (cd "$work" && rm -f pan pan.* ./*.trail && spin $1 -a parker.pml >spin.log 2>&1 &&
        gcc -O2 -DSAFETY -o pan pan.c >gcc.log 2>&1); then
        cat "$work/spin.log" "$work/gcc.log" 2>/dev/null | tail -n 20
        return 1
    fi
    (cd "$work" && ./pan -m2000000 >pan.log 2>&1)
    errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$work/pan.log" | head -n 1)
    states=$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' "$work/pan.log" | head -n 1)
    if ! grep -q "Search not completed\|max search depth too small" "$work/pan.log"; then
        complete=1
    fi
    return 0
}

# The protocol holds in every configuration, over the whole state space.
while read -r name flags; do
    [ -n "$name" ] || continue
    if ! verify "$flags"; then
        bad "$name: the model does not build ($flags)"
    elif [ "$errors" = 0 ] && [ "$complete" = 1 ]; then
        ok "$name: no lost wake-up, no deadlock, exact token ($states states; $flags)"
    else
        bad "$name: errors=${errors:-?} complete=$complete ($flags)"
        grep -E "pan:|assert" "$work/pan.log" | head -n 5
        (cd "$work" && spin $flags -t -p parker.pml 2>/dev/null | tail -n 40)
    fi
done <<'EOF'
one-unparker -DUNPARKERS=1 -DUNPARKS=1
one-unparker-three-unparks -DUNPARKERS=1 -DUNPARKS=3
two-unparkers -DUNPARKERS=2 -DUNPARKS=1
two-unparkers-twice-each -DUNPARKERS=2 -DUNPARKS=2
three-unparkers -DUNPARKERS=3 -DUNPARKS=1
no-spurious-wake-ups -DUNPARKERS=2 -DSPURIOUS=0
untimed-parks-only -DUNPARKERS=2 -DTIMED=0
no-spin-phase -DUNPARKERS=2 -DSPIN=0
EOF

# Each broken parker is caught.
while read -r mutant what; do
    [ -n "$mutant" ] || continue
    if ! verify "-DMUTANT=$mutant"; then
        bad "mutant $mutant does not build"
    elif [ "${errors:-0}" != 0 ]; then
        ok "mutant $mutant ($what) is rejected: $(grep -m1 'pan:1' "$work/pan.log")"
    else
        bad "mutant $mutant ($what) passed the check: the model has no teeth there"
    fi
done <<'EOF'
1 futex_wait queues without comparing in the same step
2 unpark loads then stores instead of exchanging
3 a timed-out park stores empty instead of exchanging
4 park looks for the token then stores parked
EOF

# The model and the source name the states alike (STYLE.md: names a reader
# can hold side by side).
for state in empty notified parked; do
    if grep -q "#define $state " tools/model/parker.pml &&
        grep -q "\b$state = " libs/rthread/src/thread_parking.hpp &&
        grep -q "park_state::$state" libs/rthread/src/park.cpp; then
        ok "state '$state' is named alike in parker.pml, thread_parking.hpp and park.cpp"
    else
        bad "state '$state' is not named alike in parker.pml, thread_parking.hpp and park.cpp"
    fi
done
if grep -q "tools/model/parker.pml" libs/rthread/src/park.cpp libs/rthread/src/thread_parking.hpp; then
    ok "the parker's source points at the model"
else
    bad "park.cpp / thread_parking.hpp no longer point at tools/model/parker.pml"
fi

cd "$root" || exit 1
finish

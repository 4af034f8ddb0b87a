/*
 * The futex parker of rthread, as a Promela model checked by spin
 * (tools/checks/model.sh runs it).
 *
 * It follows futex_parker in include/rthread/detail/parker.hpp and
 * libs/rthread/src/park.cpp step by step, with the same names:
 *
 *   state    empty (0) / notified (1) / parked (-1), the parker's word
 *   park     [spin: try_park while empty]; fetch_sub(1); if it was notified,
 *            done (true). Else loop: futex_wait(parked, deadline);
 *            compare_exchange(notified -> empty) ? true :
 *            (!woken || deadline passed) ? exchange(empty) == notified :
 *            wait again
 *   try_park load == notified && compare_exchange(notified -> empty)
 *   unpark   exchange(notified) == parked ? futex_wake_one : nothing
 *
 * The kernel's futex is modelled as what it guarantees: futex_wait compares
 * the word with `parked` and queues the caller in one atomic step (or
 * returns at once, counting as woken, when the word differs); a queued
 * waiter leaves the queue when futex_wake_one takes it out (woken), on a
 * spurious wake-up or signal (EINTR: woken), or at its deadline, for a timed
 * wait (ETIMEDOUT: not woken). Time is free to pass at any moment: a timed
 * park's deadline passes nondeterministically, and once passed stays so.
 *
 * Checked (spin -a; pan in safety mode: assertions and invalid end states):
 *  - the token is exact: at every state, the abstract token (a ghost set by
 *    unpark, cleared by the park that consumes it) is present exactly when
 *    the word reads notified; so a park returns true only by consuming a
 *    token, a token is never lost (a timed-out park that races an unpark
 *    takes it), and it saturates at one;
 *  - outside park() the word never reads parked; park never starts from
 *    parked (only the owner parks);
 *  - no lost wake-up, no deadlock: the parker runs the usage pattern of
 *    park.hpp (`while (!condition) park();`) against UNPARKERS threads that
 *    each set their part of the condition and unpark; every run ends (an
 *    invalid end state would be a parker asleep for good after the last
 *    unpark).
 * The model is sequentially consistent: it checks the protocol, not the
 * memory orders (each is argued in park.cpp; ThreadSanitizer runs the
 * tests).
 *
 * Knobs (-D on spin's command line): UNPARKERS (2), UNPARKS per unparker
 * (1), SPURIOUS wake-ups allowed in a run (2), TIMED (1: the parker also
 * uses park_timeout with a deadline, and park_timeout(0)), SPIN (1: park
 * first spins, calling try_park zero to two times before fetch_sub, as
 * park.cpp does up to spin_pauses + spin_yields times when spinning pays;
 * a try_park that finds no token changes nothing, so any number of rounds
 * behaves as "one successful try_park at some moment of the window, or
 * none", which two rounds already cover).
 * MUTANT selects a deliberately broken parker that the check must reject:
 *   1 futex_wait queues without comparing the word in the same step
 *   2 unpark loads then stores instead of exchanging
 *   3 a timed-out park stores empty instead of exchanging
 *   4 park looks for the token, then stores parked (no fetch_sub)
 */

#ifndef UNPARKERS
#define UNPARKERS 2
#endif
#ifndef UNPARKS
#define UNPARKS 1
#endif
#ifndef SPURIOUS
#define SPURIOUS 2
#endif
#ifndef TIMED
#define TIMED 1
#endif
#ifndef SPIN
#define SPIN 1
#endif
#ifndef MUTANT
#define MUTANT 0
#endif

#define empty 0
#define notified 1
#define parked (-1)

int state = empty;      /* the parker's atomic word */
bool queued = false;    /* the parker waits in the kernel's futex queue */
bool token = false;     /* ghost: the abstract token */
bool in_park = false;   /* ghost: the parker is inside park() */
byte spurious_left = SPURIOUS;
byte done = 0;          /* the condition: how many unparkers are done */
byte consumed = 0;      /* ghost: parks that returned true */
byte unparks = 0;       /* ghost: unpark() calls made */
byte finished = 0;      /* unparkers that have returned (the parker joins) */

/* The token's invariant, checked at every state of every run. */
active proctype invariant() {
end:
    atomic {
        !((token == (state == notified)) &&
          (state == empty || state == notified || state == parked) &&
          (in_park || state != parked) && consumed <= unparks) ->
        assert(false)
    }
}

/* futex_wake_one(&state): takes the waiter, if any, out of the queue. */
inline futex_wake_one() {
    atomic {
        if
        :: queued -> queued = false
        :: else -> skip
        fi
    }
}

/* futex_wait(&state, parked, deadline): sets woken. */
inline futex_wait(timed, woken) {
#if MUTANT == 1
    /* Broken: looks, then queues in a separate step. */
    if
    :: state != parked -> woken = true
    :: else -> queued = true
    fi;
#else
    atomic {
        if
        :: state != parked -> woken = true /* EAGAIN: the word changed */
        :: else -> queued = true
        fi
    }
#endif
    if
    :: queued ->
        if
        :: atomic { !queued -> woken = true }   /* futex_wake_one */
        :: atomic { queued && spurious_left > 0 ->  /* EINTR, spurious */
                    queued = false; spurious_left--; woken = true }
        :: atomic { timed && queued ->           /* ETIMEDOUT */
                    queued = false; expired = true; woken = false }
        fi
    :: else -> skip
    fi
}

/* d.has_passed(): never for an untimed park; otherwise time may pass now. */
inline has_passed(timed, passed) {
    if
    :: !timed -> passed = false
    :: timed && expired -> passed = true
    :: timed && !expired -> passed = false
    :: timed && !expired -> expired = true; passed = true
    fi
}

/* try_park(): consumes a token that is there; never blocks. */
inline try_park(result) {
    atomic {
        if
        :: state == notified -> state = empty; token = false; result = true
        :: else -> result = false
        fi
    }
}

inline park(timed, result) {
    in_park = true;
    expired = false;
    result = false;
#if SPIN
    /* The bounded spin: try_park while the token is absent. */
    spins = 0;
    do
    :: spins < 2 && !result -> try_park(result); spins++
    :: spins >= 2 || result -> break
    :: !result -> break /* spinning does not pay (one CPU), or gave up */
    od;
#endif
    if
    :: result -> skip
    :: else ->
#if MUTANT == 4
        /* Broken: looks for the token, then stores parked. */
        if
        :: atomic { state == notified -> state = empty; token = false }; result = true
        :: else -> state = parked
        fi;
#else
        atomic { /* fetch_sub(1): notified -> empty, empty -> parked */
            assert(state != parked);
            old = state;
            state = state - 1;
            if
            :: old == notified -> token = false; result = true
            :: else -> skip
            fi
        };
#endif
        do
        :: result -> break
        :: !result ->
            futex_wait(timed, woken);
            try_park(result); /* compare_exchange(notified -> empty) */
            if
            :: result -> break
            :: else ->
                has_passed(timed, passed);
                if
                :: !woken || passed ->
#if MUTANT == 3
                    state = empty; /* Broken: a token that raced in is lost */
                    result = false;
#else
                    atomic { /* exchange(empty): take a token that raced in */
                        old = state;
                        state = empty;
                        if
                        :: old == notified -> token = false; result = true
                        :: else -> result = false
                        fi
                    };
#endif
                    break
                :: else -> skip /* spurious wake-up or signal: wait again */
                fi
            fi
        od
    fi;
    if
    :: result -> consumed++
    :: else -> skip
    fi;
    in_park = false
}

inline unpark() {
#if MUTANT == 2
    old_seen = state; /* Broken: load, then store */
    atomic { state = notified; token = true; unparks++ };
#else
    atomic { /* exchange(notified) */
        old_seen = state;
        state = notified;
        token = true;
        unparks++
    };
#endif
    if
    :: old_seen == parked -> futex_wake_one()
    :: else -> skip
    fi
}

/* The owner: `while (!condition) park();` with any kind of park. */
active proctype parker() {
    int old;
    bool woken, passed, expired, result;
    byte spins;
    do
    :: done == UNPARKERS * UNPARKS -> break
    :: else ->
        if
        :: park(false, result)
#if TIMED
        :: park(true, result)      /* park_timeout(d) */
        :: try_park(result);       /* park_timeout(0) */
           if
           :: result -> consumed++
           :: else -> skip
           fi
#endif
        fi
    od;
    /* Once every unparker has returned (joined): the token saturates at
       one, at most one is left whatever the count of unparks, and taking
       it leaves none. */
    finished == UNPARKERS;
    try_park(result);
    if
    :: result -> consumed++
    :: else -> skip
    fi;
    try_park(result);
    assert(!result);
    assert(state == empty && !token)
}

active [UNPARKERS] proctype unparker() {
    int old_seen;
    byte n = 0;
    do
    :: n < UNPARKS ->
        atomic { done++ }; /* the condition the parker waits for */
        unpark();
        n++
    :: n == UNPARKS -> break
    od;
    finished++
}

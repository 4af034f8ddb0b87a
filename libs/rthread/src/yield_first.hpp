// How the library waits for a thread to end (join's exit notice in
// spawn.cpp, a scope's end in scope.cpp): a few yields first, then a futex
// sleep. Private to the library.
//
// A waiter that shares its CPU with the ending thread hands it the CPU with
// a yield, and the thread, which rarely blocks near its end, usually runs to
// its exit before the waiter runs again: the wait then costs one context
// switch, as a pthread_join that finds the thread gone. A waiter that went
// to sleep at once would be woken by the thread's last store and, on the same
// CPU, preempt the thread before its exit, which then needs switches of its
// own. Four yields, as libstdc++'s std::atomic::wait makes before it sleeps.
#ifndef RTHREAD_SRC_YIELD_FIRST_HPP
#define RTHREAD_SRC_YIELD_FIRST_HPP

#include "sys/sys.hpp"

namespace rthread::detail {

/// True as soon as done() is; false if it still is not after the yields
/// (the caller then sleeps).
template <class Done>
bool yield_until(Done done) noexcept {
    constexpr int yields_before_sleep = 4;
    for (int i = 0; i < yields_before_sleep; ++i) {
        if (done()) {
            return true;
        }
        sys::yield_now();
    }
    return done();
}

} // namespace rthread::detail

#endif

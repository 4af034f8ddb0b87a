// Parking: Rust's thread::park / park_timeout / Thread::unpark.
//
// Each thread has one token, initially absent, that saturates at one (a
// semaphore of at most one permit that may also wake spuriously).
// thread::unpark() makes it available; park() consumes it, blocking until it
// is there. Build your own synchronisation on top: put current() where
// another thread can find it, park in a loop that re-checks your condition,
// unpark when the condition changes.
//
// The library itself never consumes nor leaves behind a thread's token:
// join, try_join_for, scope and the library's other waits use other means
// (Rust's scope can leave a stray token; ours does not).
#ifndef RTHREAD_PARK_HPP
#define RTHREAD_PARK_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/thread.hpp>

#include <chrono>
#include <cstdint>

namespace rthread {

namespace detail {
void park_current() noexcept;
bool park_current_until(deadline d) noexcept;
bool park_current_now() noexcept;
} // namespace detail

/// Blocks until the calling thread's token is available, then consumes it.
/// Returns at once if the token is already there. May return spuriously
/// (callers re-check their condition in a loop, as in Rust).
inline void park() noexcept {
    detail::park_current();
}

/// As park(), but returns after about d at the latest.
///
/// Returns true when it consumed the token, false on timeout or a spurious
/// wake-up (Rust returns nothing). Zero, negative and NaN durations never
/// block: they only take a token already there. duration::max() and other
/// durations past about 292 years wait as park() does.
template <class Rep, class Period>
bool park_timeout(std::chrono::duration<Rep, Period> d) noexcept {
    const detail::nanos ns = detail::to_nanos(d);
    if (ns == detail::nanos::zero()) {
        return detail::park_current_now();
    }
    return detail::park_current_until(detail::deadline::after(ns));
}

/// As park_timeout(), until the time point t of any clock. A time point
/// already passed never blocks; time_point::max() waits as park() does.
template <class Clock, class Duration>
bool park_until(std::chrono::time_point<Clock, Duration> t) {
    return park_timeout(detail::time_until(t));
}

/// Rust's deprecated park_timeout_ms: park_timeout(milliseconds(ms)).
[[deprecated("use rthread::park_timeout(std::chrono::milliseconds(ms))")]] inline void
park_timeout_ms(std::uint32_t ms) noexcept {
    park_timeout(std::chrono::milliseconds(ms));
}

} // namespace rthread

#endif

// Sleeping and yielding: Rust's thread::sleep, sleep_until, yield_now.
#ifndef RTHREAD_SLEEP_HPP
#define RTHREAD_SLEEP_HPP

#include <rthread/detail/deadline.hpp>

#include <chrono>
#include <cstdint>

namespace rthread {

namespace detail {
void sleep_for(nanos d) noexcept;
}

/// Puts the calling thread to sleep for at least d, even if signals
/// interrupt the underlying system call (it resumes for the time left).
/// Zero, negative and NaN durations return at once; duration::max() does not
/// overflow (it sleeps for as long as the process lives).
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) noexcept {
    detail::sleep_for(detail::to_nanos(d));
}

/// Sleeps until t, a time point of any clock: returns once t's own clock
/// reads at or past t. A time point already passed returns at once.
template <class Clock, class Duration>
void sleep_until(std::chrono::time_point<Clock, Duration> t) {
    for (detail::nanos left = detail::time_until(t); left > detail::nanos::zero();
         left = detail::time_until(t)) {
        detail::sleep_for(left);
    }
}

/// Rust's deprecated sleep_ms: sleep(milliseconds(ms)).
[[deprecated("use rthread::sleep(std::chrono::milliseconds(ms))")]] inline void
sleep_ms(std::uint32_t ms) noexcept {
    sleep(std::chrono::milliseconds(ms));
}

/// Gives up the calling thread's time slice to the OS scheduler.
void yield_now() noexcept;

} // namespace rthread

#endif

// Turning any std::chrono duration or time point into the library's one
// internal form: nanoseconds, saturated, never overflowing.
//
// Users may pass duration::max(), duration::min(), time_point::max(),
// floating-point durations (even NaN) and time points of any clock. The
// arithmetic below is done in long double nanoseconds, which holds every
// such value without overflow, then saturated into [0, nanoseconds::max()];
// nanoseconds::max() (about 292 years) stands for "forever".
#ifndef RTHREAD_DETAIL_DEADLINE_HPP
#define RTHREAD_DETAIL_DEADLINE_HPP

#include <chrono>
#include <cstdint>

namespace rthread::detail {

using nanos = std::chrono::nanoseconds;
using wide_nanos = std::chrono::duration<long double, std::nano>;

constexpr nanos forever = nanos::max();

inline nanos saturate(wide_nanos d) noexcept {
    // !(x > 0) also catches NaN: a wait of "not a number" does not block.
    if (!(d.count() > 0)) {
        return nanos::zero();
    }
    if (d.count() >= static_cast<long double>(forever.count())) {
        return forever;
    }
    // Rounded up: a wait of 0.5 ns must still not return early. (By hand, not
    // std::ceil: <cmath> would be a third of this header's cost to every
    // user. d is in (0, forever) here, so the truncation is defined.)
    auto whole = static_cast<nanos::rep>(d.count());
    if (static_cast<long double>(whole) < d.count()) {
        ++whole;
    }
    return nanos(whole);
}

/// d as nanoseconds in [0, forever]; negative and NaN give 0.
template <class Rep, class Period>
nanos to_nanos(std::chrono::duration<Rep, Period> d) noexcept {
    return saturate(std::chrono::duration_cast<wide_nanos>(d));
}

/// The time left until t on t's own clock, in [0, forever].
template <class Clock, class Duration>
nanos time_until(std::chrono::time_point<Clock, Duration> t) {
    if (t == std::chrono::time_point<Clock, Duration>::max()) {
        return forever;
    }
    const auto target = std::chrono::duration_cast<wide_nanos>(t.time_since_epoch());
    const auto now = std::chrono::duration_cast<wide_nanos>(Clock::now().time_since_epoch());
    return saturate(target - now);
}

/// A point on the monotonic clock (std::chrono::steady_clock), in
/// nanoseconds since its epoch; forever means no deadline.
struct deadline {
    nanos at;

    static deadline never() noexcept { return {forever}; }
    /// now + d, saturating at never().
    static deadline after(nanos d) noexcept {
        if (d >= forever) {
            return never();
        }
        const nanos now = std::chrono::steady_clock::now().time_since_epoch();
        return {d > forever - now ? forever : now + d};
    }
    bool is_never() const noexcept { return at == forever; }
    bool has_passed() const noexcept {
        return !is_never() && std::chrono::steady_clock::now().time_since_epoch() >= at;
    }
};

} // namespace rthread::detail

#endif

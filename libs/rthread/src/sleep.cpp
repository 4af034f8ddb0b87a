// Sleeping and yielding.
#include "sys/sys.hpp"

#include <rthread/sleep.hpp>

namespace rthread {

namespace detail {

void sleep_for(nanos d) noexcept {
    if (d <= nanos::zero()) {
        return;
    }
    // An absolute deadline: a sleep interrupted by a signal resumes for the
    // time left only (sys::sleep_until_monotonic retries on EINTR).
    sys::sleep_until_monotonic(deadline::after(d).at.count());
}

} // namespace detail

void yield_now() noexcept {
    sys::yield_now();
}

} // namespace rthread

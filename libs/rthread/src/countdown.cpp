// A countdown's wait and its last count (detail/countdown.hpp).
#include "spin.hpp"

#include "sys/sys.hpp"

#include <rthread/detail/countdown.hpp>

#include <optional>

namespace rthread::detail {

void countdown::count_down() noexcept {
    // release: the counter's writes (to what a thread borrowed, to its
    // result) happen before the waiter's acquire that sees zero; every
    // later decrement continues this release sequence.
    if (word_.fetch_sub(one, std::memory_order_release) == (one | asleep)) {
        // The last one, and the waiter sleeps. The word is still alive: the
        // caller holds a reference to what contains it until after this call.
        sys::futex_wake_one(&word_);
    }
}

bool countdown::wait(deadline d) noexcept {
    if (d.has_passed()) { // only a look: no spin, no sleep
        return done();
    }
    if (spin_until([this] { return done(); })) {
        return true;
    }
    const std::optional<std::int64_t> until =
        d.is_never() ? std::nullopt : std::optional<std::int64_t>(d.at.count());
    std::int32_t seen = word_.load(std::memory_order_acquire); // acquire: as done()
    while (seen >= one) {
        // acquire (both): as done(), when the value read has reached zero.
        if ((seen & asleep) == 0 &&
            !word_.compare_exchange_weak(seen, seen | asleep, std::memory_order_acquire,
                                         std::memory_order_acquire)) {
            continue; // seen was reloaded
        }
        const bool woken = sys::futex_wait(&word_, seen | asleep, until);
        seen = word_.load(std::memory_order_acquire); // acquire: as done()
        if (!woken && seen >= one) {
            // At d, not yet zero. The mark stays: a later count_down() then
            // makes a wake-up call nobody needs, and a later wait sleeps on
            // the marked word as this one did.
            return false;
        }
    }
    if ((seen & asleep) != 0) {
        // relaxed: clears this waiter's mark for a later wait (a scope's
        // result destructor may spawn again); the count is not touched.
        word_.fetch_and(~asleep, std::memory_order_relaxed);
    }
    return true;
}

} // namespace rthread::detail

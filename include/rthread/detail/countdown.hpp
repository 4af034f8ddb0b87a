// The library's one way to wait for threads to end: a count that waiters
// wait on to reach zero. A spawned thread's end event is one (join waits on
// it, detail/native_thread.hpp); a scope's count of running threads is one
// (detail/scope_state.hpp). Both are counted down at one place, the thread's
// exit hook (libs/rthread/src/lifecycle.cpp). The waiting itself (the spin
// policy, then a futex sleep) is libs/rthread/src/countdown.cpp, shared with
// the parker's spin (spin.hpp): folly's Baton and Abseil's Waiter are the
// models.
#ifndef RTHREAD_DETAIL_COUNTDOWN_HPP
#define RTHREAD_DETAIL_COUNTDOWN_HPP

#include <rthread/detail/deadline.hpp>

#include <atomic>
#include <cstdint>

namespace rthread::detail {

/// A count of things to wait for, and one waiter at a time.
class countdown {
public:
    explicit countdown(std::int32_t count = 0) noexcept : word_(count * one) {}
    countdown(const countdown&) = delete;
    countdown& operator=(const countdown&) = delete;

    /// One more to wait for (a scope's spawn). Made by whoever the count
    /// cannot reach zero without: a waiter or a thread still counted.
    void count_up() noexcept {
        // relaxed: the increment publishes nothing; it is ordered before the
        // decrement it is waited for by the one who made it.
        word_.fetch_add(one, std::memory_order_relaxed);
    }
    /// One fewer; at zero, wakes the waiter if it sleeps. What the caller
    /// did before happens before the waiter's return.
    void count_down() noexcept;
    /// True once the count is zero, and what the counters did before is
    /// visible.
    bool done() const noexcept {
        // acquire: pairs with count_down()'s release.
        return word_.load(std::memory_order_acquire) < one;
    }
    /// Waits until the count is zero (true) or until d (false); a deadline
    /// already passed only looks. Spins first (libs/rthread/src/spin.hpp).
    bool wait(deadline d) noexcept;

private:
    // The count in steps of two; the low bit marks a sleeping waiter. Live
    // threads are bounded by the kernel's thread limit (at most 2^22,
    // PID_MAX_LIMIT), so the count never reaches the sign bit.
    static constexpr std::int32_t asleep = 1;
    static constexpr std::int32_t one = 2;

    std::atomic<std::int32_t> word_;
};

} // namespace rthread::detail

#endif

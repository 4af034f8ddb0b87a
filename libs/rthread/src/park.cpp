// Parking: the two parker backends (thread_parking.hpp, which draws the
// state machine) and park()/park_timeout()/thread::unpark().
//
// The states empty / notified / parked are the ones the Promela model in
// tools/model/parker.pml checks for lost wake-ups and deadlocks.
#include "registry.hpp"
#include "spin.hpp"

#include "sys/sys.hpp"

#include <rthread/park.hpp>

#include <boost/chrono/duration.hpp>

namespace rthread::detail {

namespace {

constexpr auto empty = static_cast<std::int32_t>(park_state::empty);
constexpr auto notified = static_cast<std::int32_t>(park_state::notified);
constexpr auto parked = static_cast<std::int32_t>(park_state::parked);

std::optional<std::int64_t> futex_deadline(deadline d) noexcept {
    if (d.is_never()) {
        return std::nullopt;
    }
    return d.at.count();
}

// notified -> empty, for both backends. A plain load first keeps the common
// "no token" answer free of a locked instruction. acquire: pairs with
// unpark()'s release, so what the unparker wrote before unpark() is visible
// once the token is consumed.
bool take_token(std::atomic<std::int32_t>& state) noexcept {
    std::int32_t expected = notified;
    return state.load(std::memory_order_relaxed) == notified &&
           state.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                         std::memory_order_relaxed);
}

} // namespace

// ---- futex_parker ---------------------------------------------------------

bool futex_parker::try_park() noexcept {
    return take_token(state_);
}

bool futex_parker::park(deadline d) noexcept {
    // Spin (spin.hpp) in the empty state, not the parked one: an unpark()
    // meanwhile then sees empty and makes no futex_wake system call.
    if (spin_until([this] { return try_park(); })) {
        return true;
    }
    // notified -> empty (token consumed) or empty -> parked.
    // acquire: pairs with unpark()'s release when the token was there.
    if (state_.fetch_sub(1, std::memory_order_acquire) == notified) {
        return true;
    }
    for (;;) {
        // Sleeps only while the word still reads parked: an unpark() between
        // the fetch_sub above and here changed it, so the wait returns at once.
        const bool woken = sys::futex_wait(&state_, parked, futex_deadline(d));
        std::int32_t expected = notified;
        // acquire: as above, for a token made while we slept.
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return true;
        }
        if (!woken || d.has_passed()) {
            // Timed out: leave the parked state; a token that raced in is
            // consumed, not left behind. acquire: as above.
            return state_.exchange(empty, std::memory_order_acquire) == notified;
        }
        // Spurious wake-up or signal: wait again for the time left.
    }
}

void futex_parker::unpark() noexcept {
    // release: publishes the unparker's writes to the parker's acquire.
    if (state_.exchange(notified, std::memory_order_release) == parked) {
        sys::futex_wake_one(&state_);
    }
}

// ---- condvar_parker -------------------------------------------------------

bool condvar_parker::try_park() noexcept {
    return take_token(state_);
}

bool condvar_parker::park(deadline d) noexcept {
    // The same spin as the futex parker's, before the mutex.
    if (spin_until([this] { return try_park(); })) {
        return true;
    }
    boost::unique_lock<boost::mutex> lock(mutex_);
    std::int32_t expected = empty;
    // relaxed: the mutex orders this against unpark()'s notify.
    if (!state_.compare_exchange_strong(expected, parked, std::memory_order_relaxed)) {
        // Only unpark() changes the word besides us: it is notified.
        // acquire: pairs with unpark()'s release.
        state_.exchange(empty, std::memory_order_acquire);
        return true;
    }
    for (;;) {
        if (d.is_never()) {
            condvar_.wait(lock);
        } else {
            const nanos left = d.at - std::chrono::steady_clock::now().time_since_epoch();
            if (left > nanos::zero()) {
                condvar_.wait_for(lock, boost::chrono::nanoseconds(left.count()));
            }
        }
        expected = notified;
        // acquire: pairs with unpark()'s release.
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
            return true;
        }
        if (d.has_passed()) {
            return state_.exchange(empty, std::memory_order_acquire) == notified;
        }
    }
}

void condvar_parker::unpark() noexcept {
    // release: publishes the unparker's writes to the parker's acquire.
    if (state_.exchange(notified, std::memory_order_release) != parked) {
        return;
    }
    // Take the lock so the notify cannot fall between the parker's state
    // change to parked and its wait: it is then either waiting or will see
    // notified.
    { boost::lock_guard<boost::mutex> lock(mutex_); }
    condvar_.notify_one();
}

// ---- the calling thread ---------------------------------------------------

void park_current() noexcept {
    // A parked thread without a handle yet could never be unparked: register
    // it anyway (as Rust does), it costs only on the first call.
    current_record().parker.park(deadline::never());
}

bool park_current_until(deadline d) noexcept {
    return current_record().parker.park(d);
}

bool park_current_now() noexcept {
    // A thread that has no handle yet holds no token.
    thread_inner* inner = current_thread;
    return inner != nullptr && record_of(inner).parker.try_park();
}

} // namespace rthread::detail

namespace rthread {

void thread::unpark() const noexcept {
    if (inner_ != nullptr) {
        detail::record_of(inner_.get()).parker.unpark();
    }
}

} // namespace rthread

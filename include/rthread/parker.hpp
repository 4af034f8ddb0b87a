// Private parkers: crossbeam's Parker / Unparker (crossbeam-utils'
// sync::Parker), a parking token of its own.
//
// rthread::park() and thread::unpark() share one token per thread, so any
// library code that calls park() can consume a wake-up meant for its caller
// (rust-lang/rust#145895). A parker owns a token nobody else can see: hand
// its unparker() to whoever must wake you and park() on the parker.
//
// The token runs the very state machine and memory-order contract of the
// thread's token (one implementation): initially absent,
// saturating at one; unpark() happens-before the park() that consumes its
// token. The free park()/thread::unpark() token and every parker are
// independent: unparking one never wakes a wait on another.
#ifndef RTHREAD_PARKER_HPP
#define RTHREAD_PARKER_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/detail/parker_token.hpp>

#include <boost/smart_ptr/intrusive_ptr.hpp>

#include <chrono>

namespace rthread {

/// Wakes one parker: crossbeam's Unparker. Copyable and cheap (a reference
/// count); it keeps the token alive, so unparking after the parker is gone
/// is fine and does nothing. Any thread may unpark.
class unparker {
public:
    /// Makes the parker's token available (it saturates at one) and wakes
    /// the parker if it is parked. Never blocks, never fails. Everything the
    /// calling thread did before unpark() happens-before the park() that
    /// consumes this token. Does nothing on an unparker taken from a
    /// moved-from parker.
    void unpark() const noexcept {
        if (token_ != nullptr) {
            detail::unpark_token(*token_);
        }
    }

    /// Identity: true when both wake the same parker.
    friend bool operator==(const unparker& a, const unparker& b) noexcept {
        return a.token_ == b.token_;
    }
    friend bool operator!=(const unparker& a, const unparker& b) noexcept { return !(a == b); }

private:
    friend class parker;
    explicit unparker(boost::intrusive_ptr<detail::parker_token> token) noexcept
        : token_(std::move(token)) {}

    boost::intrusive_ptr<detail::parker_token> token_;
};

/// A parking token of its own: crossbeam's Parker. Default-constructed with
/// no token; move-only. One thread parks on a parker at a time; any thread
/// may unpark it through an unparker.
///
/// A moved-from parker holds no token: its park functions return at once
/// (park_timeout and park_until with false), as a spurious wake-up would,
/// and its unparker() does nothing.
class parker {
public:
    /// # Errors
    /// Throws std::bad_alloc when the token cannot be allocated.
    parker() : token_(detail::make_parker_token(), false) {}
    parker(parker&&) noexcept = default;
    parker& operator=(parker&&) noexcept = default;
    parker(const parker&) = delete;
    parker& operator=(const parker&) = delete;
    ~parker() = default;

    /// If the token is present, consumes it and returns at once; otherwise
    /// blocks until it is made available, then consumes it. May return
    /// spuriously: re-check your condition in a loop.
    void park() noexcept {
        if (token_ != nullptr) {
            detail::park_token(*token_);
        }
    }

    /// As park(), but returns after about d at the latest. True when it
    /// consumed the token, false on timeout or a spurious wake-up. Zero,
    /// negative and NaN durations never block; duration::max() waits as
    /// park() does (the rules of rthread::park_timeout).
    template <class Rep, class Period>
    bool park_timeout(std::chrono::duration<Rep, Period> d) noexcept {
        if (token_ == nullptr) {
            return false;
        }
        const detail::nanos ns = detail::to_nanos(d);
        if (ns == detail::nanos::zero()) {
            return detail::park_token_now(*token_);
        }
        return detail::park_token_until(*token_, detail::deadline::after(ns));
    }

    /// As park_timeout(), until the time point t of any clock. A time point
    /// already passed never blocks; time_point::max() waits as park() does.
    template <class Clock, class Duration>
    bool park_until(std::chrono::time_point<Clock, Duration> t) {
        return park_timeout(detail::time_until(t));
    }

    /// A handle that wakes this parker, valid after the parker is gone.
    rthread::unparker unparker() const noexcept { return rthread::unparker(token_); }

private:
    boost::intrusive_ptr<detail::parker_token> token_;
};

} // namespace rthread

#endif

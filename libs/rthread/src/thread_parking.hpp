// The parker: one thread's parking token (see park.hpp), in two backends.
//
// Both run the same state machine, named as Rust's futex parker names it
// (library/std/src/sys/sync/thread_parking/futex.rs), and as the Promela
// model under tools/model/ does:
//
//   empty    (0)  no token, nobody parked
//   notified (1)  the token is available
//   parked  (-1)  the owner is parked, or about to park
//
//   park:   empty -> parked, then wait until notified -> empty
//           (notified -> empty at once: the token was there)
//   unpark: any -> notified; if it was parked, wake the owner
//
// Only the owning thread parks; any thread may unpark. A wake-up is never
// lost: unpark always leaves `notified` behind, and a parker only sleeps
// while the word still reads `parked` (futex_wait compares atomically; the
// condvar backend compares under its mutex).
//
// futex_parker is used on Linux (futex) and Windows (WaitOnAddress, the
// seam's futex_wait there); condvar_parker (Boost.Thread mutex and
// condition variable) elsewhere: Boost's Windows condition variable
// allocates a wait entry per wait, which the channels' no-allocation
// promise cannot have. Defining RTHREAD_PORTABLE_PARKER selects the portable
// one there too; the tests exercise both directly.
// Private to the library (its tests include it too): never installed.
#ifndef RTHREAD_THREAD_PARKING_HPP
#define RTHREAD_THREAD_PARKING_HPP

#include <rthread/detail/deadline.hpp>

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>

#include <atomic>
#include <cstdint>

namespace rthread::detail {

enum class park_state : std::int32_t { empty = 0, notified = 1, parked = -1 };

class futex_parker {
public:
    /// Consumes the token, waiting for it until d; true when consumed.
    /// With a deadline, false on timeout; never() waits for the token.
    bool park(deadline d) noexcept;
    /// Consumes the token if it is there; never blocks.
    bool try_park() noexcept;
    void unpark() noexcept;

private:
    std::atomic<std::int32_t> state_{static_cast<std::int32_t>(park_state::empty)};
};

class condvar_parker {
public:
    bool park(deadline d) noexcept;
    bool try_park() noexcept;
    void unpark() noexcept;

private:
    std::atomic<std::int32_t> state_{static_cast<std::int32_t>(park_state::empty)};
    boost::mutex mutex_;
    boost::condition_variable condvar_;
};

#if (defined(__linux__) || defined(_WIN32)) && !defined(RTHREAD_PORTABLE_PARKER)
using parker = futex_parker;
#else
using parker = condvar_parker;
#endif

} // namespace rthread::detail

#endif

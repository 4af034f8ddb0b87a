// The native thread a join_handle owns, kept opaque so that no OS or
// Boost.Thread header reaches the face: the seam's thread
// (libs/rthread/src/sys/thread_backend.hpp) and the thread's end event, which
// its join waits on first (libs/rthread/src/lifecycle.cpp).
#ifndef RTHREAD_DETAIL_NATIVE_THREAD_HPP
#define RTHREAD_DETAIL_NATIVE_THREAD_HPP

#include <rthread/detail/deadline.hpp>

#include <utility>

namespace rthread::sys {
class thread; // the backend's thread (sys/thread_backend.hpp)
} // namespace rthread::sys

namespace rthread::detail {

/// The OS's handle of a thread, as join_handle::native_handle() gives it:
/// pthread_t on POSIX, the thread's HANDLE on Windows. Spelled here without
/// the OS header; the backend (sys/boost_thread.cpp) checks at compile time
/// that it is the type the OS declares.
#if defined(_WIN32)
using native_handle_type = void*; // HANDLE
#elif defined(__linux__)
using native_handle_type = unsigned long; // pthread_t of glibc, and of musl in C++
#elif defined(__APPLE__)
using native_handle_type = struct _opaque_pthread_t*; // pthread_t
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
using native_handle_type = struct pthread*; // pthread_t
#else
#error "rthread: say what pthread_t is on this system (detail/native_thread.hpp)"
#endif

class thread_end; // lifecycle.cpp

/// A started thread, owned: its backend thread and the handle's reference
/// to its end event. Destroying a joinable one detaches it (Rust's
/// drop(JoinHandle)).
class native_thread {
public:
    using native_handle_type = detail::native_handle_type;

    native_thread() noexcept = default;
    native_thread(sys::thread* thread, thread_end* end) noexcept : thread_(thread), end_(end) {}
    native_thread(native_thread&& other) noexcept
        : thread_(std::exchange(other.thread_, nullptr)), end_(std::exchange(other.end_, nullptr)) {
    }
    native_thread& operator=(native_thread&& other) noexcept {
        native_thread(std::move(other)).swap(*this);
        return *this;
    }
    ~native_thread();

    void swap(native_thread& other) noexcept {
        std::swap(thread_, other.thread_);
        std::swap(end_, other.end_);
    }

    /// Waits until the thread has ended (its end event, then the seam's
    /// join), then lets it go.
    /// Throws std::system_error (e.g. resource_deadlock_would_occur when a
    /// thread joins itself).
    void join();
    /// As join(), or false at d with the thread still joinable.
    bool join_until(deadline d);
    native_handle_type native_handle() const noexcept;

private:
    sys::thread* thread_ = nullptr;
    thread_end* end_ = nullptr;
};

} // namespace rthread::detail

#endif

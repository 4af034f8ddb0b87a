// Spawning and joining: Rust's thread::spawn, Builder and JoinHandle.
//
//   auto h = rthread::spawn([](int x) { return x * 2; }, 21);
//   rthread::result<int> r = h.join();  // 42, or the thread's panic
//
// join() hands back the thread's value or its panic (any exception that left
// the function); dropping a joinable handle detaches the thread (Rust
// semantics: never std::terminate).
#ifndef RTHREAD_SPAWN_HPP
#define RTHREAD_SPAWN_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/detail/packet.hpp>
#include <rthread/thread.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace rthread {

class scope_handle;

namespace detail {
[[noreturn]] void throw_invalid_join();
[[noreturn]] void throw_spawn_error(const boost::system::error_code& ec);
} // namespace detail

/// An owned permission to join a thread: Rust's JoinHandle<T>.
///
/// Move-only. Default-constructed (or moved from, or joined) it is empty:
/// joinable() is false. Destroying a joinable handle detaches the thread.
template <class T>
class join_handle {
public:
    using native_handle_type = detail::native_thread::native_handle_type;

    join_handle() noexcept : thread_(detail::thread_access::empty()) {}
    join_handle(join_handle&&) noexcept = default;
    join_handle& operator=(join_handle&&) noexcept = default;
    ~join_handle() = default;

    /// Waits until the thread has ended, including the destructors of its
    /// local_key values, then gives its value or its panic.
    ///
    /// # Errors
    /// Throws std::system_error with errc::invalid_argument on an empty,
    /// moved-from or already-joined handle, and with
    /// errc::resource_deadlock_would_occur when a thread joins itself.
    [[nodiscard]] result<T> join() {
        check_joinable();
        native_.join();
        return take();
    }

    /// As join(), but gives up after about d: std::nullopt then, with the
    /// handle still joinable. Zero and negative durations only look. The
    /// deadline bounds everything the thread still runs, its pthread key
    /// destructors included (on glibc; where the C library does not say
    /// where a thread's id is kept, the part after the library's own exit
    /// hook is not bounded).
    template <class Rep, class Period>
    [[nodiscard]] std::optional<result<T>> try_join_for(std::chrono::duration<Rep, Period> d) {
        check_joinable();
        return try_join(detail::deadline::after(detail::to_nanos(d)));
    }

    /// As try_join_for(), until the time point t of any clock.
    template <class Clock, class Duration>
    [[nodiscard]] std::optional<result<T>>
    try_join_until(std::chrono::time_point<Clock, Duration> t) {
        check_joinable();
        return try_join(detail::deadline::after(detail::time_until(t)));
    }

    /// The thread's handle (an empty one on an empty join_handle).
    const rthread::thread& thread() const noexcept { return thread_; }

    /// True once the thread's function has returned or panicked (its result
    /// is ready; the thread may still be running its thread-local
    /// destructors). False on an empty handle.
    bool is_finished() const noexcept { return packet_ && packet_->sole_owner(); }

    /// True until the handle is joined, moved from or default-constructed.
    bool joinable() const noexcept { return static_cast<bool>(packet_); }

    /// The pthread_t on POSIX.
    native_handle_type native_handle() const noexcept { return native_.native_handle(); }

private:
    friend class builder;

    join_handle(rthread::thread t, detail::native_thread native,
                detail::slot_ptr<detail::packet<T>> result_slot) noexcept
        : thread_(std::move(t)), native_(std::move(native)), packet_(std::move(result_slot)) {}

    void check_joinable() const {
        if (!packet_) {
            detail::throw_invalid_join();
        }
    }

    std::optional<result<T>> try_join(detail::deadline d) {
        if (!native_.join_until(d)) {
            return std::nullopt;
        }
        return take();
    }

    result<T> take() {
        detail::slot_ptr<detail::packet<T>> done = std::move(packet_);
        return std::move(*done->value);
    }

    rthread::thread thread_;
    detail::native_thread native_;
    detail::slot_ptr<detail::packet<T>> packet_;
};

/// Thread configuration: Rust's thread::Builder. A builder may spawn more
/// than once.
class builder {
public:
    /// The thread's name: thread::name() keeps it whole; the OS thread name
    /// (gdb, top -H, /proc/self/task/*/comm) gets its first 15 bytes on Linux,
    /// cut on a UTF-8 boundary, before the thread's function starts.
    builder& name(std::string thread_name) & {
        name_ = std::move(thread_name);
        return *this;
    }
    builder name(std::string thread_name) && {
        name_ = std::move(thread_name);
        return std::move(*this);
    }

    /// The stack size in bytes: rounded up to the page size; any size below
    /// the platform minimum (0 included) is raised to it. Without it, the
    /// environment variable RTHREAD_MIN_STACK (bytes, read once) or 2 MiB.
    builder& stack_size(std::size_t bytes) & {
        stack_size_ = bytes;
        return *this;
    }
    builder stack_size(std::size_t bytes) && {
        stack_size_ = bytes;
        return std::move(*this);
    }

    /// Spawns f(args...) (decayed copies, as std::thread takes them) on a new
    /// native thread with this configuration.
    ///
    /// # Errors
    /// errc::invalid_argument for a name with an interior NUL; the OS's code
    /// when the thread cannot be made (resource exhaustion, a stack size the
    /// system cannot give); errc::not_enough_memory when the library's own
    /// allocation fails. Exceptions from copying f or args pass through.
    template <class F, class... Args>
    [[nodiscard]] boost::system::result<join_handle<detail::spawn_result_t<F, Args...>>>
    spawn(F&& f, Args&&... args) const {
        using T = detail::spawn_result_t<F, Args...>;
        detail::slot_ptr<detail::packet<T>> slot(new (std::nothrow) detail::packet<T>());
        if (!slot) {
            return make_error_code(boost::system::errc::not_enough_memory);
        }
        std::unique_ptr<detail::thread_main> main(new (std::nothrow) detail::task<T, F, Args...>(
            slot.get(), std::forward<F>(f), std::forward<Args>(args)...));
        if (!main) {
            return make_error_code(boost::system::errc::not_enough_memory);
        }
        auto started = detail::start_thread(name_, stack_size_, std::move(main));
        if (!started) {
            return started.error();
        }
        return join_handle<T>(std::move(started->thread), std::move(started->native),
                              std::move(slot));
    }

    /// As spawn(), for a thread of the scope s (see scope.hpp).
    template <class F, class... Args>
    [[nodiscard]] auto spawn_scoped(scope_handle& s, F&& f, Args&&... args) const;

private:
    std::optional<std::string> name_;
    std::optional<std::size_t> stack_size_;
};

/// Spawns f(args...) on a new, unnamed thread with the default stack size:
/// Rust's thread::spawn.
///
/// # Errors
/// Throws std::system_error if the thread cannot be made.
template <class F, class... Args>
join_handle<detail::spawn_result_t<F, Args...>> spawn(F&& f, Args&&... args) {
    auto handle = builder{}.spawn(std::forward<F>(f), std::forward<Args>(args)...);
    if (!handle) {
        detail::throw_spawn_error(handle.error());
    }
    return std::move(*handle);
}

} // namespace rthread

#endif

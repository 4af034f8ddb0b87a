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
#include <rthread/detail/join_inner.hpp>
#include <rthread/detail/packet.hpp>
#include <rthread/detail/spawn_hooks.hpp>
#include <rthread/detail/start_thread.hpp>
#include <rthread/detail/task.hpp>
#include <rthread/result.hpp>
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
#include <vector>

namespace rthread {

class scope_handle;

namespace detail {
[[noreturn]] void throw_spawn_error(const boost::system::error_code& ec);
} // namespace detail

/// An owned permission to join a thread: Rust's JoinHandle<T>.
///
/// Move-only. Default-constructed (or moved from, or joined) it is empty:
/// joinable() is false. Destroying a joinable handle detaches the thread.
template <class T>
class join_handle {
public:
    using native_handle_type = detail::native_handle_type;

    join_handle() noexcept = default;
    join_handle(join_handle&&) noexcept = default;
    join_handle& operator=(join_handle&&) noexcept = default;
    ~join_handle() = default;

    /// Waits until the thread has ended, including the destructors of its
    /// local_key values, then gives its value or its panic. The thread's
    /// end happens-before join returns.
    ///
    /// # Errors
    /// Throws std::system_error with errc::invalid_argument on an empty,
    /// moved-from or already-joined handle, and with
    /// errc::resource_deadlock_would_occur when a thread joins itself.
    [[nodiscard]] result<T> join() { return std::move(*inner_.join()->value); }

    /// As join(), but gives up after about d: std::nullopt then, with the
    /// handle still joinable. Zero and negative durations only look. The
    /// deadline bounds everything the thread still runs, its pthread key
    /// destructors included (on glibc; where the C library does not say
    /// where a thread's id is kept, the part after the library's own exit
    /// hook is not bounded).
    template <class Rep, class Period>
    [[nodiscard]] std::optional<result<T>> try_join_for(std::chrono::duration<Rep, Period> d) {
        return try_join(detail::deadline::after(detail::to_nanos(d)));
    }

    /// As try_join_for(), until the time point t of any clock.
    template <class Clock, class Duration>
    [[nodiscard]] std::optional<result<T>>
    try_join_until(std::chrono::time_point<Clock, Duration> t) {
        return try_join(detail::deadline::after(detail::time_until(t)));
    }

    /// The thread's handle (an empty one on an empty join_handle).
    const rthread::thread& thread() const noexcept { return thread_; }

    /// True once the thread's function has returned or panicked (its result
    /// is ready; the thread may still be running its thread-local
    /// destructors). False on an empty handle.
    bool is_finished() const noexcept { return inner_.is_finished(); }

    /// True until the handle is joined, moved from or default-constructed.
    bool joinable() const noexcept { return inner_.joinable(); }

    /// The pthread_t on POSIX, the thread's HANDLE on Windows.
    native_handle_type native_handle() const noexcept { return inner_.native_handle(); }

private:
    friend class builder;

    explicit join_handle(detail::spawned<detail::packet<T>> started) noexcept
        : thread_(detail::thread_access::adopt(std::move(started.thread))),
          inner_(std::move(started.inner)) {}

    std::optional<result<T>> try_join(detail::deadline d) {
        detail::slot_ptr<detail::packet<T>> done = inner_.join_until(d);
        if (!done) {
            return std::nullopt;
        }
        return std::move(*done->value);
    }

    rthread::thread thread_ = detail::thread_access::empty();
    detail::join_inner<detail::packet<T>> inner_;
};

/// Thread configuration: Rust's thread::Builder. A builder may spawn more
/// than once.
class builder {
public:
    /// The thread's name: thread::name() keeps it whole; the OS thread name
    /// (gdb, top -H, /proc/self/task/*/comm) gets its first 15 bytes on Linux,
    /// cut on a UTF-8 boundary, before the thread's function starts.
    builder& name(std::string thread_name) & {
        options_.name = std::move(thread_name);
        return *this;
    }
    builder name(std::string thread_name) && {
        options_.name = std::move(thread_name);
        return std::move(*this);
    }

    /// The stack size in bytes: rounded up to the page size; any size below
    /// the platform minimum (0 included) is raised to it. Without it, the
    /// environment variable RTHREAD_MIN_STACK (bytes, read once) or 2 MiB.
    builder& stack_size(std::size_t bytes) & {
        options_.stack_size = bytes;
        return *this;
    }
    builder stack_size(std::size_t bytes) && {
        options_.stack_size = bytes;
        return std::move(*this);
    }

    /// The CPUs the thread may run on (indices as the OS numbers them), set
    /// before anything else runs on it: its spawn hooks' child sides and its
    /// function already run there (rust-lang/libs-team#195: crates can only
    /// move a thread after it started). available_parallelism() on that
    /// thread reports their number. Duplicates count once.
    ///
    /// # Errors
    /// spawn() gives errc::invalid_argument for an empty list, or a CPU the
    /// process may not use (outside its affinity mask; on Linux, the mask of
    /// its main thread, which `taskset` sets); the function never runs.
    /// Should the OS still refuse on the new thread (the process's mask
    /// shrank meanwhile), that is the thread's panic, a std::system_error,
    /// and its function never runs.
    builder& affinity(std::vector<std::size_t> cpus) & {
        options_.affinity = std::move(cpus);
        return *this;
    }
    builder affinity(std::vector<std::size_t> cpus) && {
        options_.affinity = std::move(cpus);
        return std::move(*this);
    }

    /// This builder's threads run no spawn hook and inherit none (Rust's
    /// Builder::no_hooks).
    builder& no_hooks() & {
        options_.no_hooks = true;
        return *this;
    }
    builder no_hooks() && {
        options_.no_hooks = true;
        return std::move(*this);
    }

    /// Spawns f(args...) (decayed copies, as std::thread takes them) on a new
    /// native thread with this configuration.
    ///
    /// # Errors
    /// errc::invalid_argument for a name with an interior NUL; the OS's code
    /// when the thread cannot be made (resource exhaustion, a stack size the
    /// system cannot give); errc::not_enough_memory when the library's own
    /// allocation fails, errc::invalid_argument for a bad affinity (see
    /// affinity()). Exceptions from copying f or args, and from a spawn
    /// hook's parent side (no thread is made then), pass through.
    template <class F, class... Args>
    [[nodiscard]] boost::system::result<join_handle<detail::spawn_result_t<F, Args...>>>
    spawn(F&& f, Args&&... args) const {
        using T = detail::spawn_result_t<F, Args...>;
        detail::unscoped owner;
        auto inner = detail::spawn_inner<detail::packet<T>, detail::task<T, F, Args...>>(
            options_, owner, std::forward<F>(f), std::forward<Args>(args)...);
        if (!inner) {
            return inner.error();
        }
        return join_handle<T>(std::move(*inner));
    }

    /// As spawn(), for a thread of the scope s (see scope.hpp).
    template <class F, class... Args>
    [[nodiscard]] auto spawn_scoped(scope_handle& s, F&& f, Args&&... args) const;

private:
    detail::spawn_options options_;
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

/// Rust's thread::add_spawn_hook: registers hook, called as
/// hook(const rthread::thread& child) on the calling thread for every thread
/// it spawns after this (spawn, builder::spawn, spawn_scoped); the callable
/// it returns then runs on the new thread, before its function. For context
/// a new thread should inherit: a tracing span, a logging context, a test's
/// seed.
///
/// Hooks belong to the calling thread, and the threads it spawns inherit
/// them (a child starts with its parent's hooks, and adds its own for its
/// own children); threads not made by rthread start with none. They run
/// newest first, the child sides in the same order. There is no removal.
/// A spawn made inside a hook runs no hooks (no recursion), and its thread
/// still inherits the spawner's hooks. builder::no_hooks() opts a thread
/// out. hook may be called on several threads at once (those that
/// inherited it): it must be safe to call concurrently, as Rust's Fn + Sync.
///
/// # Panics
/// What a hook throws passes out of spawn / builder::spawn /
/// spawn_scoped, and no thread is made; what its child side throws is that
/// thread's panic (its function never runs).
template <class F>
void add_spawn_hook(F&& hook) {
    using hook_type = std::decay_t<F>;
    static_assert(std::is_invocable_v<const hook_type&, const rthread::thread&>,
                  "a spawn hook is called as hook(const rthread::thread& child)");
    using child_side = std::decay_t<std::invoke_result_t<const hook_type&, const rthread::thread&>>;
    static_assert(std::is_invocable_v<child_side&>,
                  "a spawn hook returns the callable that runs on the new thread");
    detail::push_spawn_hook(
        std::make_unique<detail::spawn_hook_of<hook_type>>(std::forward<F>(hook)));
}

} // namespace rthread

#endif

// Scoped threads: Rust's thread::scope, Scope and ScopedJoinHandle.
//
//   std::vector<int> v{1, 2, 3};
//   int x = 0;
//   rthread::scope([&](rthread::scope_handle& s) {
//       s.spawn([&] { std::cout << v.size(); });   // borrows v
//       s.spawn([&] { x += v[0] + v[2]; });         // the only user of x
//   });
//   // Every thread of the scope has ended: v and x are ours again.
//
// rthread::scope(f) calls f with a scope_handle, through which threads are
// spawned that may use the caller's locals by reference, and returns only
// after every one of them has ended. Differences from Rust, all on purpose:
// - scope_panic keeps the payloads of the threads that panicked unjoined
//   (Rust's "a scoped thread panicked" loses them: rust-lang/rust#139017);
// - scope returns only after the threads' local_key values were destroyed,
//   as join() does (Rust does not: rust-lang/rust#116179);
// - scope waits with its own means and never touches the caller's parking
//   token (Rust's scope parks, and can leave a token behind).
// C++ cannot stop a scoped_join_handle from outliving its scope, as Rust's
// lifetimes do; one that does is settled by the scope (see
// scoped_join_handle::join()).
#ifndef RTHREAD_SCOPE_HPP
#define RTHREAD_SCOPE_HPP

#include <rthread/detail/join_inner.hpp>
#include <rthread/detail/packet.hpp>
#include <rthread/detail/scope_state.hpp>
#include <rthread/detail/task.hpp>
#include <rthread/panic.hpp>
#include <rthread/result.hpp>
#include <rthread/spawn.hpp>
#include <rthread/thread.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace rthread {

/// What rthread::scope throws when a thread of the scope panicked and
/// nobody joined it: what() is "a scoped thread panicked", as Rust's
/// message; unlike Rust it keeps the panics.
class scope_panic : public panic_error {
public:
    /// What scope() throws: the payloads in spawn order, and the location of
    /// the scope() call.
    scope_panic(std::vector<std::exception_ptr> payloads, const boost::source_location& location);

    /// The exceptions of the threads that panicked unjoined, in the order
    /// they were spawned. May be shorter than the number of such threads only
    /// if memory ran out while keeping one.
    const std::vector<std::exception_ptr>& payloads() const noexcept { return *payloads_; }

private:
    // Shared: copying an exception must not throw.
    std::shared_ptr<const std::vector<std::exception_ptr>> payloads_;
};

/// An owned permission to join a scoped thread: Rust's ScopedJoinHandle.
///
/// Move-only. Dropping it unjoined is fine: the scope still waits for the
/// thread, and destroys its result (or keeps its panic for scope_panic).
template <class T>
class scoped_join_handle {
public:
    using native_handle_type = detail::native_handle_type;

    scoped_join_handle() noexcept = default;
    scoped_join_handle(scoped_join_handle&&) noexcept = default;
    scoped_join_handle& operator=(scoped_join_handle&&) noexcept = default;
    ~scoped_join_handle() = default;

    /// Waits until the thread has ended, including the destructors of its
    /// local_key values, then gives its value or its panic. A panic that
    /// was joined is handled: scope() does not count it. The thread's end
    /// happens-before join returns.
    ///
    /// # Errors
    /// Throws std::system_error with errc::invalid_argument on an empty,
    /// moved-from or already-joined handle, and on a handle that outlived
    /// its scope (the scope took the result when it ended); with
    /// errc::resource_deadlock_would_occur when a thread joins itself.
    [[nodiscard]] result<T> join() {
        detail::slot_ptr<detail::scoped_packet<T>> done = inner_.join();
        if (!done->claim()) {
            detail::throw_invalid_join();
        }
        return std::move(*done->value);
    }

    /// The thread's handle (an empty one on an empty scoped_join_handle).
    const rthread::thread& thread() const noexcept { return thread_; }

    /// True once the thread's function has returned or panicked (its
    /// result is ready; the thread may still be running its thread-local
    /// destructors), as Rust's is_finished(). False on an empty handle.
    bool is_finished() const noexcept { return inner_.is_finished(); }

    /// True until the handle is joined, moved from or default-constructed.
    bool joinable() const noexcept { return inner_.joinable(); }

    /// The pthread_t on POSIX (Rust's JoinHandleExt::as_pthread_t), the
    /// thread's HANDLE on Windows.
    native_handle_type native_handle() const noexcept { return inner_.native_handle(); }

private:
    friend class builder;

    explicit scoped_join_handle(detail::spawned<detail::scoped_packet<T>> started) noexcept
        : thread_(detail::thread_access::adopt(std::move(started.thread))),
          inner_(std::move(started.inner)) {}

    rthread::thread thread_ = detail::thread_access::empty();
    detail::join_inner<detail::scoped_packet<T>> inner_;
};

namespace detail {
struct scope_access;
}

/// A scope to spawn scoped threads in: Rust's Scope. rthread::scope makes
/// it and hands it to its function by reference; scoped threads may take
/// that reference along to spawn more threads of the same scope.
class scope_handle {
public:
    scope_handle(const scope_handle&) = delete;
    scope_handle& operator=(const scope_handle&) = delete;
    ~scope_handle() { state_->release(); }

    /// Spawns f(args...) (decayed copies, as std::thread takes them; capture
    /// by reference to borrow) as a thread of this scope, with the default
    /// configuration: Rust's Scope::spawn.
    ///
    /// # Errors
    /// Throws std::system_error if the thread cannot be made; use
    /// builder::spawn_scoped() to get an error code instead.
    template <class F, class... Args>
    scoped_join_handle<detail::spawn_result_t<F, Args...>> spawn(F&& f, Args&&... args);

    /// True once a stop was requested: by request_stop(), by a thread of
    /// this scope that panicked (joined or not), or by the scope's body
    /// throwing (crossbeam-rs/crossbeam#196: without it, a consumer waiting
    /// for a producer that panicked waits forever, and the scope for it).
    /// What the requester did before the request happens-before a call that
    /// returns true.
    bool stop_requested() const noexcept { return state_->stop_requested(); }

    /// Requests the stop; the first request runs the on_stop callbacks on
    /// the calling thread before it returns. A later one does nothing. The
    /// scope still waits for every thread.
    void request_stop() noexcept { state_->request_stop(); }

    /// Registers f() to run once when the stop is first requested: on the
    /// requesting thread (a panicking thread, as its panic is stored), in
    /// registration order, with stop_requested() already true; at once, on
    /// the calling thread, if it already was. For waits the library cannot
    /// see: notify a condition variable, unpark a thread. Callbacks that
    /// never ran are destroyed at the scope's end.
    ///
    /// # Panics
    /// A callback that throws ends the process with "fatal runtime error:
    /// scope stop callback panicked, aborting". Copying f may throw.
    template <class F>
    void on_stop(F&& f) {
        static_assert(std::is_invocable_v<std::decay_t<F>&>, "on_stop calls f()");
        state_->on_stop(detail::make_once_callable(std::forward<F>(f)));
    }

private:
    friend struct detail::scope_access;
    friend class builder;

    scope_handle() : state_(new detail::scope_state()) {}

    detail::scope_state* state_;
};

namespace detail {

struct scope_access {
    static scope_handle make() { return scope_handle(); }
    static scope_state& state(scope_handle& s) noexcept { return *s.state_; }
};

/// Ends the scope on every path out of scope(): on the normal one through
/// end() (which may throw scope_panic), while f's exception passes through
/// its destructor.
class scope_end_guard {
public:
    explicit scope_end_guard(scope_state& s) noexcept : state_(s) {}
    scope_end_guard(const scope_end_guard&) = delete;
    scope_end_guard& operator=(const scope_end_guard&) = delete;
    ~scope_end_guard() {
        if (!ended_) {
            state_.end_quietly();
        }
    }
    void end(const boost::source_location& location) {
        ended_ = true;
        state_.end(location);
    }

private:
    scope_state& state_;
    bool ended_ = false;
};

} // namespace detail

/// Rust's thread::scope: calls f(s) with a scope_handle s, waits until
/// every thread spawned through s has ended (threads spawned by scoped
/// threads through s included, and their local_key destructors), then
/// returns f's value. Results nobody joined are destroyed before it returns.
///
/// # Panics
/// If f throws, requests the stop (see scope_handle::on_stop), waits all
/// the same, then lets f's exception through. Else,
/// if a scoped thread panicked and nobody joined it, throws scope_panic
/// with every such panic; location (the caller's, as Rust's #[track_caller])
/// is its location().
template <class F>
std::invoke_result_t<F, scope_handle&>
scope(F&& f, const boost::source_location& location = BOOST_CURRENT_LOCATION) {
    using R = std::invoke_result_t<F, scope_handle&>;
    scope_handle handle = detail::scope_access::make();
    detail::scope_end_guard guard(detail::scope_access::state(handle));
    if constexpr (std::is_void_v<R>) {
        std::invoke(std::forward<F>(f), handle);
        guard.end(location);
    } else {
        R value = std::invoke(std::forward<F>(f), handle);
        guard.end(location);
        if constexpr (std::is_reference_v<R>) {
            return std::forward<R>(value);
        } else {
            return value;
        }
    }
}

template <class F, class... Args>
auto builder::spawn_scoped(scope_handle& s, F&& f, Args&&... args) const {
    using T = detail::spawn_result_t<F, Args...>;
    using spawned = boost::system::result<scoped_join_handle<T>>;
    detail::scope_state& state = detail::scope_access::state(s);
    auto inner = detail::spawn_inner<detail::scoped_packet<T>, detail::scoped_task<T, F, Args...>>(
        options_, state, std::forward<F>(f), std::forward<Args>(args)...);
    if (!inner) {
        return spawned(inner.error());
    }
    return spawned(scoped_join_handle<T>(std::move(*inner)));
}

template <class F, class... Args>
scoped_join_handle<detail::spawn_result_t<F, Args...>> scope_handle::spawn(F&& f, Args&&... args) {
    auto handle = builder{}.spawn_scoped(*this, std::forward<F>(f), std::forward<Args>(args)...);
    if (!handle) {
        detail::throw_spawn_error(handle.error());
    }
    return std::move(*handle);
}

} // namespace rthread

#endif

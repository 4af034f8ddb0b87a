// What join_handle<T> (spawn.hpp) and scoped_join_handle<T> (scope.hpp) are
// made of, written once: Rust's JoinInner (library/std/src/thread/
// lifecycle.rs), and the one path that makes it for spawn and spawn_scoped.
#ifndef RTHREAD_DETAIL_JOIN_INNER_HPP
#define RTHREAD_DETAIL_JOIN_INNER_HPP

#include <rthread/detail/native_thread.hpp>
#include <rthread/detail/shared_slot.hpp>
#include <rthread/detail/start_thread.hpp>
#include <rthread/detail/thread_inner.hpp>

#include <boost/system/result.hpp>

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace rthread::detail {

[[noreturn]] void throw_invalid_join();

/// A started thread's native thread and its packet P (packet<T> or
/// scoped_packet<T>); the public handle keeps the rthread::thread beside it.
/// Move-only; empty once joined, moved from or default-constructed.
template <class P>
class join_inner {
public:
    join_inner() noexcept = default;
    join_inner(native_thread native, slot_ptr<P> result_slot) noexcept
        : native_(std::move(native)), packet_(std::move(result_slot)) {}

    /// Waits until the thread has ended; its packet is then the caller's
    /// alone. Throws std::system_error: invalid_argument when empty,
    /// resource_deadlock_would_occur when a thread joins itself.
    slot_ptr<P> join() {
        check_joinable();
        native_.join();
        return std::move(packet_);
    }
    /// As join(), or an empty pointer at d, the thread still joinable.
    slot_ptr<P> join_until(deadline d) {
        check_joinable();
        if (!native_.join_until(d)) {
            return slot_ptr<P>();
        }
        return std::move(packet_);
    }

    bool is_finished() const noexcept { return packet_ && packet_->sole_owner(); }
    bool joinable() const noexcept { return static_cast<bool>(packet_); }
    native_handle_type native_handle() const noexcept { return native_.native_handle(); }

private:
    void check_joinable() const {
        if (!packet_) {
            throw_invalid_join();
        }
    }

    native_thread native_;
    slot_ptr<P> packet_;
};

/// What spawn_inner() makes: the thread's handle reference and its join.
template <class P>
struct spawned {
    thread_ref thread;
    join_inner<P> inner;
};

/// The owner of an unscoped thread (spawn_inner's Owner for builder::spawn).
struct unscoped {};

/// The one allocation path of spawn and spawn_scoped: makes the packet P and
/// the body Task bound to it (with the scope, for a scope_state owner),
/// counts the thread in its scope before it starts, and starts it.
/// errc::not_enough_memory when either allocation fails; start_thread()'s
/// errors; what a spawn hook's parent side throws passes through, the
/// thread uncounted.
template <class P, class Task, class Owner, class F, class... Args>
boost::system::result<spawned<P>> spawn_inner(const spawn_options& options, Owner& owner, F&& f,
                                              Args&&... args) {
    constexpr bool scoped = !std::is_same_v<Owner, unscoped>;
    const auto no_memory = make_error_code(boost::system::errc::not_enough_memory);
    slot_ptr<P> slot;
    std::unique_ptr<thread_main> main;
    if constexpr (scoped) {
        slot = adopt(new (std::nothrow) P(owner));
        if (!slot) {
            return no_memory;
        }
        main.reset(new (std::nothrow)
                       Task(owner, slot.get(), std::forward<F>(f), std::forward<Args>(args)...));
    } else {
        (void)owner;
        slot = adopt(new (std::nothrow) P());
        if (!slot) {
            return no_memory;
        }
        main.reset(new (std::nothrow)
                       Task(slot.get(), std::forward<F>(f), std::forward<Args>(args)...));
    }
    if (!main) {
        return no_memory;
    }
    if constexpr (scoped) {
        // Counted before it starts, so that the scope cannot end between
        // the start and the count; a spawning scoped thread is itself still
        // counted.
        owner.list(*slot.get());
    }
    boost::system::result<started_thread> started = no_memory;
    try {
        if constexpr (scoped) {
            started = start_thread(options, std::move(main), &owner);
        } else {
            started = start_thread(options, std::move(main), nullptr);
        }
    } catch (...) { // a spawn hook's parent side
        if constexpr (scoped) {
            owner.thread_ended();
        }
        throw;
    }
    if (!started) {
        if constexpr (scoped) {
            owner.thread_ended();
        }
        return started.error();
    }
    return spawned<P>{std::move(started->thread),
                      join_inner<P>(std::move(started->native), std::move(slot))};
}

} // namespace rthread::detail

#endif

// The thread registry: ids, the calling thread's handle, the live threads.
// Private to the library (and its tests).
#ifndef RTHREAD_SRC_REGISTRY_HPP
#define RTHREAD_SRC_REGISTRY_HPP

#include "sys/stack_overflow.hpp"

#include <rthread/detail/parker.hpp>
#include <rthread/detail/thread_inner.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace rthread::detail {

/// The full object behind a thread handle.
struct thread_record final : thread_inner {
    using thread_inner::thread_inner;

    detail::parker parker;
    // The thread's stack, read by its spawner right after the thread was
    // made (so that the new thread need not ask, see stack_overflow.cpp).
    // release/acquire on stack_known publishes stack to the new thread.
    sys::stack_bounds stack;
    std::atomic<bool> stack_known{false};
    // The live list (guarded by the registry's mutex).
    thread_record* prev = nullptr;
    thread_record* next = nullptr;
    bool listed = false;
};

inline thread_record& record_of(thread_inner* inner) noexcept {
    return static_cast<thread_record&>(*inner);
}

/// A record for a thread about to be spawned: a fresh id, listed as live,
/// one reference (which the new thread adopts). Throws std::bad_alloc.
thread_record* make_spawned_record(std::optional<std::string> name);

/// On a new rthread-made thread: makes record (and its one reference) the
/// calling thread's own, released when the thread ends.
void adopt_as_current(thread_record* record) noexcept;

/// Removes a record from the live list (a spawn that failed).
void unlist(thread_record* record) noexcept;

/// The calling thread's record, registering the thread if needed.
inline thread_record& current_record() {
    thread_inner* inner = current_thread;
    return record_of(inner != nullptr ? inner : init_current());
}

/// For tests of id exhaustion only: the next id to hand out.
void set_next_thread_id_for_testing(std::uint64_t next) noexcept;

} // namespace rthread::detail

#endif

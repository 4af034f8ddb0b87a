// The thread registry: ids, the calling thread's handle, the live threads.
// Private to the library (and its tests).
#ifndef RTHREAD_SRC_REGISTRY_HPP
#define RTHREAD_SRC_REGISTRY_HPP

#include "sys/stack_guard.hpp"

#include "thread_parking.hpp"
#include <rthread/detail/thread_inner.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace rthread::detail {

/// Who reads a new thread's stack bounds (thread_record::stack_claim).
enum class stack_claim_state : std::uint8_t {
    unclaimed = 0,
    spawner_reading = 1,
    published = 2, // by the spawner (stack.size == 0: it could not)
    thread_reads = 3,
};

/// The full object behind a thread handle.
struct thread_record final : thread_inner {
    using thread_inner::thread_inner;

    detail::parker parker;
    // The thread's stack, read once: by its spawner right after the thread
    // was made (so that the new thread need not ask, see spawn.cpp), or by
    // the thread itself when it claims the job first. stack_claim: who reads
    // it (stack_claim_state); its release/acquire publishes stack.
    sys::stack_bounds stack;
    std::atomic<std::uint8_t> stack_claim{0};
    // Run once, on the thread, by its exit hook (after its local_key values
    // were destroyed, before its own reference is released): a spawned
    // thread's exit notice (spawn.cpp). Set on the thread before it is
    // adopted; only the thread touches them.
    void (*last_words)(void*) = nullptr;
    void* last_words_context = nullptr;
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
/// calling thread's own, released by the thread's exit hook when it ends.
/// False when the exit hook could not be registered (the C library had no
/// memory for it): the thread must then call run_exit_hook() itself, last.
[[nodiscard]] bool adopt_as_current(thread_record* record) noexcept;

/// What the thread's exit hook does, run by the thread itself: for a
/// thread whose hook could not be registered.
void run_exit_hook(thread_record* record) noexcept;

/// Removes a record from the live list (a spawn that failed).
void unlist(thread_record* record) noexcept;

/// The calling thread's record, registering the thread if needed.
inline thread_record& current_record() {
    thread_inner* inner = current_thread;
    return record_of(inner != nullptr ? inner : init_current());
}

/// Makes sure the calling thread's exit hook will run (registering the
/// thread if it has no handle yet). Throws std::bad_alloc.
inline void ensure_exit_hook() {
    (void)current_record();
}

/// For tests of id exhaustion only: the next id to hand out.
void set_next_thread_id_for_testing(std::uint64_t next) noexcept;

} // namespace rthread::detail

#endif

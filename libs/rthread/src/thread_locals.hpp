// The per-thread destructor table of local_key values (see local_key.hpp).
// Private to the library.
//
// Each thread that made a local_key value owns one table: a state per key
// index, and the list of live values in the order they were made, each with
// the key's native slot that the inline fast path reads (set while the value
// is valid). The table never touches another thread's table, so it needs no
// locks.
#ifndef RTHREAD_SRC_THREAD_LOCALS_HPP
#define RTHREAD_SRC_THREAD_LOCALS_HPP

#include <rthread/detail/local_slots.hpp>

#include <cstddef>

namespace rthread::detail {

/// The state of slot `index` on the calling thread: uninitialized beyond
/// the table (index 0 included); destroyed for every index once the
/// thread's final teardown is over.
local_slot_state thread_slot_state(std::size_t index) noexcept;

/// Marks slot `index` as being initialized, growing the table to cover it
/// and reserving room to register its value later.
/// Precondition: thread_slot_state(index) is uninitialized, index != 0.
/// Throws std::bad_alloc (the slot stays uninitialized).
void begin_thread_slot(std::size_t index);

/// The initializer of slot `index` failed: it is uninitialized again.
void abandon_thread_slot(std::size_t index) noexcept;

/// Publishes `value` as slot `index`'s valid value (in `slot`, the key's
/// native slot on this thread, which is cleared when the value's destruction
/// starts) and registers destroy(value) to run at thread end, after every
/// value made before it.
/// Precondition: begin_thread_slot(index) was called and neither this nor
/// abandon_thread_slot since.
void complete_thread_slot(std::size_t index, void** slot, void* value,
                          void (*destroy)(void*)) noexcept;

/// Destroys the calling thread's local_key values, newest first, until none
/// is left (values first made during this teardown included). rthread-made
/// threads call it before they count as ended. Idempotent: a later run
/// finds nothing, or destroys only values made since.
void run_thread_local_destructors() noexcept;

/// The final teardown: run_thread_local_destructors(), then frees the table;
/// from then on every key reads as destroyed on the calling thread. Called
/// by the thread's exit hook (registry.cpp), and on the main thread, whose
/// exit hook does not run at exit(), by a C++ thread_local destructor.
void finish_thread_locals() noexcept;

} // namespace rthread::detail

#endif

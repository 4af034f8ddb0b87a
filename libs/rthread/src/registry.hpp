// The thread registry: ids, the calling thread's handle, the live threads.
// Private to the library (and its tests).
#ifndef RTHREAD_SRC_REGISTRY_HPP
#define RTHREAD_SRC_REGISTRY_HPP

#include "thread_parking.hpp"
#include <rthread/detail/thread_inner.hpp>

#include <boost/intrusive/list_hook.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace rthread::detail {

class thread_end; // lifecycle.cpp

/// The full object behind a thread handle.
/// The hook of the registry's live list; safe mode: is_linked() says whether
/// the record is listed, and a listed record cannot be destroyed unnoticed.
using live_list_hook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::safe_link>>;

struct thread_record final : thread_inner, live_list_hook {
    using thread_inner::thread_inner;

    detail::parker parker;
    // A spawned thread's end event, raised by its exit hook (lifecycle.cpp);
    // set on the thread before it is adopted; only the thread touches it.
    thread_end* end = nullptr;
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
/// memory for it): the thread must then run on_thread_exit() (lifecycle.hpp)
/// itself, last.
[[nodiscard]] bool adopt_as_current(thread_record* record) noexcept;

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

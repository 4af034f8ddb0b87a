// The life of a spawned thread, in one place (lifecycle.cpp): its start
// through the seam, the trampoline, the hand-off of its result, and its one
// "thread ended" event, which join and scope wait on. The picture is in
// doc/design.md ("One lifecycle"). Private to the library.
#ifndef RTHREAD_SRC_LIFECYCLE_HPP
#define RTHREAD_SRC_LIFECYCLE_HPP

#include "registry.hpp"

#include <rthread/detail/native_thread.hpp>
#include <rthread/detail/task.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace rthread::detail {

class scope_state;

/// Starts a native thread (the seam, sys/thread_backend.hpp) of stack_size
/// bytes (already usable: rounded, raised to the minimum) that runs main as
/// record's thread; record's first reference goes to the thread. When scope
/// is set, the thread's end counts it down (the caller counted it up).
/// main and the thread's reference are consumed either way. The OS's error,
/// or errc::not_enough_memory, when no thread was made.
boost::system::result<native_thread> launch_thread(thread_record* record,
                                                   std::unique_ptr<thread_main> main,
                                                   std::size_t stack_size, scope_state* scope);

/// Every thread's exit hook (registry.cpp registers it with the record the
/// thread owns): after the thread's C++ thread_local destructors, destroys
/// its local_key values for the last time, takes it out of threads(),
/// raises its end event (a spawned thread's) and lets go of its record.
void on_thread_exit(void* record) noexcept;

} // namespace rthread::detail

#endif

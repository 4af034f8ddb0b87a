// The seam's native thread: the backend contract, written down once, as
// libc++ writes its own in __thread/support.h. What the rest of the library
// asks of a native thread is these few functions; the stack bounds of a
// thread are read from its handle by thread_stack_bounds()
// (sys/stack_guard.hpp), and the end of a thread for the OS by
// wait_thread_exit() (sys/sys.hpp).
//
// One backend serves every platform: Boost.Thread (sys/boost_thread.cpp),
// the portable way threads are made. It is the only file of the library
// that includes a Boost.Thread thread header.
#ifndef RTHREAD_SRC_SYS_THREAD_BACKEND_HPP
#define RTHREAD_SRC_SYS_THREAD_BACKEND_HPP

#include <rthread/detail/native_thread.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace rthread::sys {

using native_handle_type = detail::native_handle_type;

/// A started thread, owned by the one pointer create_thread() returned
/// until join_thread() or detach_thread() takes it.
class thread;

/// Starts a thread with a stack of stack_size bytes (already rounded and
/// raised to the minimum) that runs entry(context). nullptr, with error set,
/// when it cannot be made: the OS's code, errc::not_enough_memory when the
/// backend's own allocation fails. entry may end by the C library's forced
/// unwind (pthread_exit, pthread_cancel): see ending_by_forced_unwind().
[[nodiscard]] thread* create_thread(std::size_t stack_size, void (*entry)(void*), void* context,
                                    boost::system::error_code& error) noexcept;

/// Waits until t has ended, then frees it: true. With deadline_ns (the
/// monotonic clock's nanoseconds), false at it, t still joinable; without,
/// the wait is not bounded. Throws std::system_error, t still joinable:
/// resource_deadlock_would_occur when t is the calling thread.
bool join_thread(thread* t, std::optional<std::int64_t> deadline_ns);

/// Lets t run on unowned and frees it.
void detach_thread(thread* t) noexcept;

/// t's OS handle: pthread_t on POSIX, the thread's HANDLE on Windows.
[[nodiscard]] native_handle_type thread_handle(const thread* t) noexcept;

/// True when t is the calling thread.
[[nodiscard]] bool is_current_thread(const thread* t) noexcept;

/// On a thread create_thread() made, whose entry is being left by the C
/// library's forced unwind: tells the backend the thread is done, which it
/// would otherwise never learn (Boost.Thread's trampoline catches no
/// forced unwind, and its join would wait forever).
void ending_by_forced_unwind() noexcept;

} // namespace rthread::sys

#endif

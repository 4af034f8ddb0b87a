// The per-thread destructor table of local_key values (see local_key.hpp).
// Private to the library.
#ifndef RTHREAD_SRC_THREAD_LOCALS_HPP
#define RTHREAD_SRC_THREAD_LOCALS_HPP

namespace rthread::detail {

/// Destroys the calling thread's local_key values, newest first, until none
/// is left (values first made during this teardown included). rthread-made
/// threads call it before they count as ended; other threads reach it from
/// a thread_local destructor.
void run_thread_local_destructors() noexcept;

} // namespace rthread::detail

#endif

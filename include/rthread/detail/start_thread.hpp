// The seam between the header templates of spawn and spawn_scoped and the
// library: a builder's options, and start_thread(), which makes a thread for
// a body (detail/task.hpp).
#ifndef RTHREAD_DETAIL_START_THREAD_HPP
#define RTHREAD_DETAIL_START_THREAD_HPP

#include <rthread/detail/native_thread.hpp>
#include <rthread/detail/task.hpp>
#include <rthread/detail/thread_inner.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rthread::detail {

class scope_state; // detail/scope_state.hpp

/// A thread start_thread() made: the reference its handle holds, and its
/// native thread.
struct started_thread {
    thread_ref thread;
    native_thread native;
};

/// A builder's configuration.
struct spawn_options {
    std::optional<std::string> name;
    std::optional<std::size_t> stack_size;
    std::optional<std::vector<std::size_t>> affinity;
    bool no_hooks = false;
};

/// Makes a native thread through the seam (sys/thread_backend.hpp) that runs
/// main: registers its handle, applies the name (rejecting an interior NUL with
/// errc::invalid_argument), the stack size (rounded up to the page size,
/// raised to the platform minimum; one that cannot be had is an error) and
/// the affinity (errc::invalid_argument for an empty list or a CPU outside
/// the process's), runs the parent sides of the spawn hooks. main is
/// consumed either way. Throws only what a hook's parent side throws (no
/// thread is made then). When scope is set, the thread's end counts it down
/// (the caller counted it up).
boost::system::result<started_thread>
start_thread(const spawn_options& options, std::unique_ptr<thread_main> main, scope_state* scope);

} // namespace rthread::detail

#endif

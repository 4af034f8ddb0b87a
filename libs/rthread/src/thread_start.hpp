// What a new thread does before its function (see detail/packet.hpp): set
// its affinity (spawn.cpp's trampoline, before anything else), then, inside
// its panic catch, take on its inherited spawn hooks and run the child sides
// of its spawner's (spawn_hooks.cpp).
#ifndef RTHREAD_SRC_THREAD_START_HPP
#define RTHREAD_SRC_THREAD_START_HPP

#include <rthread/detail/spawn_hooks.hpp>
#include <rthread/detail/task.hpp>
#include <rthread/thread.hpp>

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace rthread::detail {

/// One link of a thread's list of spawn hooks, newest first. Links are
/// shared by every thread that inherited them and never change.
struct spawn_hook_link : boost::intrusive_ref_counter<spawn_hook_link, boost::thread_safe_counter> {
    std::unique_ptr<const spawn_hook> hook;
    boost::intrusive_ptr<const spawn_hook_link> next;
};
using spawn_hook_list = boost::intrusive_ptr<const spawn_hook_link>;

class thread_start {
public:
    std::optional<std::vector<std::size_t>> affinity;
    bool affinity_refused = false; // the OS refused it on the new thread
    spawn_hook_list inherited;
    std::vector<std::unique_ptr<once_callable>> child_sides;
};

/// On the spawning thread, before the thread is made: its start (nullptr
/// when it has nothing to do), after running the parent sides of the
/// spawner's hooks for child (none when no_hooks, none inside a hook's own
/// parent side). errc::not_enough_memory when the library's own
/// bookkeeping cannot be allocated; passes out what a parent side throws.
boost::system::result<std::unique_ptr<thread_start>>
prepare_thread_start(const rthread::thread& child, std::optional<std::vector<std::size_t>> affinity,
                     bool no_hooks);

} // namespace rthread::detail

#endif

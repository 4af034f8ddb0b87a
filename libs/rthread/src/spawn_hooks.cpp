// Spawn hooks: Rust's std::thread::add_spawn_hook (library/std/src/thread/
// spawnhook.rs, unstable thread_spawn_hook, rust-lang/rust#132951). Each
// thread keeps its hooks as a shared list, newest first; a spawn runs their
// parent sides on the spawner and hands the child the list (its inherited
// hooks) and the callables they returned, which it runs before its function.
#include "thread_start.hpp"

#include <rthread/local_key.hpp>
#include <rthread/spawn.hpp>

#include <new>
#include <system_error>
#include <utility>

namespace rthread::detail {

namespace {

// A local_key, as Rust's SPAWN_HOOKS is a thread_local!: a spawn from a
// thread-local destructor after the list was destroyed finds it destroyed
// and runs no hooks (Rust: rust-lang/rust#138696), where a C++ thread_local
// would be read after its destruction.
RTHREAD_THREAD_LOCAL(spawn_hook_list, spawn_hooks_of_this_thread, spawn_hook_list());

// True while this thread runs parent sides: a spawn made from one runs no
// hooks, so that a hook that spawns does not recurse.
thread_local bool running_parent_sides = false;

class parent_sides_guard {
public:
    parent_sides_guard() noexcept { running_parent_sides = true; }
    parent_sides_guard(const parent_sides_guard&) = delete;
    parent_sides_guard& operator=(const parent_sides_guard&) = delete;
    ~parent_sides_guard() { running_parent_sides = false; }
};

// The calling thread's hooks; empty without touching the key when it has
// never had any (the cost of a spawn without hooks is this check).
spawn_hook_list hooks_of_this_thread() {
    if (spawn_hooks_of_this_thread.state() != local_key_state::valid) {
        return spawn_hook_list();
    }
    return spawn_hooks_of_this_thread.with([](const spawn_hook_list& list) { return list; });
}

} // namespace

void push_spawn_hook(std::unique_ptr<spawn_hook> hook) {
    boost::intrusive_ptr<spawn_hook_link> link(new spawn_hook_link());
    link->hook = std::move(hook);
    spawn_hooks_of_this_thread.with([&](spawn_hook_list& list) {
        link->next = std::move(list);
        list = std::move(link);
    });
}

boost::system::result<std::unique_ptr<thread_start>>
prepare_thread_start(const rthread::thread& child, std::optional<std::vector<std::size_t>> affinity,
                     bool no_hooks) {
    const auto no_memory = make_error_code(boost::system::errc::not_enough_memory);
    spawn_hook_list inherited = no_hooks ? spawn_hook_list() : hooks_of_this_thread();
    if (!inherited && !affinity) {
        return std::unique_ptr<thread_start>();
    }
    std::unique_ptr<thread_start> start(new (std::nothrow) thread_start());
    if (!start) {
        return no_memory;
    }
    start->affinity = std::move(affinity);
    if (inherited && !running_parent_sides) {
        std::size_t hooks = 0;
        for (const spawn_hook_link* link = inherited.get(); link != nullptr;
             link = link->next.get()) {
            ++hooks;
        }
        try {
            start->child_sides.reserve(hooks); // the push_backs below cannot fail
        } catch (const std::bad_alloc&) {
            return no_memory;
        }
        const parent_sides_guard guard;
        for (const spawn_hook_link* link = inherited.get(); link != nullptr;
             link = link->next.get()) {
            std::unique_ptr<once_callable> side = link->hook->call(child);
            if (!side) {
                return no_memory;
            }
            start->child_sides.push_back(std::move(side));
        }
    }
    start->inherited = std::move(inherited);
    return start;
}

void begin_thread(thread_start* raw) {
    const std::unique_ptr<thread_start> start(raw);
    if (start->affinity_refused) {
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                "rthread: the OS refused the thread's affinity");
    }
    if (start->inherited) {
        spawn_hooks_of_this_thread.set(std::move(start->inherited));
    }
    for (std::unique_ptr<once_callable>& side : start->child_sides) {
        side->run();
        side.reset(); // each dies after it ran, as Rust's FnOnce
    }
}

void discard_thread_start(thread_start* start) noexcept {
    delete start;
}

} // namespace rthread::detail

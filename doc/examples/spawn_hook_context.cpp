// Spawn hooks: context that new threads inherit (Rust's unstable
// std::thread::add_spawn_hook), here a logging context.
#include <rthread/rthread.hpp>

#include <iostream>
#include <string>

// Each thread's logging context.
// NOLINTNEXTLINE(cert-err58-cpp): the string is made at a thread's first use, not here
RTHREAD_THREAD_LOCAL(std::string, LOG_CONTEXT, "main");

void log(const std::string& text) {
    std::cout << "[" << LOG_CONTEXT.get() << "] " << text << '\n';
}

int main() {
    // The parent side runs on the spawner, with the child's handle; the
    // callable it returns runs on the child, before the child's function.
    rthread::add_spawn_hook([](const rthread::thread& child) {
        std::string context =
            LOG_CONTEXT.get() + "/" + std::string(child.name().value_or("worker"));
        return [context] { LOG_CONTEXT.set(context); };
    });

    LOG_CONTEXT.set("request-42");
    log("handling the request");
    rthread::builder{}
        .name("db")
        .spawn([] {
            log("querying");
            // Hooks are inherited: the child's children get them too.
            rthread::builder{}.name("retry").spawn([] { log("retrying"); }).value().join().value();
        })
        .value()
        .join()
        .value();

    // no_hooks(): this thread runs no hook and inherits none.
    rthread::builder{}.no_hooks().spawn([] { log("opted out"); }).value().join().value();
}

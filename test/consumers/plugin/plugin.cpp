// A shared library that links librthread.a, loaded by host.cpp with
// dlopen(): it spawns a named thread, joins it for a value, and takes a
// panic back through join. Linking it at all needs a position-independent
// archive (thread-locals in a TLS model a shared object can use).
#include <rthread/rthread.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <string>

extern "C" int rthread_plugin_run() {
    auto worker =
        rthread::builder{}
            .name("plugin")
            .spawn([] {
                return fmt::format("{} in the plugin", rthread::current().name().value_or("?"));
            })
            .value();
    const std::string said = worker.join().value();
    if (said != "plugin in the plugin") {
        std::printf("plugin FAILED: the thread said '%s'\n", said.c_str());
        return 1;
    }

    rthread::set_panic_hook([](const rthread::panic_info&) {}); // quiet
    const rthread::result<void> r =
        rthread::spawn([] { RTHREAD_PANIC("plugin {}", "panic"); }).join();
    if (r.has_value() || rthread::panic_message(r.error()) != "plugin panic") {
        std::puts("plugin FAILED: the panic did not come back through join");
        return 1;
    }
    std::printf("plugin ok: %s\n", said.c_str());
    return 0;
}

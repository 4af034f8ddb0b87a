// The program every consumer builds: it touches each dependency the library
// carries (Boost.Thread to spawn, Boost.Context for the stack size,
// Boost.Stacktrace through panic_error, fmt through the formatters), so a
// consumer whose link line misses one fails to link here, not at a user's.
#include <rthread/rthread.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>

int main() {
    auto worker = rthread::builder{}
                      .name("consumer")
                      .stack_size(256 * 1024)
                      .spawn(
                          [](int x) {
                              if (x < 0) {
                                  RTHREAD_PANIC("negative: {}", x);
                              }
                              return fmt::format("{} doubled {}", rthread::current(), x * 2);
                          },
                          21)
                      .value();
    std::cout << worker.join().value() << '\n';

    rthread::set_panic_hook([](const rthread::panic_info&) {}); // quiet
    auto failing = rthread::spawn([] { RTHREAD_PANIC("expected {}", "panic"); });
    const rthread::result<void> r = failing.join();
    if (r.has_value() || rthread::panic_message(r.error()) != "expected panic") {
        std::puts("consumer FAILED: the panic did not come back through join");
        return 1;
    }
    std::cout << "consumer ok on " << rthread::current_id() << '\n';
    return 0;
}

// A tour of rthread: the story of Rust's std::thread module docs, in C++.
// `b2 tour` builds and runs it.
#include <rthread/rthread.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

int main() {
    // Nobody has to see the tour's deliberate panic on stderr twice: the hook
    // prints one line of our own instead of the default report.
    rthread::set_panic_hook([](const rthread::panic_info& info) {
        const auto name = info.thread().name();
        fmt::print("  [panic hook] thread '{}' panicked: {}\n",
                   name ? *name : std::string_view("<unnamed>"), info.message());
    });

    fmt::print("1. Spawning a thread and joining it for its value\n");
    auto child = rthread::spawn([](int x) { return x * 2; }, 21);
    fmt::print("   child {} returned {}\n", child.thread().id(), child.join().value());

    fmt::print("2. A thread that panics: the panic comes back through join()\n");
    auto failing = rthread::spawn([]() -> int { RTHREAD_PANIC("the answer was {}", 41); });
    rthread::result<int> outcome = failing.join();
    if (!outcome) {
        fmt::print("   join() gave the panic: \"{}\"\n",
                   rthread::panic_message(outcome.error()).value_or("?"));
    }
    auto odd = rthread::spawn([] { throw 404; }).join();
    fmt::print("   exceptions of any type count: an int came back ({})\n",
               odd.has_value() ? "no" : "yes");

    fmt::print("3. Configuring a thread with builder\n");
    auto named = rthread::builder{}
                     .name("child1")
                     .stack_size(std::size_t{256} * 1024)
                     .spawn([] { return fmt::format("Hello, world! from {}", rthread::current()); })
                     .value();
    fmt::print("   {}\n", named.join().value());
    auto bad = rthread::builder{}.name(std::string("bad\0name", 8)).spawn([] {});
    fmt::print("   a name with a NUL is refused: {}\n", bad.error().message());

    fmt::print("4. The Thread type: current() on the main thread\n");
    fmt::print("   {}\n", rthread::current());

    fmt::print("5. park/unpark: hand a value from one thread to another\n");
    std::atomic<int> mailbox{0};
    const rthread::thread receiver = rthread::current();
    auto sender = rthread::spawn([&] {
        rthread::sleep(std::chrono::milliseconds(10));
        mailbox.store(7);
        receiver.unpark();
    });
    while (mailbox.load() == 0) {
        rthread::park(); // may wake spuriously: re-check, as Rust's docs say
    }
    sender.join().value();
    fmt::print("   main parked until the sender unparked it; mailbox = {}\n", mailbox.load());
    fmt::print("   park_timeout(10ms) without a token returns {}\n",
               rthread::park_timeout(std::chrono::milliseconds(10)));

    fmt::print("6. Dropping a handle detaches the thread (never std::terminate)\n");
    std::atomic<bool> detached_ran{false};
    {
        auto detached = rthread::spawn([&] {
            detached_ran = true;
            receiver.unpark();
        });
    }
    while (!detached_ran.load()) {
        rthread::park();
    }
    fmt::print("   the detached thread ran to completion on its own\n");

    fmt::print("7. The machine: available_parallelism() = {}; live threads known: {}\n",
               rthread::available_parallelism().value(), rthread::threads().size());
    return 0;
}

// Blocking support: park() and thread::unpark(). Each thread has one token,
// initially absent; unpark() makes it available, park() consumes it
// (blocking until it is there). park may also return spuriously, so it is
// always used in a loop that re-checks a condition.
#include <rthread/rthread.hpp>

#include <atomic>
#include <chrono>
#include <iostream>

int main() {
    std::cout << std::boolalpha;

    // The usual pattern: put the waiter's handle where the other thread can
    // find it, park until the condition holds, unpark when it changes.
    std::atomic<bool> ready{false};
    const rthread::thread waiter = rthread::current();
    auto producer = rthread::spawn([&] {
        ready.store(true);
        waiter.unpark();
    });
    while (!ready.load()) {
        rthread::park();
    }
    producer.join().value();
    std::cout << "woken with ready = " << ready.load() << '\n';

    // The token saturates at one: two unparks, then one park consumes it.
    const rthread::thread me = rthread::current();
    me.unpark();
    me.unpark();
    std::cout << "first park_timeout took the token: "
              << rthread::park_timeout(std::chrono::seconds(10)) << '\n';
    std::cout << "second one timed out: " << rthread::park_timeout(std::chrono::milliseconds(1))
              << '\n';

    // A zero (or negative) timeout only looks.
    std::cout << "park_timeout(0) without a token: "
              << rthread::park_timeout(std::chrono::seconds(0)) << '\n';

    // unpark() on a thread that has ended is fine: nothing happens.
    auto done = rthread::spawn([] {});
    const rthread::thread gone = done.thread();
    done.join().value();
    gone.unpark();
    std::cout << "unpark after the end: no effect\n";
}

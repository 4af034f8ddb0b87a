// Scoped threads: rthread::scope (Rust's thread::scope). Threads spawned
// through the scope_handle may borrow the caller's locals by reference:
// scope() returns only after every one of them has ended.
#include <rthread/rthread.hpp>

#include <atomic>
#include <iostream>
#include <numeric>
#include <vector>

int main() {
    std::vector<int> data{1, 2, 3, 4, 5, 6, 7, 8};
    std::vector<int> partial(2, 0);

    // Two threads sum the halves of `data` into `partial`, both borrowed.
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] { partial[0] = std::accumulate(data.begin(), data.begin() + 4, 0); });
        s.spawn([&] { partial[1] = std::accumulate(data.begin() + 4, data.end(), 0); });
    });
    // Both threads have ended: the locals are ours again.
    std::cout << "halves: " << partial[0] << " + " << partial[1] << '\n';

    // scope() returns f's value; scoped handles join for a value, and
    // builder::spawn_scoped names them.
    const int longest = rthread::scope([&](rthread::scope_handle& s) {
        auto h = rthread::builder{}
                     .name("measurer")
                     .spawn_scoped(s, [&] { return static_cast<int>(data.size()); })
                     .value();
        return h.join().value();
    });
    std::cout << "scope returned " << longest << '\n';

    // Scoped threads may spawn more threads of the same scope.
    std::atomic<int> count{0};
    rthread::scope([&](rthread::scope_handle& s) {
        s.spawn([&] {
            ++count;
            s.spawn([&] { ++count; });
        });
    });
    std::cout << "threads run: " << count.load() << '\n';

    // A scoped thread that panicked and was never joined makes scope()
    // throw scope_panic, which keeps the panics (Rust's loses them).
    rthread::set_panic_hook([](const rthread::panic_info&) {}); // quiet
    try {
        rthread::scope([](rthread::scope_handle& s) {
            s.spawn([] { RTHREAD_PANIC("first"); });
            s.spawn([] { RTHREAD_PANIC("second"); });
        });
    } catch (const rthread::scope_panic& e) {
        std::cout << e.what() << ", with " << e.payloads().size() << " panics: ";
        for (const std::exception_ptr& p : e.payloads()) {
            std::cout << rthread::panic_message(p).value() << ' ';
        }
        std::cout << '\n';
    }
}

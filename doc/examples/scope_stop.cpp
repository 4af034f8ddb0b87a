// A scope that tells its threads to stop: scope_handle::stop_requested,
// request_stop and on_stop (beyond Rust; crossbeam-rs/crossbeam#196).
#include <rthread/rthread.hpp>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>

int main() {
    rthread::set_panic_hook([](const rthread::panic_info&) {}); // quiet

    // A producer that panics before it produces, and a consumer waiting for
    // its item. Without the stop, the consumer would wait forever, and the
    // scope for the consumer.
    std::mutex m;
    std::condition_variable ready;
    std::optional<int> item;
    try {
        rthread::scope([&](rthread::scope_handle& s) {
            // Runs on the thread that requests the stop: here the producer,
            // as its panic is stored.
            s.on_stop([&] {
                std::lock_guard<std::mutex> lock(m);
                ready.notify_all();
            });
            s.spawn([&] {
                std::unique_lock<std::mutex> lock(m);
                ready.wait(lock, [&] { return item.has_value() || s.stop_requested(); });
                std::cout << "consumer: " << (item ? "got an item" : "told to stop") << '\n';
            });
            s.spawn([&]() -> void { RTHREAD_PANIC("producer failed"); });
        });
    } catch (const rthread::scope_panic& e) {
        std::cout << e.what() << ": " << rthread::panic_message(e.payloads().at(0)).value() << '\n';
    }

    // request_stop() asks by hand; a callback registered afterwards runs at
    // once, on the caller.
    rthread::scope([](rthread::scope_handle& s) {
        s.spawn([&s] {
            while (!s.stop_requested()) {
                rthread::yield_now(); // a worker polling for the stop
            }
        });
        s.request_stop();
        s.on_stop([] { std::cout << "already stopped: the callback runs at once\n"; });
    });
}

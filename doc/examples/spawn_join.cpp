// Spawning threads and joining them: rthread::spawn, join_handle, result.
#include <rthread/rthread.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

int main() {
    // spawn(f, args...) runs f(args...) on a new thread; the arguments are
    // copied (decayed) into the thread, as std::thread does.
    rthread::join_handle<int> child = rthread::spawn([](int x) { return x * 2; }, 21);

    // join() waits for the thread and gives its value (or its panic).
    rthread::result<int> res = child.join();
    std::cout << "child returned " << res.value() << '\n';

    // Threads that return nothing give result<void>; move-only values work.
    rthread::spawn([] { std::cout << "hello from a thread\n"; }).join().value();
    auto boxed = rthread::spawn([] { return std::make_unique<std::string>("boxed"); });
    std::cout << "got " << *boxed.join().value() << '\n';

    // Many threads at once, joined in order.
    std::vector<rthread::join_handle<long>> workers;
    for (long i = 1; i <= 4; ++i) {
        workers.push_back(rthread::spawn([](long n) { return n * n; }, i));
    }
    long sum = 0;
    for (auto& w : workers) {
        sum += w.join().value();
    }
    std::cout << "sum of squares: " << sum << '\n';

    // Dropping a handle without joining detaches the thread (Rust semantics:
    // never std::terminate). It runs on; it ends with the process at the
    // latest.
    {
        auto detached = rthread::spawn([] { rthread::sleep(std::chrono::milliseconds(1)); });
    } // detached here

    // A joined (or moved-from, or default) handle is empty.
    rthread::join_handle<void> empty;
    std::cout << std::boolalpha << "empty handle joinable: " << empty.joinable() << '\n';
}

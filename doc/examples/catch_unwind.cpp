// catch_unwind: Rust's std::panic::catch_unwind. It runs a function and
// gives its value, or the exception it threw, as a result<R>, on any thread
// (the main one too): the thread goes on.
#include <rthread/rthread.hpp>

#include <exception>
#include <iostream>
#include <vector>

int checked(int n) {
    if (n < 0) {
        RTHREAD_PANIC("negative input: {}", n);
    }
    return n;
}

int main() {
    std::cout << std::boolalpha;

    // A hook that writes to stdout, so that its reports show below. It runs
    // at the panic site, before catch_unwind gets the panic, as in Rust.
    rthread::set_panic_hook([](const rthread::panic_info& info) {
        std::cout << "[hook] '" << info.thread().name().value_or("<unnamed>")
                  << "' panicked: " << info.message() << '\n';
    });

    // A function that returns: its value.
    rthread::result<int> fine = rthread::catch_unwind([] { return checked(7); });
    std::cout << "fine: " << fine.value() << '\n';

    // A panic: reported by the hook where it happened, then caught here.
    rthread::result<int> bad = rthread::catch_unwind([] { return checked(-1); });
    std::cout << "bad has a value: " << bad.has_value()
              << ", message: " << rthread::panic_message(bad.error()).value() << '\n';

    // Any exception is caught; one that is not a panic is not reported.
    const std::vector<int> v{1, 2, 3};
    rthread::result<int> out = rthread::catch_unwind([&v] { return v.at(9); });
    std::cout << "out of range caught: " << !out.has_value() << '\n';

    // A thread that must outlive the tasks it runs, as a pool's worker: a
    // task's panic ends the task, not the thread.
    auto worker = rthread::builder{}.name("worker").spawn([] {
        int failed = 0;
        for (int task : {3, -4, 5}) {
            rthread::result<void> done = rthread::catch_unwind([task] { (void)checked(task); });
            failed += done.has_value() ? 0 : 1;
        }
        return failed;
    });
    const int failed = worker.value().join().value();
    std::cout << "tasks failed: " << failed << '\n';

    // Rust's resume_unwind: throw the payload again.
    try {
        std::rethrow_exception(bad.error());
    } catch (const rthread::panic_error& e) {
        std::cout << "rethrown: " << e.what() << '\n';
    }
}

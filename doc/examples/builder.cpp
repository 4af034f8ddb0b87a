// Configuring threads before they start: rthread::builder (Rust's Builder).
#include <rthread/rthread.hpp>

#include <iostream>
#include <string>

int main() {
    std::cout << std::boolalpha;

    // A name and a stack size. Both are optional; the names reach the OS.
    auto named = rthread::builder{}.name("child1").stack_size(std::size_t{256} * 1024).spawn([] {
        return std::string(*rthread::current().name());
    });
    // builder::spawn reports failure as an error code instead of throwing.
    if (named) {
        std::cout << "thread named " << named->join().value() << '\n';
    }

    // A name with an interior NUL cannot reach the OS: invalid_argument.
    auto bad = rthread::builder{}.name(std::string("bad\0name", 8)).spawn([] {});
    std::cout << "NUL in the name: " << (bad.error() == boost::system::errc::invalid_argument)
              << '\n';

    // A stack the system cannot give is an error too, not a crash.
    auto huge = rthread::builder{}.stack_size(std::size_t(1) << 62).spawn([] {});
    std::cout << "2^62-byte stack refused: " << huge.has_error() << '\n';

    // Sizes below the platform minimum (0 included) are raised to it.
    auto tiny = rthread::builder{}.stack_size(0).spawn([] { return 7; });
    std::cout << "stack_size(0) still runs: " << tiny.value().join().value() << '\n';

    // A builder may spawn more than once.
    rthread::builder pool_worker;
    pool_worker.name("pool");
    auto first = pool_worker.spawn([] { return rthread::current_id(); }).value();
    auto second = pool_worker.spawn([] { return rthread::current_id(); }).value();
    std::cout << "two threads, two ids: " << (first.join().value() != second.join().value())
              << '\n';
}

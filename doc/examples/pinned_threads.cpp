// Pinning a thread to CPUs before it starts: builder::affinity and
// current_affinity (beyond Rust's std: rust-lang/libs-team#195).
#include <rthread/rthread.hpp>

#include <iostream>
#include <vector>

int main() {
    std::cout << std::boolalpha;

    // The CPUs this thread may run on, sorted.
    const std::vector<std::size_t> mine = rthread::current_affinity().value();
    const std::size_t cpu = mine.front();

    // The new thread runs on `cpu` from its start: its function never runs
    // anywhere else, and it sees one CPU.
    auto pinned = rthread::builder{}.name("pinned").affinity({cpu}).spawn(
        [] { return rthread::current_affinity().value(); });
    const std::vector<std::size_t> theirs = pinned.value().join().value();
    std::cout << "pinned thread runs on the CPU it was given: "
              << (theirs == std::vector<std::size_t>{cpu}) << '\n';

    auto counted = rthread::builder{}.affinity({cpu}).spawn(
        [] { return rthread::available_parallelism().value(); });
    std::cout << "available_parallelism() there: " << counted.value().join().value() << '\n';

    // Bad input is an error code, and the function never runs.
    bool ran = false;
    auto empty = rthread::builder{}.affinity({}).spawn([&] { ran = true; });
    std::cout << "empty list: " << (empty.error() == boost::system::errc::invalid_argument) << '\n';
    auto outside = rthread::builder{}.affinity({mine.back() + 1}).spawn([&] { ran = true; });
    std::cout << "a CPU outside the process's mask: "
              << (outside.error() == boost::system::errc::invalid_argument) << '\n';
    std::cout << "function ran: " << ran << '\n';
}

// Sleeping, yielding, and how many threads the machine runs at once.
#include <rthread/rthread.hpp>

#include <chrono>
#include <iostream>

int main() {
    using namespace std::chrono;
    std::cout << std::boolalpha;

    // sleep(d): at least d, even if a signal interrupts the system call.
    const auto start = steady_clock::now();
    rthread::sleep(milliseconds(20));
    std::cout << "slept at least 20 ms: " << (steady_clock::now() - start >= milliseconds(20))
              << '\n';

    // sleep_until(t), for a time point of any clock.
    const auto wake_at = system_clock::now() + milliseconds(5);
    rthread::sleep_until(wake_at);
    std::cout << "woke at or after the time point: " << (system_clock::now() >= wake_at) << '\n';

    // Zero and negative durations return at once.
    rthread::sleep(seconds(-1));

    // Give the rest of this time slice to another thread.
    rthread::yield_now();

    // available_parallelism(): the CPUs this process may use (affinity mask
    // and cgroup quota), the number of threads worth running in parallel.
    boost::system::result<std::size_t> cpus = rthread::available_parallelism();
    std::cout << "available parallelism is at least 1: " << (cpus && *cpus >= 1) << '\n';
}

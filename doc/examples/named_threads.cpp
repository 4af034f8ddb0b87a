// Thread names reach the OS: debuggers (gdb's `info threads`), top -H, ps -L
// and /proc/self/task/*/comm show them. tools/checks/gdb.sh runs this
// program under gdb and finds the names there.
#include <rthread/rthread.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

// The calling thread's name as the OS keeps it.
std::string os_name_of_this_thread() {
    std::ifstream comm("/proc/thread-self/comm");
    std::string name;
    std::getline(comm, name);
    return name;
}

int main() {
    const std::vector<std::string> names = {"io-reader", "io-writer", "a-thread-with-a-long-name"};
    std::vector<std::string> os_names(names.size());
    std::atomic<std::size_t> started{0};
    std::atomic<bool> done{false};
    const rthread::thread main_thread = rthread::current();

    std::vector<rthread::join_handle<void>> workers;
    for (std::size_t i = 0; i < names.size(); ++i) {
        workers.push_back(rthread::builder{}
                              .name(names[i])
                              .spawn([&, i] {
                                  // The name is set before the function starts.
                                  os_names[i] = os_name_of_this_thread();
                                  started.fetch_add(1);
                                  main_thread.unpark();
                                  while (!done.load()) {
                                      rthread::park();
                                  }
                              })
                              .value());
    }
    while (started.load() < names.size()) {
        rthread::park();
    }

    // Every worker is running, named, and parked: a debugger stopping here
    // (gdb.sh breaks in rthread::threads) sees them all by name.
    std::vector<std::string> listed;
    for (const rthread::thread& t : rthread::threads()) {
        listed.push_back(std::string(t.name().value_or("<unnamed>")));
    }
    std::sort(listed.begin(), listed.end());
    for (const std::string& n : listed) {
        std::cout << "live: " << n << '\n';
    }

    // The OS keeps 15 bytes of a name (cut on a UTF-8 boundary);
    // thread::name() keeps all of it.
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::cout << workers[i].thread().name().value() << " is '" << os_names[i]
                  << "' to the OS\n";
    }

    done.store(true);
    for (auto& w : workers) {
        w.thread().unpark();
        w.join().value();
    }
}

// Thread handles and ids: rthread::thread, thread_id, current().
#include <rthread/rthread.hpp>

#include <fmt/format.h>

#include <iostream>
#include <thread>

int main() {
    std::cout << std::boolalpha;

    // current() works on every thread; the main thread is "main", id 1.
    rthread::thread me = rthread::current();
    std::cout << "I am " << me << '\n';
    fmt::print("my id: {} (as a number: {})\n", me.id(), me.id().as_u64());

    // A spawned thread's handle, from its join_handle or from inside.
    auto child = rthread::builder{}.name("child").spawn([] { return rthread::current(); }).value();
    rthread::thread from_outside = child.thread();
    rthread::thread from_inside = child.join().value();
    std::cout << "same thread: " << (from_outside == from_inside) << '\n';
    // Handles stay valid after the thread has ended.
    fmt::print("it was {}\n", from_inside);

    // Threads made elsewhere (std::thread here) get a handle on first use;
    // they have no name.
    std::thread foreign([] { fmt::print("a std::thread: {}\n", rthread::current()); });
    foreign.join();

    // Ids are never reused, and order and hash like numbers.
    auto a = rthread::spawn([] { return rthread::current_id(); }).join().value();
    auto b = rthread::spawn([] { return rthread::current_id(); }).join().value();
    std::cout << "later ids are larger: " << (a < b) << '\n';

    // threads(): the live threads the library knows (here only main).
    std::cout << "live threads: " << rthread::threads().size() << '\n';
}

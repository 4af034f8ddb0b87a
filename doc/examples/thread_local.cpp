// Thread-local storage: RTHREAD_THREAD_LOCAL and rthread::local_key (Rust's
// thread_local! and LocalKey). Each thread has its own value, made on its
// first access and destroyed when the thread ends.
#include <rthread/rthread.hpp>

#include <iostream>
#include <string>

RTHREAD_THREAD_LOCAL(int, COUNTER, 1);

// A value whose destructor reports: join() returns only after it ran.
struct farewell {
    std::string who;
    ~farewell() {
        if (!who.empty()) {
            std::cout << "goodbye from " << who << '\n';
        }
    }
};
RTHREAD_THREAD_LOCAL(farewell, FAREWELL, farewell{});

int main() {
    std::cout << std::boolalpha;

    // with(f) hands f a reference to this thread's value.
    COUNTER.with([](int& c) { c = 2; });

    // Another thread starts from the initializer, 1, and does not see ours.
    auto child = rthread::spawn([] {
        COUNTER.with([](int& c) { c = 3; });
        FAREWELL.with([](farewell& f) { f.who = "the child"; });
        return COUNTER.get();
    });
    const int seen = child.join().value(); // after the child's values were destroyed
    std::cout << "child saw " << seen << '\n';
    std::cout << "main still has " << COUNTER.get() << '\n';

    // set, replace and take, as Rust's LocalKey<Cell<T>> has them.
    COUNTER.set(10);
    std::cout << "replace returned " << COUNTER.replace(20) << ", now " << COUNTER.get() << '\n';
    std::cout << "take returned " << COUNTER.take() << ", now " << COUNTER.get() << '\n';

    // state(): uninitialized until the first access on this thread.
    auto fresh = rthread::spawn([] {
        const bool before = COUNTER.state() == rthread::local_key_state::uninitialized;
        COUNTER.get();
        return before && COUNTER.state() == rthread::local_key_state::valid;
    });
    std::cout << "uninitialized, then valid: " << fresh.join().value() << '\n';

    // try_with reports access during teardown as an error instead of
    // throwing; here the value is alive.
    auto doubled = COUNTER.try_with([](int& c) { return c * 2; });
    std::cout << "try_with gave a value: " << doubled.has_value() << '\n';
}

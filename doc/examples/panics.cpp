// Panics: an exception that leaves a thread's function ends that thread
// only, is reported by the panic hook, and comes back through join().
#include <rthread/rthread.hpp>

#include <iostream>
#include <stdexcept>
#include <string_view>

struct announces_unwinding {
    ~announces_unwinding() {
        // panicking(): true while this thread unwinds because of a panic.
        std::cout << "destructor runs, panicking() = " << rthread::panicking() << '\n';
    }
};

int main() {
    std::cout << std::boolalpha;

    // RTHREAD_PANIC is Rust's panic!: a fmt format string, and the source
    // location. The default hook prints "thread '<unnamed>' (...) panicked
    // at panics.cpp:...:" and the message to stderr.
    auto child = rthread::spawn([]() -> int {
        announces_unwinding guard;
        RTHREAD_PANIC("bad value: {}", 41);
    });
    rthread::result<int> res = child.join();
    std::cout << "joined; has a value: " << res.has_value() << '\n';
    std::cout << "panic message: " << rthread::panic_message(res.error()).value() << '\n';

    // .value() on a panicked result rethrows the panic: Rust's unwrap().
    try {
        res.value();
    } catch (const rthread::panic_error& e) {
        const std::string_view file = e.location().file_name();
        std::cout << "value() rethrew: " << e.what() << ", raised in "
                  << file.substr(file.rfind('/') + 1) << '\n';
    }

    // From here on, a hook of our own instead of the default report.
    rthread::set_panic_hook([](const rthread::panic_info& info) {
        std::cout << "[hook] " << info.thread() << " panicked: " << info.message() << '\n';
    });

    // Any exception counts, of any type; a std::exception's what() or a
    // thrown string is the message, else the type is named.
    auto a = rthread::builder{}.name("worker").spawn([] { throw std::out_of_range("index 9"); });
    const std::exception_ptr out_of_range = a.value().join().error();
    std::cout << "message: " << rthread::panic_message(out_of_range).value() << '\n';
    auto b = rthread::spawn([] { throw 404; });
    const std::exception_ptr number = b.join().error();
    std::cout << "int payload has a message: " << rthread::panic_message(number).has_value()
              << '\n';

    // take_panic_hook() hands back the hook and restores the default one.
    rthread::panic_hook ours = rthread::take_panic_hook();
    std::cout << "took our hook back: " << static_cast<bool>(ours) << '\n';
}

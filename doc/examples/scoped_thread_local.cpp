// Scoped thread-locals: RTHREAD_SCOPED_THREAD_LOCAL and rthread::scoped_key
// (the scoped-tls crate). set(value, f) lends a reference to this thread
// while f runs; with(f) reaches it from anywhere below, without passing it
// down every call.
#include <rthread/rthread.hpp>

#include <iostream>
#include <string>

struct request {
    std::string path;
};

RTHREAD_SCOPED_THREAD_LOCAL(request, CURRENT_REQUEST);

void log(const std::string& what) {
    CURRENT_REQUEST.with([&](request& r) { std::cout << "[" << r.path << "] " << what << '\n'; });
}

void handle() {
    log("handling");
    request inner{"/inner"};
    CURRENT_REQUEST.set(inner, [] { log("nested binding"); });
    log("outer binding restored");
}

int main() {
    std::cout << std::boolalpha;
    std::cout << "bound before set: " << CURRENT_REQUEST.is_set() << '\n';

    request r{"/index.html"};
    CURRENT_REQUEST.set(r, [] { handle(); });

    std::cout << "bound after set: " << CURRENT_REQUEST.is_set() << '\n';

    // with() while nothing is bound panics (throws panic_error).
    try {
        log("nobody is listening");
    } catch (const rthread::panic_error& e) {
        std::cout << "unbound: " << e.what() << '\n';
    }
}

// Printing thread ids and handles as Rust's Debug does.
#include <rthread/thread.hpp>

#include <ostream>

namespace rthread {

std::ostream& operator<<(std::ostream& os, thread_id id) {
    return os << fmt::format("{}", id);
}

std::ostream& operator<<(std::ostream& os, const thread& t) {
    return os << fmt::format("{}", t);
}

} // namespace rthread

// detail::fatal (fatal.hpp): one write, then abort().
#include "fatal.hpp"

#include "sys/stack_guard.hpp"

#include <cstdlib>
#include <iterator>

namespace rthread::detail {

void fatal(std::string_view what) noexcept {
    const std::string_view parts[] = {"fatal runtime error: ", what, ", aborting\n"};
    // One write of every part (sys::write_stderr gathers them): a report is
    // not interleaved with another thread's output.
    sys::write_stderr(parts, std::size(parts));
    std::abort();
}

void abort_with(std::string_view text) noexcept {
    sys::write_stderr(&text, 1);
    std::abort();
}

} // namespace rthread::detail

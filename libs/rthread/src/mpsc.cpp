// The channels' one piece out of line (mpsc.hpp is otherwise header-only):
// the process-wide barrier of the bounded channels' asymmetric Dekker pair
// (mpsc_array.hpp), which only the seam can make.
#include <rthread/mpsc.hpp>

#include "sys/sys.hpp"

namespace rthread::detail {

bool channel_fence_asymmetric() noexcept {
    // Once a process, so that every channel (each keeps the answer it was
    // made with) and every sender of one agree with its receiver.
    static const bool works = sys::process_barrier_init();
    return works;
}

void channel_fence_heavy() noexcept {
    sys::process_barrier();
}

} // namespace rthread::detail

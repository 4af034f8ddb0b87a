// current_affinity: the calling thread's CPUs, from the seam.
#include "sys/sys.hpp"

#include <rthread/affinity.hpp>

#include <new>

namespace rthread {

boost::system::result<std::vector<std::size_t>> current_affinity() noexcept {
    try {
        std::vector<std::size_t> cpus;
        if (!sys::current_thread_cpus(cpus)) {
            return make_error_code(boost::system::errc::not_supported);
        }
        return cpus;
    } catch (const std::bad_alloc&) {
        return make_error_code(boost::system::errc::not_enough_memory);
    }
}

} // namespace rthread

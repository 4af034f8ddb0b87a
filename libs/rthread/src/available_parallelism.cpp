// available_parallelism: the affinity mask, lowered to the cgroup quota.
#include "sys/sys.hpp"

#include <rthread/available_parallelism.hpp>

#include <algorithm>

namespace rthread {

boost::system::result<std::size_t> available_parallelism() noexcept {
    const std::optional<std::size_t> cpus = sys::affinity_cpu_count();
    const std::optional<std::size_t> quota = sys::cgroup_cpu_quota("");
    if (!cpus && !quota) {
        return make_error_code(boost::system::errc::not_supported);
    }
    if (cpus && quota) {
        return std::min(*cpus, *quota);
    }
    return cpus ? *cpus : *quota;
}

} // namespace rthread

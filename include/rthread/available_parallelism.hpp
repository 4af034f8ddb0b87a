// Rust's thread::available_parallelism.
#ifndef RTHREAD_AVAILABLE_PARALLELISM_HPP
#define RTHREAD_AVAILABLE_PARALLELISM_HPP

#include <boost/system/result.hpp>

#include <cstddef>

namespace rthread {

/// The number of CPUs this process may run on, at least 1: the CPUs in its
/// affinity mask (sched_getaffinity), lowered to the Linux cgroup CPU quota
/// (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us) where one
/// is set, as Rust's does.
///
/// # Errors
/// An error code only where nothing can be read.
[[nodiscard]] boost::system::result<std::size_t> available_parallelism() noexcept;

} // namespace rthread

#endif

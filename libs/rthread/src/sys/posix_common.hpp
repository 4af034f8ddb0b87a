// What the two POSIX backends, Linux's (sys/linux.cpp) and the generic one
// (sys/posix.cpp), share beyond the functions of sys.hpp that
// sys/posix_common.cpp defines for both (the stack minimum, the thread-exit
// key, cancellation, atfork): the conversion between an OS CPU mask and the
// seam's list of CPU numbers. Never built for Windows.
#ifndef RTHREAD_SRC_SYS_POSIX_COMMON_HPP
#define RTHREAD_SRC_SYS_POSIX_COMMON_HPP

#include <cstddef>
#include <vector>

#include <sched.h>
#if defined(__FreeBSD__)
#include <pthread_np.h>
#include <sys/cpuset.h>
#endif

namespace rthread::sys {

// Per-thread CPU masks exist on Linux (cpu_set_t) and FreeBSD (cpuset_t);
// elsewhere (macOS) there are none to convert.
#if defined(__linux__) || defined(__FreeBSD__)
#if defined(__FreeBSD__)
using cpu_mask = cpuset_t;
#else
using cpu_mask = cpu_set_t;
#endif

/// Replaces cpus with the CPUs set in mask, in increasing order.
void cpus_of_mask(const cpu_mask& mask, std::vector<std::size_t>& cpus);

/// The mask of exactly cpus. False when one of them is past what a mask
/// holds (CPU_SETSIZE): no OS call could then restrict a thread to it.
bool mask_of_cpus(const std::vector<std::size_t>& cpus, cpu_mask& mask) noexcept;
#endif

} // namespace rthread::sys

#endif

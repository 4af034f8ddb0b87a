// CPU affinity: which CPUs a thread may run on. A thread is given its CPUs
// before it starts with builder::affinity() (spawn.hpp), beyond Rust's std
// (rust-lang/libs-team#195); current_affinity() reads the calling thread's.
#ifndef RTHREAD_AFFINITY_HPP
#define RTHREAD_AFFINITY_HPP

#include <boost/system/result.hpp>

#include <cstddef>
#include <vector>

namespace rthread {

/// The CPUs the calling thread may run on (indices as the OS numbers them),
/// sorted: the list builder::affinity() gave it, or what it inherited.
///
/// # Errors
/// errc::not_supported where the OS cannot say; errc::not_enough_memory.
[[nodiscard]] boost::system::result<std::vector<std::size_t>> current_affinity() noexcept;

} // namespace rthread

#endif

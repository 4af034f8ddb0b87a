// What join() gives: Rust's thread::Result.
#ifndef RTHREAD_RESULT_HPP
#define RTHREAD_RESULT_HPP

#include <boost/system/result.hpp>

#include <exception>

namespace rthread {

/// The thread's value, or its panic as the exception (Rust's
/// thread::Result). .value() on a panicked result rethrows the panic: that
/// is Rust's join().unwrap().
template <class T>
using result = boost::system::result<T, std::exception_ptr>;

} // namespace rthread

#endif

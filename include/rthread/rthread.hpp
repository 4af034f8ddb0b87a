// rthread: Rust's std::thread semantics for C++17, built on Boost.
//
// The umbrella header: every public concept of the library.
#ifndef RTHREAD_RTHREAD_HPP
#define RTHREAD_RTHREAD_HPP

#include <rthread/affinity.hpp>
#include <rthread/available_parallelism.hpp>
#include <rthread/local_key.hpp>
#include <rthread/mpsc.hpp>
#include <rthread/panic.hpp>
#include <rthread/park.hpp>
#include <rthread/parker.hpp>
#include <rthread/result.hpp>
#include <rthread/scope.hpp>
#include <rthread/scoped_key.hpp>
#include <rthread/sleep.hpp>
#include <rthread/spawn.hpp>
#include <rthread/thread.hpp>

#endif

// A spawned thread's result slot, shared by the thread and its handle (see
// lifecycle.cpp in the library for the path of a thread).
#ifndef RTHREAD_DETAIL_PACKET_HPP
#define RTHREAD_DETAIL_PACKET_HPP

#include <rthread/detail/shared_slot.hpp>

#include <boost/system/result.hpp>

#include <exception>
#include <optional>

namespace rthread::detail {

/// The result slot of one spawned thread: its value or its panic
/// (rthread::result<T>, result.hpp), once its function returned. Not
/// final: a scoped thread's packet (detail/scope_state.hpp) derives from it
/// to tell its scope about a panic nobody joined.
template <class T>
class packet : public shared_slot {
public:
    std::optional<boost::system::result<T, std::exception_ptr>> value;
};

} // namespace rthread::detail

#endif

// Private parkers (parker.hpp): a reference-counted token holding the very
// parker a thread's record holds (thread_parking.hpp, run by park.cpp), so the
// thread's token and every private token share one state machine and one
// memory-order contract.
#include "thread_parking.hpp"
#include <rthread/parker.hpp>

#include <atomic>
#include <cstddef>

namespace rthread::detail {

struct parker_token {
    std::atomic<std::size_t> refs{1};
    detail::parker parker;
};

parker_token* make_parker_token() {
    return new parker_token;
}

void intrusive_ptr_add_ref(parker_token* token) noexcept {
    // relaxed: a new reference is made from an existing one, which already
    // keeps the token alive; nothing is published by the increment.
    token->refs.fetch_add(1, std::memory_order_relaxed);
}

void intrusive_ptr_release(parker_token* token) noexcept {
    // acq_rel: every owner's use of the token happens before its deletion
    // (release), and the last owner sees all of them (acquire).
    if (token->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        delete token;
    }
}

void park_token(parker_token& token) noexcept {
    token.parker.park(deadline::never());
}

bool park_token_until(parker_token& token, deadline d) noexcept {
    return token.parker.park(d);
}

bool park_token_now(parker_token& token) noexcept {
    return token.parker.try_park();
}

void unpark_token(parker_token& token) noexcept {
    token.parker.unpark();
}

} // namespace rthread::detail

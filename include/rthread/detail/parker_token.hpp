// A parking token of its own (parker.hpp): the library's side, and the
// handle the channels wait with (detail/mpsc_waker.hpp).
#ifndef RTHREAD_DETAIL_PARKER_TOKEN_HPP
#define RTHREAD_DETAIL_PARKER_TOKEN_HPP

#include <rthread/detail/deadline.hpp>

#include <boost/smart_ptr/intrusive_ptr.hpp>

namespace rthread::detail {

// The token: a reference count and the thread parker's state machine,
// defined in libs/rthread/src/parker.cpp.
struct parker_token;
parker_token* make_parker_token(); // throws std::bad_alloc
void intrusive_ptr_add_ref(parker_token* token) noexcept;
void intrusive_ptr_release(parker_token* token) noexcept;
void park_token(parker_token& token) noexcept;
bool park_token_until(parker_token& token, deadline d) noexcept;
bool park_token_now(parker_token& token) noexcept;
void unpark_token(parker_token& token) noexcept;

/// A shared reference to a token, for the library's own waits (never a
/// thread's token): what rthread::parker and rthread::unparker hold, both
/// sides in one. Copies share the token. Throws std::bad_alloc when it is
/// made and the token cannot be allocated.
class parker_handle {
public:
    parker_handle() : token_(make_parker_token(), false) {}

    void park() noexcept { park_token(*token_); }
    /// Parks until d (never: without a timeout).
    void park_until(deadline d) noexcept {
        if (d.is_never()) {
            park_token(*token_);
        } else {
            (void)park_token_until(*token_, d);
        }
    }
    void unpark() const noexcept { unpark_token(*token_); }

private:
    boost::intrusive_ptr<parker_token> token_;
};

} // namespace rthread::detail

#endif

// The out-of-line panic of scoped_key::with (keeps the inline path small).
#include <rthread/panic.hpp>
#include <rthread/scoped_key.hpp>

namespace rthread::detail {

void throw_scoped_key_unbound() {
    // The crate's assert! message, word for word.
    RTHREAD_PANIC("cannot access a scoped thread local variable without calling `set` first");
}

} // namespace rthread::detail

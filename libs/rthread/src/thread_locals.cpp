// Placeholder until the local_key destructor table lands (issue 3): no
// local_key exists yet, so there is nothing to destroy.
#include "thread_locals.hpp"

namespace rthread::detail {

void run_thread_local_destructors() noexcept {}

} // namespace rthread::detail

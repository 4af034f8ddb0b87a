// The slow path of local_key: key indexes and the lazy-initialisation
// protocol. The fast path is inline in local_key.hpp; the per-thread table
// is in thread_locals.cpp.
#include "fatal.hpp"
#include "thread_locals.hpp"

#include <rthread/local_key.hpp>
#include <rthread/panic.hpp>

#include <boost/assert.hpp>

#include <limits>

namespace rthread::detail {

namespace {

// The next key index to hand out; 0 is "unassigned". A constant-initialised
// atomic with a trivial destructor: it is never destroyed, so keys first
// used by threads that outlive static destructors still get an index.
std::atomic<std::size_t> next_index{1};

std::size_t index_of(std::atomic<std::size_t>& index) {
    // relaxed: the index only names a slot in each thread's own table;
    // nothing else is published with it.
    std::size_t i = index.load(std::memory_order_relaxed);
    if (i != 0) {
        return i;
    }
    // relaxed: only uniqueness matters. A key that loses the race below
    // leaves a gap in the numbering, which costs one unused slot.
    const std::size_t fresh = next_index.fetch_add(1, std::memory_order_relaxed);
    if (fresh == std::numeric_limits<std::size_t>::max()) {
        fatal("rthread ran out of local_key indexes");
    }
    // relaxed: as above; on failure i holds the index another thread set.
    if (index.compare_exchange_strong(i, fresh, std::memory_order_relaxed)) {
        return fresh;
    }
    return i;
}

} // namespace

void* local_key_get_or_make(std::atomic<std::size_t>& index, void** slot,
                            const local_value_maker& maker) {
    BOOST_ASSERT(slot != nullptr && maker.make != nullptr && maker.destroy != nullptr);
    const std::size_t i = index_of(index);
    switch (thread_slot_state(i)) {
    case local_slot_state::valid:
        // The table sets the slot before it marks the state valid, and
        // clears it before it marks it destroyed.
        BOOST_ASSERT(*slot != nullptr);
        return *slot;
    case local_slot_state::destroyed:
        return nullptr;
    case local_slot_state::initializing:
        RTHREAD_PANIC("recursive initialization of a thread local: its initializer accessed "
                      "its own key");
    case local_slot_state::uninitialized:
        break;
    }
    begin_thread_slot(i);
    void* value = nullptr;
    try {
        value = maker.make(maker.context);
    } catch (...) {
        abandon_thread_slot(i);
        throw;
    }
    complete_thread_slot(i, slot, value, maker.destroy);
    return value;
}

local_slot_state local_key_state_of(const std::atomic<std::size_t>& index) noexcept {
    // relaxed: see index_of. An unassigned index (0) reads as uninitialized.
    return thread_slot_state(index.load(std::memory_order_relaxed));
}

void throw_local_access_error() {
    throw access_error();
}

} // namespace rthread::detail

// The library's one reference count: what a thread, its handle and its
// scope share (a packet, a scope's state, a thread's end event) is a
// shared_slot, held through boost::intrusive_ptr. A thread's record
// (detail/thread_inner.hpp) has a count of its own, for the main thread's
// immortal record and current()'s reserve of references, behind the same
// intrusive_ptr hooks.
#ifndef RTHREAD_DETAIL_SHARED_SLOT_HPP
#define RTHREAD_DETAIL_SHARED_SLOT_HPP

#include <boost/smart_ptr/intrusive_ptr.hpp>

#include <atomic>
#include <cstdint>

namespace rthread::detail {

/// An intrusively counted object, made with one reference.
class shared_slot {
public:
    shared_slot() = default;
    shared_slot(const shared_slot&) = delete;
    shared_slot& operator=(const shared_slot&) = delete;

    void retain() noexcept {
        // relaxed: made from a reference already held (see thread_inner).
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: the thread's writes of the result happen before the
        // owner that destroys the slot reads or destroys it.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }
    /// Takes a reference unless the count already reached zero (the slot is
    /// being destroyed): for a holder that keeps no reference of its own, as
    /// a scope's list of its threads' packets (scope_state.hpp).
    bool try_retain() noexcept {
        // relaxed: such a holder reaches the slot under its own lock, which
        // orders its accesses; the count only has to stay above zero.
        std::uint32_t n = refs_.load(std::memory_order_relaxed);
        while (n != 0) {
            if (refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
                return true;
            }
        }
        return false;
    }
    /// True once every other owner let go (for is_finished()).
    bool sole_owner() const noexcept {
        // acquire: pairs with the thread's release in release(), so a
        // caller that sees true also sees the stored result.
        return refs_.load(std::memory_order_acquire) == 1;
    }

    friend void intrusive_ptr_add_ref(shared_slot* s) noexcept { s->retain(); }
    friend void intrusive_ptr_release(shared_slot* s) noexcept { s->release(); }

protected:
    virtual ~shared_slot() = default;

private:
    std::atomic<std::uint32_t> refs_{1};
};

/// An owning pointer to a slot; adopt() takes over a reference made with it.
template <class P>
using slot_ptr = boost::intrusive_ptr<P>;

template <class P>
slot_ptr<P> adopt(P* made) noexcept {
    return slot_ptr<P>(made, false);
}

} // namespace rthread::detail

#endif

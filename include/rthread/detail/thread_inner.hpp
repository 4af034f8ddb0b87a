// The shared, reference-counted state behind every rthread::thread handle.
//
// A thread_inner is made by the registry (libs/rthread/src/registry.cpp) and
// lives as long as any handle to it: handles outlive their thread, as Rust's
// Arc<Inner> does. The full object (with the parker) is defined in the
// library; the face only needs the count, the id and the name.
#ifndef RTHREAD_DETAIL_THREAD_INNER_HPP
#define RTHREAD_DETAIL_THREAD_INNER_HPP

#include <boost/smart_ptr/intrusive_ptr.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace rthread::detail {

struct thread_inner {
    explicit thread_inner(std::uint64_t thread_id, std::optional<std::string> thread_name,
                          bool is_immortal = false)
        : immortal(is_immortal), id(thread_id), name(std::move(thread_name)) {}
    thread_inner(const thread_inner&) = delete;
    thread_inner& operator=(const thread_inner&) = delete;

    std::atomic<std::size_t> refs{1};
    // The main thread's first record lives in static storage for the whole
    // process: its handles skip reference counting, which makes current()
    // on the main thread free of atomic read-modify-writes. Read next to
    // refs, in the same cache line.
    const bool immortal;
    const std::uint64_t id;
    const std::optional<std::string> name;

protected:
    ~thread_inner() = default; // destroyed only through destroy_thread_inner()
};

// Frees an inner whose last reference went away (it knows the full type).
void destroy_thread_inner(thread_inner* inner) noexcept;

inline void retain(thread_inner* inner) noexcept {
    if (inner->immortal) {
        return;
    }
    // relaxed: a new reference is made from an existing one, which already
    // keeps the object alive; nothing is published by the increment.
    inner->refs.fetch_add(1, std::memory_order_relaxed);
}

/// Lets go of `count` references (a thread's own and its reserve at once,
/// registry.cpp).
inline void release(thread_inner* inner, std::size_t count = 1) noexcept {
    if (inner->immortal) {
        return;
    }
    // acq_rel: this owner's uses of the object happen before its destruction
    // (release), and the last owner sees all of them (acquire). A fence would
    // do for the acquire half, but ThreadSanitizer does not model fences.
    if (inner->refs.fetch_sub(count, std::memory_order_acq_rel) == count) {
        destroy_thread_inner(inner);
    }
}

// boost::intrusive_ptr's hooks (the library's one reference-count idiom,
// detail/shared_slot.hpp), with the immortal record and the reserve above.
inline void intrusive_ptr_add_ref(thread_inner* inner) noexcept {
    retain(inner);
}
inline void intrusive_ptr_release(thread_inner* inner) noexcept {
    release(inner);
}

/// An owning reference to a thread's record: what rthread::thread holds.
using thread_ref = boost::intrusive_ptr<thread_inner>;

// The calling thread's handle and id, cached for the fast paths of
// current() and current_id(). Plain thread_locals with constant
// initialisers and no destructors, so reading them costs one TLS load.
// current_thread is cleared when the thread's handle is released at its very
// end; current_thread_id is never cleared, so a handle remade after that
// (from a late destructor) keeps the thread's id.
inline thread_local thread_inner* current_thread = nullptr;
inline thread_local std::uint64_t current_thread_id = 0;

// References to current_thread the calling thread holds in reserve, so that
// current() usually makes a handle without an atomic increment: it takes one
// from here and refills a batch at a time. Only the owning thread touches
// it; the reserve goes back with the thread's own reference when the thread
// ends, and is 0 whenever current_thread is null.
inline thread_local std::size_t current_thread_spare_refs = 0;

// Takes current_thread_spare_refs from the record's count in one batch and
// keeps all but one (which the caller gets). Out of line: rare.
void refill_current_refs(thread_inner* inner) noexcept;

// A new reference to the calling thread's own inner, for current().
inline void retain_current(thread_inner* inner) noexcept {
    if (inner->immortal) {
        return;
    }
    std::size_t& spare = current_thread_spare_refs;
    if (spare != 0) {
        --spare;
        return;
    }
    refill_current_refs(inner);
}

// Slow path of current(): registers the calling thread (main, foreign or
// rthread-made) and returns its inner. The calling thread owns the
// reference; the result is borrowed.
thread_inner* init_current();

} // namespace rthread::detail

#endif

// Scoped threads: the scope's count of running threads, its list of live
// result slots, and its end (see scope.hpp, detail/scope_state.hpp).
//
// The scope waits on its own mutex and condition variable, never on the
// caller's parking token (API.md "Parking"). Every thread that ends signals
// under that mutex and the state is reference counted, so the waiter may
// return, and the scope's frame go away, while the last thread is still on
// its way out.
#include <rthread/scope.hpp>

#include <algorithm>
#include <new>

namespace rthread {

scope_panic::scope_panic(std::vector<std::exception_ptr> payloads,
                         const boost::source_location& location)
    : panic_error("a scoped thread panicked", location),
      payloads_(std::make_shared<const std::vector<std::exception_ptr>>(std::move(payloads))) {}

namespace detail {

void scope_state::enlist(scope_member& m) {
    std::lock_guard<std::mutex> lock(mutex_);
    m.spawn_index_ = next_index_++;
    m.prev_ = tail_;
    m.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &m;
    tail_ = &m;
    m.listed_ = true;
    ++running_;
}

void scope_state::thread_ended() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    // Notified under the lock: the waiter cannot see zero before we are
    // done with the condition variable (the state itself outlives us anyway,
    // through the caller's reference).
    if (--running_ == 0) {
        all_ended_.notify_all();
    }
}

void scope_state::delist(scope_member& m, std::exception_ptr panic) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (m.listed_) {
        (m.prev_ != nullptr ? m.prev_->next_ : head_) = m.next_;
        (m.next_ != nullptr ? m.next_->prev_ : tail_) = m.prev_;
        m.listed_ = false;
    }
    if (panic) {
        record(m.spawn_index_, std::move(panic));
    }
}

void scope_state::record(std::uint64_t spawn_index, std::exception_ptr panic) noexcept {
    // Called with mutex_ held.
    try {
        panics_.emplace_back(spawn_index, std::move(panic));
    } catch (const std::bad_alloc&) {
        // The scope still throws scope_panic, with one payload fewer.
        panic_lost_ = true;
    }
}

std::vector<std::exception_ptr> scope_state::settle(bool& lost) noexcept {
    for (;;) {
        scope_member* chain = nullptr;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            all_ended_.wait(lock, [this] { return running_ == 0; });
            // Every thread has ended and f has returned: a slot still listed
            // is held only by a handle that outlived f. Its result must
            // still die before scope returns; take a reference (unless its
            // last owner is destroying it right now, which delists it) so
            // that it can be destroyed outside the lock.
            for (scope_member* m = head_; m != nullptr; m = m->next_) {
                if (!m->claimed() && m->try_hold()) {
                    m->settle_next_ = chain;
                    chain = m;
                }
            }
            if (chain == nullptr) {
                std::sort(panics_.begin(), panics_.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
                std::vector<std::exception_ptr> payloads;
                try {
                    payloads.reserve(panics_.size());
                    for (auto& p : panics_) {
                        payloads.push_back(std::move(p.second));
                    }
                } catch (const std::bad_alloc&) {
                    panic_lost_ = true;
                }
                lost = panic_lost_ || payloads.size() != panics_.size();
                panics_.clear();
                panic_lost_ = false;
                return payloads;
            }
        }
        // Outside the lock: a result's destructor is user code, which may
        // spawn into this scope (Rust's
        // test_scoped_threads_drop_result_before_join) or drop handles of
        // it; the loop then waits for those threads too.
        while (chain != nullptr) {
            scope_member* m = std::exchange(chain, chain->settle_next_);
            if (m->claim()) {
                std::exception_ptr panic = m->drop_result();
                if (panic) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    record(m->spawn_index_, std::move(panic));
                }
            }
            m->let_go();
        }
    }
}

void scope_state::end(const boost::source_location& location) {
    bool lost = false;
    std::vector<std::exception_ptr> payloads = settle(lost);
    if (!payloads.empty() || lost) {
        throw scope_panic(std::move(payloads), location);
    }
}

void scope_state::end_quietly() noexcept {
    bool lost = false;
    settle(lost);
}

} // namespace detail
} // namespace rthread

// Scoped threads: the scope's count of running threads, its list of live
// result slots, and its end (see scope.hpp, detail/scope_state.hpp).
//
// The scope waits on its own countdown (detail/countdown.hpp), never on the
// caller's parking token (the library never consumes nor leaves a park
// token). The state is reference counted, so the waiter may return, and the
// scope's frame go away, while the last thread is still on its way out (its
// exit hook counts down before it lets go of the state).
#include <rthread/scope.hpp>

#include "fatal.hpp"

#include <algorithm>
#include <cstdint>
#include <new>
#include <optional>

namespace rthread {

scope_panic::scope_panic(std::vector<std::exception_ptr> payloads,
                         const boost::source_location& location)
    : panic_error("a scoped thread panicked", location),
      payloads_(std::make_shared<const std::vector<std::exception_ptr>>(std::move(payloads))) {}

namespace detail {

void scope_state::list(scope_member& m) {
    std::lock_guard<std::mutex> lock(mutex_);
    m.spawn_index_ = next_index_++;
    m.prev_ = tail_;
    m.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &m;
    tail_ = &m;
    m.listed_ = true;
    // The spawner is either the scope's caller (in f, or in a result's
    // destructor during its end) or a counted thread, whose own later count
    // down follows this one in the word's order, so the waiter cannot see
    // zero while the new thread is uncounted.
    running_.count_up();
}

void scope_state::unlist(scope_member& m, std::exception_ptr panic) noexcept {
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
        (void)running_.wait(deadline::never());
        {
            // Only this thread could count a thread again now: every scoped
            // thread has ended and f has returned.
            std::lock_guard<std::mutex> lock(mutex_);
            // Every thread has ended and f has returned: a slot still listed
            // is held only by a handle that outlived f. Its result must
            // still die before scope returns; take a reference (unless its
            // last owner is destroying it right now, which unlists it) so
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

namespace {

void run_stop_callback(once_callable& callback) noexcept {
    try {
        callback.run();
    } catch (...) {
        // A stop that cannot be delivered would leave the scope waiting for
        // threads nobody woke: end the process, as Rust ends it for a panic
        // it cannot unwind from.
        fatal("scope stop callback panicked");
    }
}

} // namespace

void scope_state::request_stop() noexcept {
    std::vector<std::unique_ptr<once_callable>> callbacks;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // relaxed: mutex_ orders this with other requests and registrations.
        if (stop_requested_.load(std::memory_order_relaxed)) {
            return;
        }
        // release: pairs with stop_requested()'s acquire.
        stop_requested_.store(true, std::memory_order_release);
        callbacks.swap(stop_callbacks_);
    }
    // Outside the lock: a callback is user code, which may use the scope.
    for (std::unique_ptr<once_callable>& callback : callbacks) {
        run_stop_callback(*callback);
        callback.reset();
    }
}

void scope_state::on_stop(std::unique_ptr<once_callable> callback) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // relaxed: mutex_ orders this with request_stop().
        if (!stop_requested_.load(std::memory_order_relaxed)) {
            stop_callbacks_.push_back(std::move(callback));
            return;
        }
    }
    run_stop_callback(*callback);
}

void scope_state::drop_stop_callbacks() noexcept {
    std::vector<std::unique_ptr<once_callable>> callbacks;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        callbacks.swap(stop_callbacks_);
    }
    // Destroyed here, on the scope's caller, outside the lock, as the
    // scope's end: not on whichever thread lets go of the state last.
}

void scope_state::end(const boost::source_location& location) {
    bool lost = false;
    std::vector<std::exception_ptr> payloads = settle(lost);
    drop_stop_callbacks();
    if (!payloads.empty() || lost) {
        throw scope_panic(std::move(payloads), location);
    }
}

void scope_state::end_quietly() noexcept {
    request_stop(); // the scope's body threw
    bool lost = false;
    settle(lost);
    drop_stop_callbacks();
}

} // namespace detail
} // namespace rthread

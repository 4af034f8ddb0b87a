// The pieces a scoped thread adds to a spawned one (see scope.hpp):
//   scope_state      - what a scope shares with its threads and their
//                      handles (Rust's ScopeData): how many threads still
//                      run, the packets nobody joined yet, the panics;
//   scoped_packet<T> - a packet<T> that, when it dies holding a panic that
//                      nobody joined, reports it to its scope;
//   scoped_task<...> - a task<...> that requests the scope's stop when it
//                      panics.
// A scoped thread's end (its exit hook, libs/rthread/src/lifecycle.cpp)
// counts down the scope's countdown, as it raises the thread's own end.
//
// Lifetime: the scope_state is reference counted (the scope, every scoped
// packet, every scoped task), because an exiting thread still touches it
// after the scope's waiter may have woken and returned; nothing a thread
// touches lives on the caller's stack.
#ifndef RTHREAD_DETAIL_SCOPE_STATE_HPP
#define RTHREAD_DETAIL_SCOPE_STATE_HPP

#include <rthread/detail/countdown.hpp>
#include <rthread/detail/packet.hpp>
#include <rthread/detail/spawn_hooks.hpp>
#include <rthread/detail/task.hpp>

#include <boost/assert/source_location.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace rthread::detail {

class scope_state;

/// What a scope knows of one of its threads' result slots. The scope lists
/// the slots that are alive (its thread or its handle still holds them), in
/// spawn order, without holding references: a slot leaves the list when it
/// dies.
class scope_member {
public:
    scope_member(const scope_member&) = delete;
    scope_member& operator=(const scope_member&) = delete;

    /// True for the one caller that gets the result: join(), or the scope
    /// when it ends with the handle still alive (the handle outlived it).
    bool claim() noexcept {
        // relaxed: every claimer holds a reference; the reference count's
        // acq_rel and the scope's mutex order the accesses to the result.
        return !claimed_.exchange(true, std::memory_order_relaxed);
    }
    bool claimed() const noexcept {
        // relaxed: as in claim().
        return claimed_.load(std::memory_order_relaxed);
    }

protected:
    scope_member() = default;
    ~scope_member() = default;

private:
    friend class scope_state;

    /// Takes a reference unless the slot is already dying.
    virtual bool try_hold() noexcept = 0;
    virtual void let_go() noexcept = 0;
    /// After a claim: destroys the result and returns its panic, if any.
    virtual std::exception_ptr drop_result() noexcept = 0;

    std::atomic<bool> claimed_{false};
    // Guarded by the scope's mutex.
    std::uint64_t spawn_index_ = 0;
    scope_member* prev_ = nullptr;
    scope_member* next_ = nullptr;
    scope_member* settle_next_ = nullptr;
    bool listed_ = false;
};

/// The state of one rthread::scope call, shared with its threads.
class scope_state final : public shared_slot {
public:
    scope_state() = default;

    /// Before a scoped thread starts: gives m its spawn index, lists it and
    /// counts its thread as running.
    void list(scope_member& m);
    /// A counted thread has ended (its exit hook), or failed to start.
    void thread_ended() noexcept { running_.count_down(); }
    /// A slot is dying: unlists it and keeps panic, the payload of a panic
    /// nobody joined, for scope_panic.
    void unlist(scope_member& m, std::exception_ptr panic) noexcept;

    /// The stop (scope_handle::request_stop): the first request sets the
    /// flag and runs the callbacks, in registration order, on the calling
    /// thread; a callback that throws ends the process.
    void request_stop() noexcept;
    bool stop_requested() const noexcept {
        // acquire: pairs with request_stop()'s release, so that what the
        // requester did before (a panic stored) is seen with the flag.
        return stop_requested_.load(std::memory_order_acquire);
    }
    /// Registers callback, or runs it at once on this thread if the stop was
    /// already requested.
    void on_stop(std::unique_ptr<once_callable> callback);

    /// The scope's end after f returned: waits until every thread has ended,
    /// destroys the results nobody joined, then throws rthread::scope_panic
    /// (at location) if a thread panicked and nobody joined it.
    void end(const boost::source_location& location);
    /// The scope's end while f's exception passes: requests the stop, then
    /// as end(), but the panics are dropped (f's exception wins, as in
    /// Rust).
    void end_quietly() noexcept;

private:
    ~scope_state() override = default;

    // Waits, settles the results of handles that outlived f, until no
    // thread runs and nothing is left to settle. Returns the panics nobody
    // joined, in spawn order; lost is set when one could not be kept.
    std::vector<std::exception_ptr> settle(bool& lost) noexcept;
    void record(std::uint64_t spawn_index, std::exception_ptr panic) noexcept;

    // At the end: destroys the stop callbacks that never ran.
    void drop_stop_callbacks() noexcept;

    // The counted threads that have not ended.
    countdown running_;
    std::mutex mutex_;
    // Guarded by mutex_.
    std::uint64_t next_index_ = 0;
    scope_member* head_ = nullptr;
    scope_member* tail_ = nullptr;
    std::vector<std::pair<std::uint64_t, std::exception_ptr>> panics_;
    bool panic_lost_ = false;
    std::vector<std::unique_ptr<once_callable>> stop_callbacks_;
    // Written under mutex_, read without it.
    std::atomic<bool> stop_requested_{false};
};

/// The result slot of one scoped thread.
template <class T>
class scoped_packet final : public packet<T>, public scope_member {
public:
    explicit scoped_packet(scope_state& owner) noexcept : scope_(&owner) { owner.retain(); }

    ~scoped_packet() override {
        // Nobody joined it and nobody will: Rust's Packet::drop reports an
        // unhandled panic the same way. The value itself dies after this
        // body, in ~packet(), outside the scope's lock: its destructor is
        // user code, which may use the scope.
        std::exception_ptr panic;
        if (!claimed() && this->value && this->value->has_error()) {
            panic = std::move(*this->value).error();
        }
        scope_->unlist(*this, std::move(panic));
        scope_->release();
    }

private:
    bool try_hold() noexcept override { return this->try_retain(); }
    void let_go() noexcept override { this->release(); }
    std::exception_ptr drop_result() noexcept override {
        std::exception_ptr panic;
        if (this->value) {
            if (this->value->has_error()) {
                panic = std::move(*this->value).error();
            }
            this->value.reset();
        }
        return panic;
    }

    scope_state* scope_;
};

/// A scoped thread's body: the task, plus the scope's count.
template <class T, class F, class... Args>
class scoped_task final : public task<T, F, Args...> {
public:
    template <class G, class... A>
    scoped_task(scope_state& owner, packet<T>* result_slot, G&& f, A&&... args)
        : task<T, F, Args...>(result_slot, std::forward<G>(f), std::forward<A>(args)...),
          scope_(&owner) {
        owner.retain();
    }
    ~scoped_task() override { scope_->release(); }

    void panicked() noexcept override {
        // As the panic is stored, before the thread counts as finished:
        // whoever waits for it is told first (crossbeam-rs/crossbeam#196).
        scope_->request_stop();
    }

private:
    scope_state* const scope_;
};

} // namespace rthread::detail

#endif

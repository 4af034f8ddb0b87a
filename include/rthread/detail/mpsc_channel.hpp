// The shared state of one mpsc channel (mpsc.hpp): a FIFO guarded by one
// mutex, and the threads blocked on it, each parked on a private parker
// (parker.hpp), never on its thread's own token.
//
// Why a mutex-guarded queue and not the lock-free list and array of Rust's
// std::sync::mpmc (crossbeam-channel's design): doc/design.md, with the
// figures of tools/bench/mpsc_bench.cpp.
//
// Storage: an unbounded channel keeps its values in a std::deque (one
// allocation per block of values, none per value); a bounded one in a ring
// of `bound` slots allocated once (one slot for a rendezvous), so sending on
// it never allocates. Both insert with the strong guarantee: a move
// constructor that throws leaves the queue as it was.
//
// Waiting: the receiver parks on a parker of the channel's own (one
// receiver, one parker); a blocked sender on its thread's channel parker.
// Each registers under the mutex and parks with the mutex released; whoever
// changes what it waits for wakes it, after unlocking where it can (a thread
// woken under our mutex would only wake to wait for it). The parker's token
// saturates, so a wake-up between the registration and the park is never
// lost; a stale one (left for an earlier wait that timed out) is a spurious
// wake-up, which every wait loop re-checks.
// This header is private: mpsc.hpp includes it.
#ifndef RTHREAD_DETAIL_MPSC_CHANNEL_HPP
#define RTHREAD_DETAIL_MPSC_CHANNEL_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/parker.hpp>

#include <boost/intrusive/list.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <cstddef>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace rthread::detail {

/// The parker a sender blocks on in any channel, and its unparker. One a
/// thread is enough: a thread waits on one channel at a time. Never the
/// thread's own token.
struct channel_parker {
    rthread::parker own;
    const rthread::unparker waker = own.unparker();

    static channel_parker& of_this_thread() {
        static thread_local channel_parker mine;
        return mine;
    }
};

/// Runs s.pop() when the scope it guards ends without a new exception: the
/// value was moved out of the queue into its destination.
template <class State>
class pop_on_success {
public:
    explicit pop_on_success(State& s) noexcept : state_(s) {}
    pop_on_success(const pop_on_success&) = delete;
    pop_on_success& operator=(const pop_on_success&) = delete;
    ~pop_on_success() {
        if (std::uncaught_exceptions() == exceptions_) {
            state_.pop();
        }
    }

private:
    State& state_;
    const int exceptions_ = std::uncaught_exceptions();
};

/// A fixed ring of slots for the bounded channel: allocated once.
template <class T>
class ring_queue {
public:
    explicit ring_queue(std::size_t capacity)
        : slots_(capacity == 0 ? nullptr : new slot[capacity]), capacity_(capacity) {}
    ring_queue(const ring_queue&) = delete;
    ring_queue& operator=(const ring_queue&) = delete;
    ~ring_queue() { clear(); }

    bool empty() const noexcept { return size_ == 0; }
    bool full() const noexcept { return size_ == capacity_; }
    /// Strong guarantee: if T's move throws, nothing changed.
    void push(T&& v) {
        ::new (static_cast<void*>(slots_[index(size_)].bytes)) T(std::move(v));
        ++size_;
    }
    T& front() noexcept { return *std::launder(reinterpret_cast<T*>(slots_[head_].bytes)); }
    void pop() noexcept {
        front().~T();
        head_ = index(1);
        --size_;
    }
    void clear() noexcept {
        while (!empty()) {
            pop();
        }
    }

private:
    struct slot {
        alignas(T) unsigned char bytes[sizeof(T)];
    };
    std::size_t index(std::size_t offset) const noexcept {
        const std::size_t i = head_ + offset; // head_ < capacity_, offset <= capacity_
        return i >= capacity_ ? i - capacity_ : i;
    }

    std::unique_ptr<slot[]> slots_;
    std::size_t capacity_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

/// One blocked sender: a node on its own stack, linked while it waits.
struct channel_waiter : boost::intrusive::list_base_hook<> {
    const rthread::unparker* unparker = nullptr;
};

/// Why a send did not happen.
enum class send_failure { full, disconnected };
/// Why a receive found nothing.
enum class recv_failure { empty, disconnected };

template <class T>
class channel_state {
public:
    /// bound: std::nullopt for an unbounded channel, else the capacity
    /// (0: rendezvous, which keeps the one value being handed over).
    explicit channel_state(std::optional<std::size_t> bound)
        : bound_(bound), ring_(bound ? (*bound == 0 ? 1 : *bound) : 0) {
        if (!bound) {
            list_.emplace();
        }
    }
    channel_state(const channel_state&) = delete;
    channel_state& operator=(const channel_state&) = delete;

    // ---- lifetime: one count for the memory, one for the senders ----------

    void retain() noexcept {
        // relaxed: a new reference is made from one that keeps us alive.
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: every owner's use happens before the deletion (release),
        // and the last owner sees all of them (acquire).
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this; // values still queued are destroyed with the last end
        }
    }
    void retain_sender() noexcept {
        // relaxed: made from a live sender, so the count is not 0 here.
        senders_.fetch_add(1, std::memory_order_relaxed);
        retain();
    }
    void release_sender() noexcept {
        // acq_rel: the last sender sees every other sender's end; what they
        // sent is published to the receiver by the mutex, as always.
        if (senders_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard<std::mutex> lock(mutex_);
            senders_gone_ = true;
            wake_receiver();
        }
        release();
    }
    /// The receiver's end: later sends fail and queued values are destroyed
    /// now, outside the mutex (a value's destructor may use the channel),
    /// except a rendezvous value whose blocked sender takes it back.
    void release_receiver() noexcept {
        bool discard = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            receiver_gone_ = true;
            discard = handover_ == nullptr;
            wake_all_senders();
        }
        // No sender touches the queue once receiver_gone_ is set, but one
        // taking its rendezvous value back (then it is not discarded here).
        if (discard) {
            if (list_) {
                list_->clear();
            } else {
                ring_.clear();
            }
        }
        release();
    }

    // ---- sending -----------------------------------------------------------

    /// Sends v, waiting for room until d (d.at == 0: never waits). Returns
    /// R() when sent, else fail(value, why) with the value not sent: v,
    /// or the rendezvous value the receiver left behind when it went.
    template <class R, class Fail>
    R send(T& v, deadline d, Fail fail) {
        std::unique_lock<std::mutex> lock(mutex_);
        const bool rendezvous = bound_ && *bound_ == 0;
        if (receiver_gone_) {
            return fail(v, send_failure::disconnected);
        }
        if (rendezvous && d.at == nanos::zero()) {
            // try_send: only a receiver already waiting takes it.
            if (!receiver_waiting_ || !ring_.empty()) {
                return fail(v, send_failure::full);
            }
        } else if (bound_ && !wait_for_room(lock, d)) {
            return fail(v, receiver_gone_ ? send_failure::disconnected : send_failure::full);
        }
        // Strong guarantee: a move that throws leaves the queue as it was.
        if (list_) {
            list_->push_back(std::move(v));
        } else {
            try {
                ring_.push(std::move(v));
            } catch (...) {
                // We may have been woken for this room: pass it on, or a
                // sender still waiting would wait beside a free slot.
                wake_one_sender();
                throw;
            }
            ++pushed_;
        }
        if (rendezvous && d.at != nanos::zero()) {
            wake_receiver();
            if (!wait_for_pickup(lock)) {
                // The receiver went and left our value in the slot: hand it
                // back. If that move throws, the value stays and dies with
                // the channel.
                pop_on_success<ring_queue<T>> taken(ring_);
                return fail(ring_.front(), send_failure::disconnected);
            }
            return R();
        }
        // Wake the receiver after unlocking, so that it does not wake only
        // to wait for our mutex. Its parker is ours (we hold a reference).
        // Cleared here, so that the sends until it runs again do not wake
        // it again; it registers anew if it finds nothing.
        const bool wake = std::exchange(receiver_waiting_, false);
        lock.unlock();
        if (wake) {
            receiver_unparker_.unpark();
        }
        return R();
    }

    // ---- receiving ---------------------------------------------------------

    /// Waits until d (d.at == 0: never waits) for a value. Returns
    /// R(in_place_value, value) and takes the value off the queue, or
    /// fail(why). A move that throws leaves the value at the front.
    template <class R, class Fail>
    R recv(deadline d, Fail fail) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (!queue_empty()) {
                break;
            }
            if (senders_gone_) {
                return fail(recv_failure::disconnected);
            }
            if (d.at == nanos::zero() || d.has_passed()) {
                return fail(recv_failure::empty);
            }
            receiver_waiting_ = true;
            lock.unlock();
            park_until(receiver_parker_, d);
            lock.lock();
            receiver_waiting_ = false;
        }
        // Pops once the value is moved out, then unlocks, then wakes.
        take_guard taken(*this, lock);
        return R(boost::system::in_place_value, std::move(front()));
    }

private:
    ~channel_state() = default;

    /// The senders a receive lets on, woken once the mutex is released:
    /// copies of their unparkers, as a woken sender may leave at once.
    struct wakeups {
        std::optional<rthread::unparker> handover; // the rendezvous sender
        std::optional<rthread::unparker> sender;   // one waiting for room
        void run() const noexcept {
            if (handover) {
                handover->unpark();
            }
            if (sender) {
                sender->unpark();
            }
        }
    };

    /// Pops the front value when the receive it guards ends without a new
    /// exception (the value was moved out), then unlocks and wakes.
    class take_guard {
    public:
        take_guard(channel_state& s, std::unique_lock<std::mutex>& lock) noexcept
            : state_(s), lock_(lock) {}
        take_guard(const take_guard&) = delete;
        take_guard& operator=(const take_guard&) = delete;
        ~take_guard() {
            if (std::uncaught_exceptions() != exceptions_) {
                return;
            }
            const wakeups w = state_.pop();
            lock_.unlock();
            w.run();
        }

    private:
        channel_state& state_;
        std::unique_lock<std::mutex>& lock_;
        const int exceptions_ = std::uncaught_exceptions();
    };

    T& front() noexcept { return list_ ? list_->front() : ring_.front(); }

    /// Takes the front value away (it was moved from); says whom to wake.
    wakeups pop() noexcept {
        wakeups w;
        if (list_) {
            list_->pop_front();
            return w;
        }
        ring_.pop();
        ++popped_;
        if (handover_ != nullptr) {
            w.handover.emplace(*handover_);
        }
        if (!waiters_.empty()) {
            channel_waiter& next = waiters_.front();
            waiters_.pop_front();
            w.sender.emplace(*next.unparker);
        }
        return w;
    }

    static void park_until(rthread::parker& p, deadline d) noexcept {
        if (d.is_never()) {
            p.park();
        } else {
            p.park_timeout(d.at - std::chrono::steady_clock::now().time_since_epoch());
        }
    }

    bool queue_empty() const noexcept { return list_ ? list_->empty() : ring_.empty(); }

    /// Bounded: waits until there is room (for a rendezvous: the slot is
    /// free of another value being handed over), the receiver is gone, or
    /// d. True when the send may go ahead.
    bool wait_for_room(std::unique_lock<std::mutex>& lock, deadline d) {
        channel_waiter self;
        for (;;) {
            if (receiver_gone_) {
                return false;
            }
            if (!ring_.full()) {
                return true;
            }
            if (d.at == nanos::zero() || d.has_passed()) {
                break;
            }
            channel_parker& me = channel_parker::of_this_thread();
            self.unparker = &me.waker;
            waiters_.push_back(self);
            lock.unlock();
            park_until(me.own, d);
            lock.lock();
            if (self.is_linked()) {
                waiters_.erase(waiters_.iterator_to(self));
            }
        }
        if (!ring_.full()) {
            // Woken for room this send will not use: pass the wake-up on.
            wake_one_sender();
        }
        return false;
    }

    /// Rendezvous: waits until the receiver took the value this send put
    /// in the slot (true), or went without it (false: it is still there).
    bool wait_for_pickup(std::unique_lock<std::mutex>& lock) {
        const std::uint64_t mine = pushed_ - 1;
        channel_parker& me = channel_parker::of_this_thread();
        handover_ = &me.waker;
        while (popped_ <= mine && !receiver_gone_) {
            lock.unlock();
            me.own.park();
            lock.lock();
        }
        // A sender let on by our pickup may already wait for its own.
        if (handover_ == &me.waker) {
            handover_ = nullptr;
        }
        return popped_ > mine;
    }

    void wake_receiver() noexcept {
        if (std::exchange(receiver_waiting_, false)) {
            receiver_unparker_.unpark();
        }
    }
    void wake_one_sender() noexcept {
        if (!waiters_.empty()) {
            channel_waiter& w = waiters_.front();
            waiters_.pop_front();
            w.unparker->unpark();
        }
    }
    void wake_all_senders() noexcept {
        while (!waiters_.empty()) {
            wake_one_sender();
        }
        if (handover_ != nullptr) {
            handover_->unpark();
        }
    }

    std::atomic<std::size_t> refs_{2};    // the first sender and the receiver
    std::atomic<std::size_t> senders_{1}; // live sender handles
    std::mutex mutex_;
    // The receiver waits on this one: one receiver, one parker, alive as
    // long as the channel, so a sender may unpark it after unlocking.
    rthread::parker receiver_parker_;
    const rthread::unparker receiver_unparker_ = receiver_parker_.unparker();
    // Guarded by mutex_ from here on (the ring also by receiver_gone_, above).
    const std::optional<std::size_t> bound_;
    std::optional<std::deque<T>> list_; // unbounded
    ring_queue<T> ring_;                // bounded (no slots when unbounded)
    std::uint64_t pushed_ = 0;          // bounded: values sent so far
    std::uint64_t popped_ = 0;          // bounded: values received so far
    bool senders_gone_ = false;
    bool receiver_gone_ = false;
    bool receiver_waiting_ = false;                  // the receiver is parked on receiver_parker_
    const rthread::unparker* handover_ = nullptr;    // a rendezvous sender, till pickup
    boost::intrusive::list<channel_waiter> waiters_; // senders waiting for room
};

} // namespace rthread::detail

#endif

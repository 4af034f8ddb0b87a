// The rendezvous channel (sync_channel(0), mpsc_channel.hpp): one slot
// under a mutex, as Rust's std::sync::mpmc `zero.rs` is a mutex-guarded
// hand-over. A send puts its value in the slot, wakes the receiver and
// waits until the count of values received passes it; if the receiver goes
// first, the value comes back out of the slot. try_send succeeds only when
// the receiver is already waiting in recv.
//
// Waiting: the receiver on the channel's receiver_waker's parker, a sender
// on its thread's channel parker; each registers under the mutex and parks
// with it released; whoever changes what it waits for wakes it, after
// unlocking where it can (copies of unparkers, as a woken sender may leave).
// This header is private: mpsc.hpp includes it.
#ifndef RTHREAD_DETAIL_MPSC_ZERO_HPP
#define RTHREAD_DETAIL_MPSC_ZERO_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/detail/mpsc_list.hpp>
#include <rthread/detail/mpsc_waker.hpp>

#include <cstdint>
#include <mutex>
#include <new>
#include <optional>
#include <utility>

namespace rthread::detail {

/// Why a send did not happen.
enum class send_failure { full, disconnected };
/// Why a receive found nothing.
enum class recv_failure { empty, disconnected };

template <class T>
class zero_channel {
public:
    zero_channel() = default;
    zero_channel(const zero_channel&) = delete;
    zero_channel& operator=(const zero_channel&) = delete;
    ~zero_channel() {
        if (full_) {
            value()->~T();
        }
    }

    /// Sends v, waiting until it was received (d.at == 0: try_send, only
    /// to a receiver already waiting). Returns R() when received, else
    /// fail(value, why): v, or the value the receiver left in the slot.
    template <class R, class Fail>
    R send(T& v, deadline d, Fail fail) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (receiver_gone_) {
            return fail(v, send_failure::disconnected);
        }
        if (d.at == nanos::zero()) {
            if (!receiver_waiting_ || full_) {
                return fail(v, send_failure::full);
            }
        } else if (!wait_for_room(lock)) {
            return fail(v, send_failure::disconnected);
        }
        // Strong guarantee: a move that throws leaves the slot empty.
        try {
            ::new (static_cast<void*>(bytes_)) T(std::move(v));
        } catch (...) {
            // We may have been woken for this room: pass it on, or a
            // sender still waiting would wait beside a free slot.
            wake_one_sender();
            throw;
        }
        full_ = true;
        ++pushed_;
        if (d.at == nanos::zero()) {
            // The receiver waits: it takes the value, we do not wait.
            const bool wake = std::exchange(receiver_waiting_, false);
            lock.unlock();
            if (wake) {
                receiver_.unpark();
            }
            return R();
        }
        wake_receiver();
        if (!wait_for_pickup(lock)) {
            // The receiver went and left our value in the slot: hand it
            // back. If that move throws, the value stays and dies with the
            // channel.
            R r = fail(*value(), send_failure::disconnected);
            value()->~T();
            full_ = false;
            return r;
        }
        return R();
    }

    /// Waits until d (d.at == 0: never waits) for a value. Returns
    /// R(in_place_value, value), or fail(why). A move that throws leaves
    /// the value in the slot.
    // Out of line (as send()): a hand-over always takes the mutex, and the
    // queued flavours' receive, which shares the caller, stays small.
    template <class R, class Fail>
    BOOST_NOINLINE R recv(deadline d, Fail fail) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            if (full_) {
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
            receiver_.park_until(d);
            lock.lock();
            receiver_waiting_ = false;
        }
        R r(boost::system::in_place_value, std::move(*value()));
        value()->~T();
        full_ = false;
        ++popped_;
        // The sender waiting for pickup and one waiting for the slot, woken
        // after the unlock: copies of their unparkers.
        std::optional<parker_handle> handover;
        std::optional<parker_handle> next;
        if (handover_ != nullptr) {
            handover.emplace(*handover_);
        }
        if (!waiters_.empty()) {
            next.emplace(*waiters_.front().unparker);
            waiters_.pop_front();
        }
        lock.unlock();
        if (handover) {
            handover->unpark();
        }
        if (next) {
            next->unpark();
        }
        return r;
    }

    void disconnect_senders() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        senders_gone_ = true;
        wake_receiver();
    }
    /// Later sends fail. A value in the slot stays for its blocked sender
    /// to take back; one that has none (a try_send's, to a receiver that
    /// timed out) is destroyed here, outside the mutex (its destructor may
    /// use the channel): no sender touches the slot once receiver_gone_ is set.
    void disconnect_receiver() noexcept {
        bool discard = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            receiver_gone_ = true;
            discard = full_ && handover_ == nullptr;
            while (!waiters_.empty()) {
                wake_one_sender();
            }
            if (handover_ != nullptr) {
                handover_->unpark();
            }
        }
        if (discard) {
            value()->~T();
            full_ = false;
        }
    }

private:
    T* value() noexcept { return std::launder(reinterpret_cast<T*>(bytes_)); }

    /// Waits until the slot is free of another value being handed over, or
    /// the receiver is gone (false).
    bool wait_for_room(std::unique_lock<std::mutex>& lock) {
        channel_waiter self;
        while (!receiver_gone_ && full_) {
            channel_parker& me = channel_parker::of_this_thread();
            self.unparker = &me.own;
            waiters_.push_back(self);
            lock.unlock();
            me.own.park();
            lock.lock();
            if (self.is_linked()) {
                waiters_.erase(self);
            }
        }
        return !receiver_gone_; // gone: every waiter was woken
    }

    /// Waits until the receiver took the value this send put in the slot
    /// (true), or went without it (false: it is still there).
    bool wait_for_pickup(std::unique_lock<std::mutex>& lock) {
        const std::uint64_t mine = pushed_ - 1;
        channel_parker& me = channel_parker::of_this_thread();
        handover_ = &me.own;
        while (popped_ <= mine && !receiver_gone_) {
            lock.unlock();
            me.own.park();
            lock.lock();
        }
        // A sender let on by our pickup may already wait for its own.
        if (handover_ == &me.own) {
            handover_ = nullptr;
        }
        return popped_ > mine;
    }

    void wake_receiver() noexcept {
        if (std::exchange(receiver_waiting_, false)) {
            receiver_.unpark();
        }
    }
    void wake_one_sender() noexcept {
        if (!waiters_.empty()) {
            channel_waiter& w = waiters_.front();
            waiters_.pop_front();
            w.unparker->unpark();
        }
    }

    std::mutex mutex_;
    // The receiver waits on this one, alive as long as the channel, so a
    // sender may unpark it after unlocking.
    parker_handle receiver_;
    // Guarded by mutex_.
    alignas(T) unsigned char bytes_[sizeof(T)];
    bool full_ = false;
    std::uint64_t pushed_ = 0; // values put in the slot so far
    std::uint64_t popped_ = 0; // values received so far
    bool senders_gone_ = false;
    bool receiver_gone_ = false;
    bool receiver_waiting_ = false;           // the receiver is parked on receiver_
    const parker_handle* handover_ = nullptr; // the sender whose value is in the slot
    waiter_queue waiters_;                    // senders waiting for the slot
};

} // namespace rthread::detail

#endif

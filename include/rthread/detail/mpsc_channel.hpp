// The shared state of one mpsc channel (mpsc.hpp): Rust's std::sync::mpmc
// `counter.rs` (a count of senders, the receiver, and the memory) over one
// of three flavours, as Rust's:
// - channel(): list_queue (mpsc_list.hpp), a lock-free list of blocks;
// - sync_channel(n > 0): array_queue (mpsc_array.hpp), a ring of stamped
//   slots allocated once, so sending on it never allocates;
// - sync_channel(0): zero_channel (mpsc_zero.hpp), a hand-over under a mutex.
// doc/design.md says how they differ from Rust's (throwing moves, private
// parkers, one consumer).
//
// Waiting: the receiver on a parker of the channel's own (receiver_waker),
// a blocked sender on its thread's channel parker (sender_wakers), never
// on a thread's own token (mpsc_waker.hpp).
// This header is private: mpsc.hpp includes it.
#ifndef RTHREAD_DETAIL_MPSC_CHANNEL_HPP
#define RTHREAD_DETAIL_MPSC_CHANNEL_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/detail/mpsc_array.hpp>
#include <rthread/detail/mpsc_list.hpp>
#include <rthread/detail/mpsc_waker.hpp>
#include <rthread/detail/mpsc_zero.hpp>
#include <rthread/detail/shared_slot.hpp>

#include <boost/system/result.hpp>

#include <atomic>
#include <cstddef>
#include <optional>

namespace rthread::detail {

/// The memory is a shared_slot (the library's one count): a reference for
/// every sender handle and one for the receiver.
template <class T>
class channel_state final : public shared_slot {
public:
    /// bound: std::nullopt for an unbounded channel, else the capacity
    /// (0: rendezvous). Made with two references: the first sender's and
    /// the receiver's.
    explicit channel_state(std::optional<std::size_t> bound) {
        retain();
        // Read here, once a process, so that no wait ever allocates for it
        // (available_parallelism() may read files).
        (void)channel_yields_pay();
        if (!bound) {
            list_.emplace();
        } else if (*bound == 0) {
            zero_.emplace();
        } else {
            // The asymmetric pair on one CPU only: there the barrier has no
            // other CPU to interrupt and the receiver's fence is pure cost
            // (bounded receives 21 -> 12 ns); on more, the barrier
            // interrupts every CPU running the process each time a sender
            // blocks, and the faster receiver empties the ring, then
            // chases the sender a message at a time (28 -> 150 ns
            // unpinned, doc/performance.md).
            array_.emplace(*bound, channel_yields_pay() && channel_fence_asymmetric());
        }
    }
    channel_state(const channel_state&) = delete;
    channel_state& operator=(const channel_state&) = delete;

    // ---- lifetime: one count for the memory, one for the senders ----------

    void retain_sender() noexcept {
        // relaxed: made from a live sender, so the count is not 0 here.
        senders_.fetch_add(1, std::memory_order_relaxed);
        retain();
    }
    void release_sender() noexcept {
        // acq_rel: the last sender sees every other sender's end; what they
        // sent reaches the receiver through the queue's own orders.
        if (senders_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            if (list_) {
                list_->disconnect();
                receiver_.notify();
            } else if (array_) {
                array_->disconnect();
                receiver_.notify();
            } else {
                zero_->disconnect_senders();
            }
        }
        release();
    }
    /// The receiver's end: later sends fail and queued values are destroyed
    /// now, except a rendezvous value whose blocked sender takes it back.
    void release_receiver() noexcept {
        if (list_) {
            list_->disconnect();
            list_->discard();
        } else if (array_) {
            array_->disconnect();
            senders_waiting_.notify_all();
            array_->discard();
        } else {
            zero_->disconnect_receiver();
        }
        release();
    }

    // ---- sending -----------------------------------------------------------

    /// Sends v, waiting for room until d (d.at == 0: never waits). Returns
    /// R() when sent, else fail(value, why) with the value not sent: v,
    /// or the rendezvous value the receiver left behind when it went.
    /// What T's move throws propagates, v not sent.
    template <class R, class Fail>
    R send(T& v, deadline d, Fail fail) {
        if (list_) {
            if (!list_->push(v, receiver_)) {
                return fail(v, send_failure::disconnected);
            }
            return R();
        }
        if (zero_) {
            return zero_->template send<R>(v, d, fail);
        }
        channel_backoff backoff; // before blocking: no freed slot then costs a wake-up
        for (;;) {
            push_state pushed;
            try {
                pushed = array_->try_push(v, receiver_);
            } catch (...) {
                // The move threw. If it gave its slot back, we may have been
                // woken for that room: pass it on, or a sender still waiting
                // would wait beside a free slot. (A hole hands its room on
                // when the receiver passes it.)
                if (!array_->is_full()) {
                    senders_waiting_.notify_one();
                }
                throw;
            }
            switch (pushed) {
            case push_state::sent:
                return R();
            case push_state::disconnected:
                return fail(v, send_failure::disconnected);
            case push_state::full:
                break;
            }
            if (d.at == nanos::zero()) {
                return fail(v, send_failure::full);
            }
            if (d.has_passed()) {
                // We may have been woken for room we will not use: pass it on.
                if (!array_->is_full()) {
                    senders_waiting_.notify_one();
                }
                return fail(v, send_failure::full);
            }
            if (backoff.snooze()) {
                continue;
            }
            channel_parker& me = channel_parker::of_this_thread();
            channel_waiter self;
            self.unparker = &me.own;
            senders_waiting_.list(self);
            if (array_->light()) {
                channel_fence_heavy();
            }
            if (array_->is_full()) {
                me.own.park_until(d);
            }
            senders_waiting_.unlist(self);
            backoff.reset();
        }
    }

    // ---- receiving ---------------------------------------------------------

    /// Waits until d (d.at == 0: never waits) for a value. Returns
    /// R(in_place_value, value) and takes the value off the queue, or
    /// fail(why). A move that throws leaves the value at the front.
    template <class R, class Fail>
    R recv(deadline d, Fail fail) {
        if (list_) {
            return receive<R>(*list_, d, fail);
        }
        if (array_) {
            return receive<R>(*array_, d, fail);
        }
        return zero_->template recv<R>(d, fail);
    }

private:
    ~channel_state() override = default; // values still queued die with the last end

    front_state front(list_queue<T>& q, T*& out) noexcept { return q.front(out); }
    front_state front(array_queue<T>& q, T*& out) noexcept {
        return q.front(out, senders_waiting_);
    }
    void pop(list_queue<T>& q) noexcept { q.pop(); }
    void pop(array_queue<T>& q) noexcept { q.pop(senders_waiting_); }

    template <class R, class Queue, class Fail>
    R receive(Queue& q, deadline d, Fail fail) {
        // One look first, inlined where recv() is called: the common case
        // (a value waiting) builds its result in registers and returns.
        T* v = q.ready_front();
        if (BOOST_UNLIKELY(v == nullptr)) {
            const front_state s = wait_front(q, v, d);
            if (s != front_state::ready) {
                return fail(s == front_state::empty ? recv_failure::empty
                                                    : recv_failure::disconnected);
            }
        }
        R r(boost::system::in_place_value, std::move(*v)); // throws: the value stays
        pop(q);
        return r;
    }

    /// receive() when its first look found no value: holes are skipped,
    /// and the wait until d backs off, then parks. Out of line, so that
    /// the first look stays small enough to inline.
    template <class Queue>
    BOOST_NOINLINE front_state wait_front(Queue& q, T*& v, deadline d) noexcept {
        channel_backoff backoff; // before parking: no send then costs a wake-up
        for (;;) {
            front_state s = front(q, v);
            if (s == front_state::empty && d.at != nanos::zero() && !d.has_passed()) {
                if (backoff.snooze()) {
                    // Until the next whole look, only the front slot: a
                    // look at the tail would take its line from the senders.
                    v = q.ready_front();
                    if (v != nullptr) {
                        return front_state::ready;
                    }
                    continue;
                }
                receiver_.prepare();
                s = front(q, v); // the last look, after prepare()
                if (s == front_state::empty) {
                    receiver_.park(d);
                    receiver_.cancel();
                    backoff.reset();
                    continue;
                }
                receiver_.cancel();
            }
            return s;
        }
    }

    std::atomic<std::size_t> senders_{1}; // live sender handles
    receiver_waker receiver_;             // list and array
    sender_wakers senders_waiting_;       // array
    // One of the three, fixed at construction.
    std::optional<list_queue<T>> list_;
    std::optional<array_queue<T>> array_;
    std::optional<zero_channel<T>> zero_;
};

} // namespace rthread::detail

#endif

// The bounded channel's queue (mpsc_channel.hpp): Rust's std::sync::mpmc
// `array.rs` (crossbeam-channel's array flavour, after Dmitry Vyukov's
// bounded MPMC queue), for one consumer. A ring of `cap` slots allocated
// once, each with a stamp; head and tail are indices whose low bits are
// the slot and whose high bits the lap (one_lap, a power of two above
// cap; mark_bit, the bit below it, in the tail: disconnected). A slot is
// free for the sender whose tail equals its stamp, holds a value when its
// stamp is head + 1, and is handed back to the next lap by the receiver
// (stamp = head + one_lap). A sender reserves with one CAS on the tail.
// The mark bit is free in a stamp: there it marks a hole (below).
//
// Differences from Rust's, for C++ (as in mpsc_list.hpp): a move that
// throws gives its slot back when no later send reserved one, else leaves
// a hole the receiver skips (stamp = tail + 1 with the mark bit: it takes
// room until the receiver passes it);
// the head is the receiver's own (a store, not a CAS). No allocation after
// construction.
// This header is private: mpsc.hpp includes it.
#ifndef RTHREAD_DETAIL_MPSC_ARRAY_HPP
#define RTHREAD_DETAIL_MPSC_ARRAY_HPP

#include <rthread/detail/mpsc_list.hpp>
#include <rthread/detail/mpsc_waker.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace rthread::detail {

/// What a bounded send found.
enum class push_state { sent, full, disconnected };

template <class T>
class array_queue {
public:
    struct slot {
        std::atomic<std::size_t> stamp{0};
        alignas(T) unsigned char bytes[sizeof(T)];
        T* value() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
    };

    /// cap >= 1, and small enough that cap slots can be addressed
    /// (sync_channel checks), so one_lap does not overflow. light: the
    /// receiver frees slots without a fence of its own, and a sender about
    /// to block makes the heavy one (channel_fence_asymmetric()).
    array_queue(std::size_t cap, bool light)
        : cap_(cap), mark_bit_(lap_above(cap)), one_lap_(mark_bit_ * 2), light_(light),
          slots_(new slot[cap]) {
        for (std::size_t i = 0; i < cap; ++i) {
            slots_[i].stamp.store(i, std::memory_order_relaxed);
        }
    }
    array_queue(const array_queue&) = delete;
    array_queue& operator=(const array_queue&) = delete;
    ~array_queue() { discard(); }

    /// Sends v if there is room. When T's move throws, the slot becomes a
    /// hole and the exception propagates; v is where it was.
    push_state try_push(T& v, receiver_waker& rx) {
        std::size_t tail = tail_.load(std::memory_order_relaxed);
        snooze wait;
        for (;;) {
            if ((tail & mark_bit_) != 0) {
                return push_state::disconnected;
            }
            const std::size_t index = tail & (mark_bit_ - 1);
            const std::size_t lap = tail & ~(one_lap_ - 1);
            slot& s = slots_[index];
            // acquire: the receiver's move out of this slot is done.
            const std::size_t stamp = s.stamp.load(std::memory_order_acquire);
            if (tail == stamp) {
                const std::size_t next = index + 1 < cap_ ? tail + 1 : lap + one_lap_;
                // seq_cst: reserves the slot, and is the queue's half of
                // the Dekker pair with the receiver's prepare().
                if (tail_.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                                std::memory_order_relaxed)) {
                    write(s, tail, v, rx);
                    return push_state::sent;
                }
                wait.contended();
            } else if ((stamp & ~mark_bit_) + one_lap_ == tail + 1) {
                // The slot holds the value (or hole) of the lap before:
                // full, unless the receiver is just taking it.
                // seq_cst: after the stamp's look (acquire), and in the
                // order of the receiver's seq_cst head store (a fence would
                // do, but TSan does not model fences; on one CPU the store
                // is a release one, see release_front()). A head a moment
                // old says full: try_send's race, which a blocked send
                // re-checks.
                if (head_.load(std::memory_order_seq_cst) + one_lap_ == tail) {
                    return push_state::full;
                }
                wait();
                tail = tail_.load(std::memory_order_relaxed);
            } else {
                // Another sender moved on (our tail is stale) or is still
                // writing the lap before's value into this slot.
                wait();
                tail = tail_.load(std::memory_order_relaxed);
            }
        }
    }

    /// Whether a sender, once listed and before its last look, must make
    /// the heavy fence (channel_fence_heavy()).
    bool light() const noexcept { return light_; }

    /// A blocked sender's last look before it parks.
    bool is_full() const noexcept {
        // seq_cst: the sender's half of the Dekker pair (after the heavy
        // fence, where it is asymmetric) with pop()'s head
        // store and sender_wakers::notify_one().
        const std::size_t tail = tail_.load(std::memory_order_seq_cst);
        const std::size_t head = head_.load(std::memory_order_seq_cst);
        return (tail & mark_bit_) == 0 && head + one_lap_ == tail;
    }

    /// The receiver's first look, without waiting: the front value if one
    /// is there (not a hole), else nullptr (and front() says why).
    T* ready_front() noexcept {
        const std::size_t head = head_.load(std::memory_order_relaxed); // our own
        slot& s = slots_[head & (mark_bit_ - 1)];
        // acquire: as in front().
        return s.stamp.load(std::memory_order_acquire) == head + 1 ? s.value() : nullptr;
    }
    /// The receiver: the front value (in *out), or why there is none.
    /// Holes are skipped (and their room handed to a waiting sender).
    front_state front(T*& out, sender_wakers& senders) noexcept {
        snooze wait;
        for (;;) {
            const std::size_t head = head_.load(std::memory_order_relaxed); // our own
            slot& s = slots_[head & (mark_bit_ - 1)];
            // acquire: the value written before the stamp.
            const std::size_t stamp = s.stamp.load(std::memory_order_acquire);
            if (stamp == head + 1) {
                out = s.value();
                return front_state::ready;
            }
            if (stamp == ((head + 1) | mark_bit_)) { // a hole
                release_front(head, s, senders);
                continue;
            }
            // The tail again on every look (not once, as list_queue): a
            // send whose move threw may give its reservation back.
            // seq_cst: the receiver's half of the Dekker pair (receiver_waker).
            const std::size_t tail = tail_.load(std::memory_order_seq_cst);
            if ((tail & ~mark_bit_) == head) {
                return (tail & mark_bit_) != 0 ? front_state::disconnected : front_state::empty;
            }
            wait(); // reserved, being written
        }
    }
    /// The receiver: drops the front value (moved from), hands its slot to
    /// the next lap, and wakes a blocked sender.
    void pop(sender_wakers& senders) noexcept {
        const std::size_t head = head_.load(std::memory_order_relaxed);
        slot& s = slots_[head & (mark_bit_ - 1)];
        s.value()->~T();
        release_front(head, s, senders);
    }

    /// As list_queue::disconnect().
    void disconnect() noexcept {
        // seq_cst: the Dekker pairs, as a reservation.
        tail_.fetch_or(mark_bit_, std::memory_order_seq_cst);
    }
    /// The receiver's end, after disconnect(), and the channel's: destroys
    /// what is queued, waiting for sends that reserved a slot before.
    void discard() noexcept {
        snooze wait;
        const std::size_t tail = tail_.load(std::memory_order_acquire) & ~mark_bit_;
        for (;;) {
            const std::size_t head = head_.load(std::memory_order_relaxed);
            if (head == tail) {
                return;
            }
            slot& s = slots_[head & (mark_bit_ - 1)];
            // acquire: as in front().
            const std::size_t stamp = s.stamp.load(std::memory_order_acquire);
            if ((stamp & ~mark_bit_) != head + 1) {
                wait();
                continue;
            }
            if (stamp == head + 1) { // not a hole
                s.value()->~T();
            }
            // relaxed: nobody reserves slots any more.
            s.stamp.store(head + one_lap_, std::memory_order_relaxed);
            head_.store(next_index(head), std::memory_order_relaxed);
        }
    }

private:
    static std::size_t lap_above(std::size_t cap) noexcept {
        std::size_t bit = 1;
        while (bit <= cap) {
            bit <<= 1;
        }
        return bit;
    }
    std::size_t next_index(std::size_t i) const noexcept {
        const std::size_t index = i & (mark_bit_ - 1);
        return index + 1 < cap_ ? i + 1 : (i & ~(one_lap_ - 1)) + one_lap_;
    }

    void write(slot& s, std::size_t tail, T& v, receiver_waker& rx) {
        try {
            ::new (static_cast<void*>(s.bytes)) T(std::move(v));
        } catch (...) {
            // No sender reserved after us: give the slot back (its stamp is
            // still ours), and the channel is as before the send. ABA is
            // harmless: a tail equal to ours again means the same state.
            // seq_cst: as the reservation.
            std::size_t reserved = next_index(tail);
            if (tail_.compare_exchange_strong(reserved, tail, std::memory_order_seq_cst,
                                              std::memory_order_relaxed)) {
                throw;
            }
            // release: as below; the receiver is woken to move past the
            // hole and hand its room on.
            s.stamp.store((tail + 1) | mark_bit_, std::memory_order_release);
            rx.notify();
            throw;
        }
        // release: publishes the value to the receiver's acquire in front().
        s.stamp.store(tail + 1, std::memory_order_release);
        rx.notify();
    }

    void release_front(std::size_t head, slot& s, sender_wakers& senders) noexcept {
        // release: the move out is done before a sender reuses the slot.
        s.stamp.store(head + one_lap_, std::memory_order_release);
        if (light_) {
            // The receiver's half of the Dekker pair with a blocked
            // sender's list(), heavy fence and is_full(): a plain store
            // (release: as the stamp's), then the look at the waiters,
            // kept in this order by the compiler; the sender's fence
            // orders them for the CPU.
            head_.store(next_index(head), std::memory_order_release);
            std::atomic_signal_fence(std::memory_order_seq_cst);
            senders.notify_one(std::memory_order_relaxed);
        } else {
            // seq_cst: the receiver's half of the Dekker pair with a
            // blocked sender's list() and is_full().
            head_.store(next_index(head), std::memory_order_seq_cst);
            senders.notify_one(std::memory_order_seq_cst);
        }
    }

    const std::size_t cap_;
    const std::size_t mark_bit_;
    const std::size_t one_lap_;
    const bool light_;
    const std::unique_ptr<slot[]> slots_;
    // Apart from each other and from what comes before and after (as in
    // mpsc_list.hpp).
    [[maybe_unused]] char pad_before_[channel_pad] = {};
    std::atomic<std::size_t> head_{0}; // written by the receiver only
    [[maybe_unused]] char pad_[channel_pad] = {};
    std::atomic<std::size_t> tail_{0};
    [[maybe_unused]] char pad_after_[channel_pad] = {};
};

} // namespace rthread::detail

#endif

// The unbounded channel's queue (mpsc_channel.hpp): Rust's std::sync::mpmc
// `list.rs` (crossbeam-channel's list flavour), for one consumer. A linked
// list of blocks of 31 slots; a sender reserves a slot with one CAS on the
// tail index, writes its value, then marks the slot written. The tail index
// counts 32 positions a block: the 32nd means "the next block is being
// installed" (by the sender that reserved the block's last slot, before it
// writes). The lowest bit of the tail index is the disconnection mark.
//
// Differences from Rust's, for C++:
// - A move constructor may throw. The slot is then marked written *and* a
//   hole: the receiver skips it, so nobody spins on a slot never written,
//   and the sender's value stays with it (Rust's moves cannot fail).
// - One consumer: the head is the receiver's own (no CAS), and it frees a
//   block as it leaves it (no reader count on the block).
// - The first block is allocated with the channel, not on the first send.
// This header is private: mpsc.hpp includes it.
#ifndef RTHREAD_DETAIL_MPSC_LIST_HPP
#define RTHREAD_DETAIL_MPSC_LIST_HPP

#include <rthread/detail/mpsc_waker.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

namespace rthread::detail {

/// What the receiver found at the front of a queue.
enum class front_state { ready, empty, disconnected };

/// While another thread finishes a step we wait for (a slot being written,
/// a block being installed): retry a few times, then yield, since on one
/// CPU that thread cannot finish until we let it run.
class snooze {
public:
    void operator()() noexcept {
        if (++tries_ > 4) {
            rthread::yield_now();
        }
    }
    /// After a lost reservation race (a failed CAS on the tail): 1, 2, ...
    /// 64 pauses, as crossbeam's Backoff::spin, so that senders on other
    /// CPUs do not take the tail's cache line from each other on every
    /// try. On one CPU the winner is not running: try again at once.
    void contended() noexcept {
        if (channel_yields_pay()) {
            return;
        }
        for (unsigned i = 0; i < (1U << spins_); ++i) {
            channel_cpu_relax();
        }
        if (spins_ < 6) {
            ++spins_;
        }
    }

private:
    unsigned tries_ = 0;
    unsigned spins_ = 0;
};

template <class T>
class list_queue {
public:
    list_queue() : head_block_(new block) {
        tail_block_.store(head_block_, std::memory_order_relaxed);
    }
    list_queue(const list_queue&) = delete;
    list_queue& operator=(const list_queue&) = delete;
    ~list_queue() {
        discard();
        delete head_block_;
    }

    /// Sends v. False (v untouched) when the channel is disconnected.
    /// When T's move throws, the slot becomes a hole and the exception
    /// propagates; v is where it was.
    bool push(T& v, receiver_waker& rx) {
        // acquire: the block installed with this index (below) comes with it.
        std::size_t tail = tail_index_.load(std::memory_order_acquire);
        block* b = tail_block_.load(std::memory_order_acquire);
        std::unique_ptr<block> next; // allocated before reserving a block's last slot
        snooze wait;
        for (;;) {
            if ((tail & mark_bit) != 0) {
                return false;
            }
            const std::size_t offset = (tail >> shift) % lap;
            if (offset == block_cap) {
                // Another sender is installing the next block.
                wait();
                tail = tail_index_.load(std::memory_order_acquire);
                b = tail_block_.load(std::memory_order_acquire);
                continue;
            }
            if (offset + 1 == block_cap && !next) {
                next.reset(new block); // bad_alloc: nothing reserved yet
            }
            // seq_cst: reserves the slot, and is the queue's half of the
            // Dekker pair with the receiver's prepare() (its look at the
            // tail is seq_cst too). acquire on failure: as above.
            if (tail_index_.compare_exchange_weak(tail, tail + (1 << shift),
                                                  std::memory_order_seq_cst,
                                                  std::memory_order_acquire)) {
                if (offset + 1 == block_cap) {
                    block* n = next.release();
                    // release: a sender that sees the new index sees the block.
                    tail_block_.store(n, std::memory_order_release);
                    tail_index_.fetch_add(1 << shift, std::memory_order_release);
                    // release: before this slot is marked written, so the
                    // receiver that reads the slot finds the next block.
                    b->next.store(n, std::memory_order_release);
                }
                write(b->slots[offset], v, rx);
                return true;
            }
            wait.contended();
            b = tail_block_.load(std::memory_order_acquire);
        }
    }

    /// The receiver's first look, without waiting: the front value if one
    /// is written there, else nullptr (and front() says why).
    T* ready_front() noexcept {
        slot& s = head_block_->slots[offset_of(head_)];
        // acquire: as in front().
        return s.state.load(std::memory_order_acquire) == written ? s.value() : nullptr;
    }
    /// The receiver: the front value (in *out), or why there is none.
    front_state front(T*& out) noexcept {
        snooze wait;
        // Once the tail is known to be past the front slot, only the slot:
        // each look at the tail takes its cache line from the senders. A
        // reserved slot here is always written (a move that throws leaves
        // a hole, never gives the slot back).
        bool reserved = false;
        for (;;) {
            slot& s = head_block_->slots[offset_of(head_)];
            // acquire: the value written before the mark.
            const unsigned state = s.state.load(std::memory_order_acquire);
            if ((state & written) != 0) {
                if ((state & hole) != 0) {
                    advance();
                    reserved = false;
                    continue;
                }
                out = s.value();
                return front_state::ready;
            }
            if (!reserved) {
                // seq_cst: the receiver's half of the Dekker pair (receiver_waker).
                const std::size_t tail = tail_index_.load(std::memory_order_seq_cst);
                if ((tail >> shift) == (head_ >> shift)) {
                    return (tail & mark_bit) != 0 ? front_state::disconnected : front_state::empty;
                }
                reserved = true;
            }
            wait(); // reserved, being written
        }
    }
    /// The receiver: drops the front value (moved from) and moves on.
    void pop() noexcept {
        head_block_->slots[offset_of(head_)].value()->~T();
        advance();
    }

    /// The end of the last sender or of the receiver: later sends fail,
    /// and the receiver sees "disconnected" once the queue is empty.
    void disconnect() noexcept {
        // seq_cst: the Dekker pair with prepare(), as a send's reservation.
        tail_index_.fetch_or(mark_bit, std::memory_order_seq_cst);
    }
    /// The receiver's end, after disconnect(): destroys what is queued,
    /// waiting for the sends that reserved a slot before the mark.
    void discard() noexcept {
        snooze wait;
        std::size_t tail = tail_index_.load(std::memory_order_acquire);
        while (offset_of(tail) == block_cap) {
            wait(); // the next block is being installed
            tail = tail_index_.load(std::memory_order_acquire);
        }
        while ((head_ >> shift) != (tail >> shift)) {
            slot& s = head_block_->slots[offset_of(head_)];
            // acquire: as in front().
            const unsigned state = s.state.load(std::memory_order_acquire);
            if ((state & written) == 0) {
                wait();
                continue;
            }
            if ((state & hole) == 0) {
                s.value()->~T();
            }
            advance();
        }
    }

private:
    static constexpr std::size_t shift = 1;    // the index is in the bits above the mark
    static constexpr std::size_t mark_bit = 1; // disconnected
    static constexpr std::size_t lap = 32;     // positions a block, the last one a sentinel
    static constexpr std::size_t block_cap = lap - 1;
    static constexpr unsigned written = 1;
    static constexpr unsigned hole = 2; // written, but the move threw: no value

    struct slot {
        std::atomic<unsigned> state{0};
        alignas(T) unsigned char bytes[sizeof(T)];
        T* value() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
    };
    struct block {
        std::atomic<block*> next{nullptr};
        slot slots[block_cap];
    };

    static std::size_t offset_of(std::size_t index) noexcept { return (index >> shift) % lap; }

    static void write(slot& s, T& v, receiver_waker& rx) {
        try {
            ::new (static_cast<void*>(s.bytes)) T(std::move(v));
        } catch (...) {
            // release: as below. The receiver skips the hole; it is woken
            // for it as for a value, to move past it.
            s.state.store(written | hole, std::memory_order_release);
            rx.notify();
            throw;
        }
        // release: publishes the value to the receiver's acquire in front().
        s.state.store(written, std::memory_order_release);
        rx.notify();
    }

    /// Past the front slot; into the next block (and the old one freed)
    /// after a block's last slot. The sender of that slot installed the
    /// next block before writing it, so it is there.
    void advance() noexcept {
        const std::size_t offset = offset_of(head_);
        head_ += 1 << shift;
        if (offset + 1 == block_cap) {
            // acquire: the block's construction, published by its release store.
            block* n = head_block_->next.load(std::memory_order_acquire);
            delete head_block_;
            head_block_ = n;
            head_ += 1 << shift; // past the sentinel
        }
    }

    // Apart (channel_pad) from what comes before in the channel (the
    // receiver's waiting flag, which senders read on every send).
    [[maybe_unused]] char pad_before_[channel_pad] = {};
    // The receiver's: the next index to read and its block.
    std::size_t head_ = 0;
    block* head_block_;
    // Apart from the head, so that senders and the receiver do not share
    // a cache line.
    [[maybe_unused]] char pad_[channel_pad] = {};
    std::atomic<std::size_t> tail_index_{0};
    std::atomic<block*> tail_block_{nullptr};
    // Apart from what comes after: the std::optional's flag that every
    // receive reads (mpsc_channel.hpp).
    [[maybe_unused]] char pad_after_[channel_pad] = {};
};

} // namespace rthread::detail

#endif

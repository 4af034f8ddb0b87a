// Who waits on a channel, and how they are woken (mpsc_channel.hpp): the
// pieces of Rust's std::sync::mpmc `waker.rs` and `context.rs` that a
// single-consumer channel needs, parked on private parkers (parker.hpp),
// never on a thread's own token.
//
// Both wake-ups are a Dekker pair: the waiting side publishes "I am about
// to park" (a seq_cst store or RMW), then looks at the queue again (seq_cst
// loads); the other side changes the queue (a seq_cst RMW or store), then
// looks for a waiter (a seq_cst load). Sequential consistency forbids both
// looks missing the other side's write, so a wake-up is never lost; the
// parker's token saturates, so one that comes between the look and the park
// is kept, and a stale one is a spurious wake-up that every wait re-checks.
// This header is private: mpsc.hpp includes it.
#ifndef RTHREAD_DETAIL_MPSC_WAKER_HPP
#define RTHREAD_DETAIL_MPSC_WAKER_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/detail/parker_token.hpp>

#include <boost/system/result.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>

namespace rthread {
// Declared by sleep.hpp and available_parallelism.hpp (mpsc.hpp includes
// both), repeated here so that no detail header includes a public one.
void yield_now() noexcept;
[[nodiscard]] boost::system::result<std::size_t> available_parallelism() noexcept;
} // namespace rthread

namespace rthread::detail {

/// How far apart the queues keep what the receiver writes from what the
/// senders write: two cache lines, as crossbeam's CachePadded on x86_64,
/// since Intel's spatial prefetcher fetches lines in 128-byte pairs. Pads,
/// not alignas, which would need the aligned operator new.
inline constexpr std::size_t channel_pad = 128;

/// Whether the bounded channels can use an asymmetric Dekker pair: the
/// receiver frees a slot with a plain store, and a sender, only when it is
/// about to block, makes a process-wide barrier (Linux membarrier) that
/// serves as both sides' fence. Asked once a process, in mpsc.cpp (the
/// library's one answer; each channel keeps what it was made with).
bool channel_fence_asymmetric() noexcept;
/// That barrier; only where channel_fence_asymmetric() is true.
void channel_fence_heavy() noexcept;

/// The parker a sender blocks on in any channel, and its unparker. One a
/// thread is enough: a thread waits on one channel at a time. Never the
/// thread's own token.
struct channel_parker {
    parker_handle own;

    static channel_parker& of_this_thread() {
        static thread_local channel_parker mine;
        return mine;
    }
};

/// Whether a channel wait yields a few times before it parks (Rust's
/// Backoff snoozes). On one CPU (or a process pinned to one, `taskset -c
/// 0`) a yield lets the other side run a batch of sends or receives, where
/// parking would cost a wake-up each. On more, the parker spins by itself,
/// and a yield on a loaded machine hands the CPU to other processes for a
/// time slice. Read once, as the parker reads its affinity mask.
inline bool channel_yields_pay() noexcept {
    static const bool pays = [] {
        const auto n = rthread::available_parallelism();
        return n && *n == 1;
    }();
    return pays;
}

/// Tells the CPU this is a spin-wait loop (x86 PAUSE, Arm YIELD), as the
/// parker does; not an OS call.
inline void channel_cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield");
#endif
}

/// How long a channel wait looks again before it parks: Rust's Backoff.
/// On one CPU a few yields (channel_yields_pay()), which let the other side
/// run a batch; on more, spins of 1, 2, ... 64 pauses between looks
/// (doc/performance.md has what they cost), while the other side works on
/// another CPU. Either way the
/// common waits end without a wake-up, which would cost the other side an
/// unpark and this one a trip through the parker.
class channel_backoff {
public:
    /// Waits one round; false once it is time to park.
    bool snooze() noexcept {
        if (channel_yields_pay()) {
            if (step_ >= 4) {
                return false;
            }
            rthread::yield_now();
        } else {
            if (step_ >= 7) {
                return false;
            }
            for (unsigned i = 0; i < (1U << step_); ++i) {
                channel_cpu_relax();
            }
        }
        ++step_;
        return true;
    }
    void reset() noexcept { step_ = 0; }

private:
    unsigned step_ = 0;
};

/// The one receiver's wait: a parker of the channel's own (one receiver,
/// one parker, alive as long as the channel, so a sender may unpark it
/// after its send is visible) and a flag that says it may be parked.
class receiver_waker {
public:
    /// The receiver, before its last look at the queue.
    void prepare() noexcept {
        // seq_cst: the first half of the Dekker pair with notify().
        waiting_.store(true, std::memory_order_seq_cst);
    }
    /// The receiver, once it looked (and found a value) or woke.
    void cancel() noexcept {
        // relaxed: only the receiver acts on its own flag; a sender that
        // still sees it true makes one spurious wake-up.
        waiting_.store(false, std::memory_order_relaxed);
    }
    void park(deadline d) noexcept { parker_.park_until(d); }

    /// A sender (or the last sender's end), after its seq_cst change to
    /// the queue. Clears the flag, so that the sends until the receiver
    /// runs again do not wake it again: it registers anew if it finds
    /// nothing.
    void notify() noexcept {
        // seq_cst: the second half of the Dekker pair with prepare(); a
        // plain load on the fast path, no write unless a receiver waits.
        if (waiting_.load(std::memory_order_seq_cst) &&
            // acquire: nothing to see; one sender of those racing here wakes it.
            waiting_.exchange(false, std::memory_order_acquire)) {
            parker_.unpark(); // happens-before the park() it ends
        }
    }

private:
    std::atomic<bool> waiting_{false};
    parker_handle parker_;
};

/// One blocked sender: a node on its own stack, linked while it waits.
struct channel_waiter {
    const parker_handle* unparker = nullptr;
    channel_waiter* prev = nullptr;
    channel_waiter* next = nullptr;
    bool linked = false;

    bool is_linked() const noexcept { return linked; }
};

/// The blocked senders, oldest first: a doubly linked FIFO of nodes on
/// their owners' stacks, guarded by the caller's mutex. Written here rather
/// than taken from Boost.Intrusive, whose list header would take every file
/// that includes rthread.hpp past the header budget (doc/performance.md,
/// "Header cost"; tools/checks/header_weight.sh); these five operations are
/// all a channel needs.
class waiter_queue {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    channel_waiter& front() const noexcept { return *head_; }
    void push_back(channel_waiter& w) noexcept {
        w.prev = tail_;
        w.next = nullptr;
        w.linked = true;
        (tail_ != nullptr ? tail_->next : head_) = &w;
        tail_ = &w;
    }
    void pop_front() noexcept { erase(*head_); }
    /// w must be linked into this queue.
    void erase(channel_waiter& w) noexcept {
        (w.prev != nullptr ? w.prev->next : head_) = w.next;
        (w.next != nullptr ? w.next->prev : tail_) = w.prev;
        w.prev = w.next = nullptr;
        w.linked = false;
    }

private:
    channel_waiter* head_ = nullptr;
    channel_waiter* tail_ = nullptr;
};

/// The senders blocked on a full bounded channel (Rust's SyncWaker): a
/// list under a mutex, and a count the receiver reads without it, so that a
/// receive takes the lock only when someone waits.
class sender_wakers {
public:
    /// The sender, before its last look at the queue.
    void list(channel_waiter& w) {
        std::lock_guard<std::mutex> lock(mutex_);
        list_.push_back(w);
        // seq_cst: the first half of the Dekker pair with notify_one().
        count_.fetch_add(1, std::memory_order_seq_cst);
    }
    /// The sender, once it looked again or woke (whether or not a receive
    /// took it off the list).
    void unlist(channel_waiter& w) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (w.is_linked()) {
            list_.erase(w);
            // relaxed: the mutex orders the count with the list.
            count_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    /// The receiver, after it freed a slot (a seq_cst store): wakes the
    /// longest-waiting sender, after the unlock (a sender woken under the
    /// mutex would only wake to wait for it; a copy of its unparker, as it
    /// may leave at once).
    /// order: seq_cst, the second half of the Dekker pair with list(); or
    /// relaxed, when the senders make the heavy fence (mpsc_array.hpp).
    void notify_one(std::memory_order order = std::memory_order_seq_cst) noexcept {
        if (count_.load(order) != 0) {
            wake_oldest();
        }
    }
    /// On disconnection: every sender looks again.
    void notify_all() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        while (!list_.empty()) {
            list_.front().unparker->unpark();
            list_.pop_front();
            count_.fetch_sub(1, std::memory_order_relaxed); // as in unlist()
        }
    }

private:
    // Out of line: every receive of a bounded channel inlines the look
    // above, and only a receive that frees room for a waiter comes here.
    BOOST_NOINLINE void wake_oldest() noexcept {
        std::optional<parker_handle> wake;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!list_.empty()) {
                wake.emplace(*list_.front().unparker);
                list_.pop_front();
                count_.fetch_sub(1, std::memory_order_relaxed); // as in unlist()
            }
        }
        if (wake) {
            wake->unpark();
        }
    }

    std::atomic<std::size_t> count_{0}; // senders on the list
    std::mutex mutex_;
    waiter_queue list_;
};

} // namespace rthread::detail

#endif

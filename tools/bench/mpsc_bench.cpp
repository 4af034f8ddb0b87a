// Channels: rthread::mpsc next to a std::mutex + std::condition_variable +
// std::deque channel (what users write by hand), in one run; Rust's
// std::sync::mpsc is timed the same way by tools/bench/rust/mpsc.rs.
//
// Throughput: one iteration is one message received. The producers (1 or
// 4 threads, each sending its share of the run's iterations) are started
// before the timed loop and held at a gate that the first iteration opens,
// so the timer sees only sending and receiving. Unbounded and bounded (a
// bound of 1024) channels.
// Latency: one iteration is a ping-pong round trip over two channels.
#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t bound = 1024;

// ---- the baseline: a mutex, condition variables and a deque -----------------

struct mutex_channel {
    explicit mutex_channel(std::size_t capacity = 0) : capacity_(capacity) {}

    void send(std::uint64_t v) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            while (capacity_ != 0 && queue_.size() >= capacity_) {
                not_full_.wait(lock);
            }
            queue_.push_back(v);
        }
        not_empty_.notify_one();
    }
    std::uint64_t recv() {
        std::uint64_t v;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            while (queue_.empty()) {
                not_empty_.wait(lock);
            }
            v = queue_.front();
            queue_.pop_front();
        }
        if (capacity_ != 0) {
            not_full_.notify_one();
        }
        return v;
    }

private:
    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<std::uint64_t> queue_;
};

struct mutex_impl {
    struct pair {
        explicit pair(std::optional<std::size_t> cap) : channel(cap.value_or(0)) {}
        mutex_channel channel;
        void send(std::uint64_t v) { channel.send(v); }
        std::uint64_t recv() { return channel.recv(); }
        // Senders share the channel.
        mutex_channel* sender() { return &channel; }
    };
    static void send_on(mutex_channel* tx, std::uint64_t v) { tx->send(v); }
};

// ---- rthread -------------------------------------------------------------------

template <bool Bounded>
struct rthread_impl {
    using sender_type = std::conditional_t<Bounded, rthread::mpsc::sync_sender<std::uint64_t>,
                                           rthread::mpsc::sender<std::uint64_t>>;
    struct pair {
        explicit pair(std::optional<std::size_t> cap)
            : ends(make(cap)), tx(std::move(ends.first)), rx(std::move(ends.second)) {}
        static std::pair<sender_type, rthread::mpsc::receiver<std::uint64_t>>
        make(std::optional<std::size_t> cap) {
            if constexpr (Bounded) {
                return rthread::mpsc::sync_channel<std::uint64_t>(*cap);
            } else {
                (void)cap;
                return rthread::mpsc::channel<std::uint64_t>();
            }
        }
        std::pair<sender_type, rthread::mpsc::receiver<std::uint64_t>> ends;
        sender_type tx;
        rthread::mpsc::receiver<std::uint64_t> rx;
        void send(std::uint64_t v) { tx.send(v).value(); }
        std::uint64_t recv() { return rx.recv().value(); }
        sender_type sender() { return tx; }
    };
    static void send_on(const sender_type& tx, std::uint64_t v) { tx.send(v).value(); }
};

// ---- throughput ------------------------------------------------------------------

template <class Impl, int Producers, bool Bounded>
void throughput(benchmark::State& state) {
    typename Impl::pair channel(Bounded ? std::optional<std::size_t>(bound) : std::nullopt);
    const auto total = static_cast<std::uint64_t>(state.max_iterations);
    std::atomic<bool> gate{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < Producers; ++p) {
        const std::uint64_t share = total / Producers + (std::uint64_t(p) < total % Producers);
        producers.emplace_back([&gate, share, tx = channel.sender()]() mutable {
            // acquire: nothing to publish; the gate only starts the run.
            while (!gate.load(std::memory_order_acquire)) {
                std::this_thread::yield();
            }
            for (std::uint64_t i = 0; i < share; ++i) {
                Impl::send_on(tx, i);
            }
        });
    }
    bool first = true;
    for (auto _ : state) {
        if (first) {
            gate.store(true, std::memory_order_release);
            first = false;
        }
        benchmark::DoNotOptimize(channel.recv());
    }
    for (auto& t : producers) {
        t.join();
    }
    state.SetItemsProcessed(state.iterations());
}

#define RTHREAD_THROUGHPUT(op, producers, bounded)                                                 \
    BENCHMARK(throughput<rthread_impl<bounded>, producers, bounded>)                               \
        ->Name(op "/rthread")                                                                      \
        ->MeasureProcessCPUTime();                                                                 \
    BENCHMARK(throughput<mutex_impl, producers, bounded>)                                          \
        ->Name(op "/std_mutex_condvar_deque")                                                      \
        ->MeasureProcessCPUTime()

RTHREAD_THROUGHPUT("mpsc_unbounded_1p", 1, false);
RTHREAD_THROUGHPUT("mpsc_unbounded_4p", 4, false);
RTHREAD_THROUGHPUT("mpsc_bounded_1p", 1, true);
RTHREAD_THROUGHPUT("mpsc_bounded_4p", 4, true);

// ---- latency: a ping-pong round trip --------------------------------------------

template <class Impl>
void ping_pong(benchmark::State& state) {
    typename Impl::pair ping(std::nullopt);
    typename Impl::pair pong(std::nullopt);
    std::thread partner([&] {
        for (;;) {
            const std::uint64_t v = ping.recv();
            if (v == 0) {
                return;
            }
            pong.send(v);
        }
    });
    for (auto _ : state) {
        ping.send(1);
        benchmark::DoNotOptimize(pong.recv());
    }
    ping.send(0);
    partner.join();
}
BENCHMARK(ping_pong<rthread_impl<false>>)->Name("mpsc_ping_pong/rthread")->MeasureProcessCPUTime();
BENCHMARK(ping_pong<mutex_impl>)
    ->Name("mpsc_ping_pong/std_mutex_condvar_deque")
    ->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();

// Parking: a ping-pong round trip between two threads, next to a raw futex
// ping-pong (the floor), C++20 std::atomic::wait/notify_one,
// std::binary_semaphore, std::mutex + std::condition_variable and
// boost::mutex + boost::condition_variable, and the same on a private
// rthread::parker; then the calls that must not block: unpark with nobody
// parked, unpark of oneself then park, park_timeout(0), an already-expired
// deadline, and yield_now.
//
// One iteration of a ping-pong is a whole round trip: the benchmark thread
// wakes its partner and waits until the partner wakes it back. Each side
// re-checks a flag around its wait, as real users of park() must (a wake-up
// may be spurious, and a token may be left from a race).
#include "bench_support.hpp"

#include <rthread/rthread.hpp>

#include <benchmark/benchmark.h>

#include <boost/thread/condition_variable.hpp>
#include <boost/thread/mutex.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <semaphore>
#include <thread>

namespace {

// ---- ping-pong ------------------------------------------------------------

// Runs channel.serve() on a partner thread, one channel.round_trip() an
// iteration, then channel.stop() and a join.
template <class Channel>
void ping_pong(benchmark::State& state) {
    Channel channel;
    std::thread partner([&channel] { channel.serve(); });
    for (auto _ : state) {
        channel.round_trip();
    }
    channel.stop();
    partner.join();
}

// The floor: one futex word a direction, one wait and one wake a side.
struct futex_channel {
    std::atomic<std::int32_t> ping{0};
    std::atomic<std::int32_t> pong{0};
    bool stopping = false; // written before the last ping, read after it

    void serve() {
        for (;;) {
            // acquire: pairs with the release that rang ping, for stopping.
            while (ping.load(std::memory_order_acquire) == 0) {
                bench::futex_wait(&ping, 0);
            }
            ping.store(0, std::memory_order_relaxed);
            if (stopping) {
                return;
            }
            // release: the ping's reset happens before the next ping.
            pong.store(1, std::memory_order_release);
            bench::futex_wake(&pong);
        }
    }
    void ring_ping() {
        // release: pairs with serve()'s acquire.
        ping.store(1, std::memory_order_release);
        bench::futex_wake(&ping);
    }
    void round_trip() {
        ring_ping();
        // acquire: pairs with serve()'s release.
        while (pong.load(std::memory_order_acquire) == 0) {
            bench::futex_wait(&pong, 0);
        }
        pong.store(0, std::memory_order_relaxed);
    }
    void stop() {
        stopping = true;
        ring_ping();
    }
};
BENCHMARK(ping_pong<futex_channel>)->Name("ping_pong/raw_futex")->MeasureProcessCPUTime();

// Not on Windows: there libstdc++ 12 has no futex under std::atomic::wait
// (nor under std::binary_semaphore, built on it), and the unpinned
// ping-pong on its fallback hung under Wine, both threads asleep.
#ifndef _WIN32
// C++20 std::atomic::wait: libstdc++ spins briefly before it sleeps.
struct atomic_wait_channel {
    std::atomic<int> ping{0};
    std::atomic<int> pong{0};
    bool stopping = false;

    void serve() {
        for (;;) {
            ping.wait(0, std::memory_order_acquire);
            ping.store(0, std::memory_order_relaxed);
            if (stopping) {
                return;
            }
            pong.store(1, std::memory_order_release);
            pong.notify_one();
        }
    }
    void ring_ping() {
        ping.store(1, std::memory_order_release);
        ping.notify_one();
    }
    void round_trip() {
        ring_ping();
        pong.wait(0, std::memory_order_acquire);
        pong.store(0, std::memory_order_relaxed);
    }
    void stop() {
        stopping = true;
        ring_ping();
    }
};
BENCHMARK(ping_pong<atomic_wait_channel>)
    ->Name("ping_pong/std_atomic_wait")
    ->MeasureProcessCPUTime();

struct semaphore_channel {
    std::binary_semaphore ping{0};
    std::binary_semaphore pong{0};
    bool stopping = false;

    void serve() {
        for (;;) {
            ping.acquire();
            if (stopping) {
                return;
            }
            pong.release();
        }
    }
    void round_trip() {
        ping.release();
        pong.acquire();
    }
    void stop() {
        stopping = true;
        ping.release();
    }
};
BENCHMARK(ping_pong<semaphore_channel>)
    ->Name("ping_pong/std_binary_semaphore")
    ->MeasureProcessCPUTime();
#endif

// One mutex, a flag and a condition variable a direction.
template <class Mutex, class CondVar, template <class> class Lock>
struct condvar_channel {
    Mutex mutex;
    CondVar ping_cv;
    CondVar pong_cv;
    bool ping = false;
    bool pong = false;
    bool stopping = false;

    void serve() {
        Lock<Mutex> lock(mutex);
        for (;;) {
            while (!ping) {
                ping_cv.wait(lock);
            }
            ping = false;
            if (stopping) {
                return;
            }
            pong = true;
            pong_cv.notify_one();
        }
    }
    void round_trip() {
        Lock<Mutex> lock(mutex);
        ping = true;
        ping_cv.notify_one();
        while (!pong) {
            pong_cv.wait(lock);
        }
        pong = false;
    }
    void stop() {
        Lock<Mutex> lock(mutex);
        stopping = true;
        ping = true;
        ping_cv.notify_one();
    }
};
using std_condvar_channel = condvar_channel<std::mutex, std::condition_variable, std::unique_lock>;
BENCHMARK(ping_pong<std_condvar_channel>)
    ->Name("ping_pong/std_mutex_condvar")
    ->MeasureProcessCPUTime();
using boost_condvar_channel =
    condvar_channel<boost::mutex, boost::condition_variable, boost::unique_lock>;
BENCHMARK(ping_pong<boost_condvar_channel>)
    ->Name("ping_pong/boost_mutex_condvar")
    ->MeasureProcessCPUTime();

// rthread: the partner is an rthread thread; each side parks until its flag
// is set and unparks the other after setting the other's flag.
void ping_pong_rthread(benchmark::State& state) {
    std::atomic<bool> ping{false};
    std::atomic<bool> pong{false};
    bool stopping = false;
    const rthread::thread me = rthread::current();
    auto partner = rthread::spawn([&] {
        for (;;) {
            // acquire: pairs with the release that set ping, for stopping.
            while (!ping.load(std::memory_order_acquire)) {
                rthread::park();
            }
            ping.store(false, std::memory_order_relaxed);
            if (stopping) {
                return;
            }
            // release: the reset of ping happens before the next ping.
            pong.store(true, std::memory_order_release);
            me.unpark();
        }
    });
    const rthread::thread& other = partner.thread();
    for (auto _ : state) {
        ping.store(true, std::memory_order_release);
        other.unpark();
        while (!pong.load(std::memory_order_acquire)) {
            rthread::park();
        }
        pong.store(false, std::memory_order_relaxed);
    }
    stopping = true;
    ping.store(true, std::memory_order_release);
    other.unpark();
    partner.join().value();
    // A token the partner's last unpark may have left would make the next
    // benchmark's first park return at once: take it.
    rthread::park_timeout(std::chrono::nanoseconds(0));
}
BENCHMARK(ping_pong_rthread)->Name("ping_pong/rthread")->MeasureProcessCPUTime();

// The same ping-pong on private parkers (parker.hpp): the thread token's
// state machine, so the same cost within noise.
void ping_pong_rthread_parker(benchmark::State& state) {
    std::atomic<bool> ping{false};
    std::atomic<bool> pong{false};
    bool stopping = false;
    rthread::parker mine;
    rthread::parker theirs;
    const rthread::unparker other = theirs.unparker();
    auto partner = rthread::spawn([&, p = std::move(theirs), me = mine.unparker()]() mutable {
        for (;;) {
            // acquire: pairs with the release that set ping, for stopping.
            while (!ping.load(std::memory_order_acquire)) {
                p.park();
            }
            ping.store(false, std::memory_order_relaxed);
            if (stopping) {
                return;
            }
            // release: the reset of ping happens before the next ping.
            pong.store(true, std::memory_order_release);
            me.unpark();
        }
    });
    for (auto _ : state) {
        ping.store(true, std::memory_order_release);
        other.unpark();
        while (!pong.load(std::memory_order_acquire)) {
            mine.park();
        }
        pong.store(false, std::memory_order_relaxed);
    }
    stopping = true;
    ping.store(true, std::memory_order_release);
    other.unpark();
    partner.join().value();
}
BENCHMARK(ping_pong_rthread_parker)->Name("ping_pong/rthread_parker")->MeasureProcessCPUTime();

// ---- calls that never block -----------------------------------------------

// unpark with nobody parked, next to the one atomic exchange it is made of.
void unpark_no_waiter_rthread(benchmark::State& state) {
    const rthread::thread me = rthread::current();
    for (auto _ : state) {
        benchmark::DoNotOptimize(me);
        me.unpark();
        benchmark::ClobberMemory();
    }
    rthread::park(); // the token it left
}
BENCHMARK(unpark_no_waiter_rthread)->Name("unpark_no_waiter/rthread")->MeasureProcessCPUTime();

void unpark_no_waiter_rthread_parker(benchmark::State& state) {
    rthread::parker p;
    const rthread::unparker u = p.unparker();
    for (auto _ : state) {
        benchmark::DoNotOptimize(u);
        u.unpark();
        benchmark::ClobberMemory();
    }
}
BENCHMARK(unpark_no_waiter_rthread_parker)
    ->Name("unpark_no_waiter/rthread_parker")
    ->MeasureProcessCPUTime();

void unpark_self_park_rthread_parker(benchmark::State& state) {
    rthread::parker p;
    const rthread::unparker u = p.unparker();
    for (auto _ : state) {
        benchmark::DoNotOptimize(u);
        u.unpark();
        p.park();
        benchmark::ClobberMemory();
    }
}
BENCHMARK(unpark_self_park_rthread_parker)
    ->Name("unpark_self_park/rthread_parker")
    ->MeasureProcessCPUTime();

void unpark_no_waiter_exchange(benchmark::State& state) {
    std::atomic<std::int32_t> word{0};
    for (auto _ : state) {
        benchmark::DoNotOptimize(word.exchange(1, std::memory_order_release));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(unpark_no_waiter_exchange)
    ->Name("unpark_no_waiter/atomic_exchange")
    ->MeasureProcessCPUTime();

void unpark_self_park_rthread(benchmark::State& state) {
    const rthread::thread me = rthread::current();
    for (auto _ : state) {
        benchmark::DoNotOptimize(me);
        me.unpark();
        rthread::park();
        benchmark::ClobberMemory();
    }
}
BENCHMARK(unpark_self_park_rthread)->Name("unpark_self_park/rthread")->MeasureProcessCPUTime();

void park_timeout_zero_rthread(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(rthread::park_timeout(std::chrono::nanoseconds(0)));
    }
}
BENCHMARK(park_timeout_zero_rthread)->Name("park_timeout_zero/rthread")->MeasureProcessCPUTime();

void park_until_expired_rthread(benchmark::State& state) {
    const auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    for (auto _ : state) {
        benchmark::DoNotOptimize(rthread::park_until(past));
    }
}
BENCHMARK(park_until_expired_rthread)->Name("park_until_expired/rthread")->MeasureProcessCPUTime();

void yield_rthread(benchmark::State& state) {
    for (auto _ : state) {
        rthread::yield_now();
    }
}
BENCHMARK(yield_rthread)->Name("yield/rthread")->MeasureProcessCPUTime();

void yield_std(benchmark::State& state) {
    for (auto _ : state) {
        std::this_thread::yield();
    }
}
BENCHMARK(yield_std)->Name("yield/std_this_thread_yield")->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();

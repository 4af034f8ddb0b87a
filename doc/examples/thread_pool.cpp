// The Rust Book's thread pool (chapter 20, "Building a Multithreaded Web
// Server"), on rthread::mpsc: named workers share one receiver of jobs
// behind a mutex, jobs travel through the channel, and dropping the sender
// shuts the pool down: each worker's recv() then fails and it leaves its
// loop. Unlike the Book's, a job that panics does not take its worker with
// it: the worker reports the panic and keeps serving.
#include <rthread/rthread.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mpsc = rthread::mpsc;

class thread_pool {
public:
    using job = std::function<void()>;

    /// size workers, named worker-0, worker-1, ...; each logs to `log`.
    thread_pool(std::size_t size, const mpsc::sender<std::string>& log) {
        auto [tx, rx] = mpsc::channel<job>();
        sender_.emplace(std::move(tx));
        // One receiver, many workers: Rust's Arc<Mutex<Receiver<Job>>>.
        auto jobs = std::make_shared<shared_receiver>(std::move(rx));
        for (std::size_t id = 0; id < size; ++id) {
            auto worker = rthread::builder{}.name(fmt::format("worker-{}", id)).spawn([jobs, log] {
                serve(*jobs, log);
            });
            workers_.push_back(std::move(worker).value());
        }
    }

    /// Sends f to whichever worker is free first.
    void execute(job f) { sender_->send(std::move(f)).value(); }

    /// Graceful shutdown: drop the sender, then wait for every worker.
    ~thread_pool() {
        sender_.reset();
        for (auto& worker : workers_) {
            worker.join().value();
        }
    }

private:
    struct shared_receiver {
        explicit shared_receiver(mpsc::receiver<job> r) : rx(std::move(r)) {}
        std::mutex mutex;
        mpsc::receiver<job> rx;
    };

    static void serve(shared_receiver& jobs, const mpsc::sender<std::string>& log) {
        const std::string name(rthread::current().name().value());
        for (;;) {
            auto message = [&jobs] {
                std::lock_guard<std::mutex> lock(jobs.mutex); // held while waiting, as in the Book
                return jobs.rx.recv();
            }();
            if (!message) {
                (void)log.send(name + " disconnected; shutting down");
                return;
            }
            try {
                (*message)();
            } catch (...) {
                // The panic ends the job, not the worker.
                const auto what = rthread::panic_message(std::current_exception());
                (void)log.send("a worker caught a panicking job: " + what.value_or("?"));
            }
        }
    }

    std::optional<mpsc::sender<job>> sender_;
    std::vector<rthread::join_handle<void>> workers_;
};

int main() {
    auto [log_tx, log_rx] = mpsc::channel<std::string>();
    {
        thread_pool pool(4, log_tx);
        for (int i = 1; i <= 8; ++i) {
            pool.execute([i, log = log_tx] {
                if (i == 5) {
                    RTHREAD_PANIC("job {} failed", i);
                }
                (void)log.send(fmt::format("job {}: {} squared is {}", i, i, i * i));
            });
        }
    } // the pool shuts down here: every worker was joined
    // Our sender goes too, so the loop below ends after the last line.
    { auto last = std::move(log_tx); }

    // Workers run in any order: sort the log to print it the same every run.
    std::vector<std::string> lines;
    for (std::string line : log_rx) {
        lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
    for (const auto& line : lines) {
        std::cout << line << '\n';
    }
}

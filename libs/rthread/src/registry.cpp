// The thread registry: the id counter, the live list, and the calling
// thread's handle on every kind of thread.
//
// Lifetime: the registry is allocated once and never destroyed. Detached
// threads may still run (and end, and unlist themselves) while the process
// runs its static destructors after main returns; libc++ leaks its TLS key
// for the same reason.
#include "registry.hpp"
#include "fatal.hpp"
#include "lifecycle.hpp"
#include "stack_overflow.hpp"

#include "sys/sys.hpp"

#include <rthread/thread.hpp>

#include <boost/intrusive/list.hpp>

#include <mutex>
#include <new>
#include <utility>

namespace rthread::detail {

namespace {

constexpr std::uint64_t main_thread_id = 1;

// How many references current() takes at once (thread_inner.hpp): one
// atomic increment serves this many current() calls.
constexpr std::size_t current_refs_batch = 32;

class registry {
public:
    static registry& get() {
        static registry* const instance = [] {
            auto* r = new registry();
            sys::at_fork(&registry::before_fork, &registry::after_fork_in_parent,
                         &registry::after_fork_in_child);
            return r;
        }();
        return *instance;
    }

    // Ids are never reused and the counter never wraps: once every 64-bit id
    // was handed out the process ends, as Rust's ThreadId::new does.
    std::uint64_t new_id() noexcept {
        // relaxed: only uniqueness matters; ids publish nothing.
        std::uint64_t id = next_id_.load(std::memory_order_relaxed);
        do {
            if (id == UINT64_MAX) {
                fatal("failed to generate unique thread ID: bitspace exhausted");
            }
        } while (!next_id_.compare_exchange_weak(id, id + 1, std::memory_order_relaxed));
        return id;
    }

    // The main thread takes id 1 whichever thread asks first; only the first
    // registration on the main thread claims it.
    bool claim_main() noexcept {
        // relaxed: a one-shot flag; the id and name are not published by it.
        return !main_claimed_.exchange(true, std::memory_order_relaxed);
    }

    void set_next_id(std::uint64_t next) noexcept {
        next_id_.store(next, std::memory_order_relaxed);
    }

    void list(thread_record* r) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        live_.push_front(*r);
    }

    void unlist(thread_record* r) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (r->is_linked()) {
            live_.erase(live_.iterator_to(*r));
        }
    }

    std::vector<thread> snapshot() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<thread> all;
        for (thread_record& r : live_) {
            retain(&r);
            all.push_back(thread_access::adopt(&r));
        }
        return all;
    }

private:
    registry() = default;

    // fork(): hold the list still across the fork; in the child only the
    // forking thread lives on, so only it stays listed. The other records
    // stay allocated (handles in the child may still refer to them).
    static void before_fork() { get().mutex_.lock(); }
    static void after_fork_in_parent() { get().mutex_.unlock(); }
    static void after_fork_in_child() {
        registry& self = get();
        self.live_.clear();
        if (auto* survivor = static_cast<thread_record*>(current_thread)) {
            self.live_.push_front(*survivor);
        }
        self.mutex_.unlock();
    }

    std::atomic<std::uint64_t> next_id_{main_thread_id + 1};
    std::atomic<bool> main_claimed_{false};
    std::mutex mutex_;
    // Newest first; guarded by mutex_.
    boost::intrusive::list<thread_record, boost::intrusive::constant_time_size<false>> live_;
};

bool make_current(thread_record* r) noexcept {
    current_thread = r;
    current_thread_id = r->id;
    return sys::set_thread_exit_value(&on_thread_exit, r);
}

} // namespace

void refill_current_refs(thread_inner* inner) noexcept {
    // relaxed: references made from one the thread holds, as retain().
    inner->refs.fetch_add(current_refs_batch, std::memory_order_relaxed);
    current_thread_spare_refs = current_refs_batch - 1;
}

void destroy_thread_inner(thread_inner* inner) noexcept {
    delete &record_of(inner);
}

thread_inner* init_current() {
    registry& reg = registry::get();
    std::optional<std::string> name;
    std::uint64_t id = current_thread_id; // kept if this thread had a handle before
    bool first_main = false;
    if (id == 0) {
        first_main = sys::is_main_thread() && reg.claim_main();
        id = first_main ? main_thread_id : reg.new_id();
    }
    if (id == main_thread_id) {
        name = "main";
    }
    thread_record* r = nullptr;
    if (first_main) {
        // Static storage, never destroyed (see thread_inner::immortal): the
        // main thread's handles outlive every static destructor. Claimed
        // once a process, so it is never constructed twice. A main thread
        // that registers again after its handle was released (from a late
        // destructor) gets an ordinary record below.
        alignas(thread_record) static unsigned char storage[sizeof(thread_record)];
        r = new (storage) thread_record(id, std::move(name), true);
    } else {
        r = new thread_record(id, std::move(name));
    }
    reg.list(r);
    if (!make_current(r)) {
        // Without its exit hook the record would stay listed (and
        // allocated) after the thread ended: no handle, as when the record
        // itself could not be had.
        current_thread = nullptr;
        reg.unlist(r);
        if (first_main) {
            r->~thread_record();
        } else {
            delete r;
        }
        throw std::bad_alloc();
    }
    watch_seen_thread_stack(); // its overflow reported too, beyond Rust
    return r;
}

thread_record* make_spawned_record(std::optional<std::string> name) {
    registry& reg = registry::get();
    auto* r = new thread_record(reg.new_id(), std::move(name));
    reg.list(r);
    return r;
}

bool adopt_as_current(thread_record* record) noexcept {
    return make_current(record);
}

void unlist(thread_record* record) noexcept {
    registry::get().unlist(record);
}

void set_next_thread_id_for_testing(std::uint64_t next) noexcept {
    registry::get().set_next_id(next);
}

} // namespace rthread::detail

namespace rthread {

std::vector<thread> threads() {
    return detail::registry::get().snapshot();
}

} // namespace rthread

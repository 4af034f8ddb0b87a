// Spawning: builder -> registry entry -> native thread (the seam,
// sys/native_thread.hpp) -> trampoline (name, guard, TLS table) -> user
// function -> packet -> join.
#include "registry.hpp"
#include "stack_overflow.hpp"
#include "thread_locals.hpp"
#include "thread_start.hpp"
#include "yield_first.hpp"

#include "sys/native_thread.hpp"
#include "sys/sys.hpp"

#include <rthread/spawn.hpp>

#include <boost/context/stack_traits.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rthread::detail {

// The first wait of a join. Boost.Thread's join waits on a condition variable
// that the ending thread notifies while it still holds that wait's mutex, as
// its last act. The woken joiner (on one CPU, or whenever the scheduler lets a
// waking thread preempt the one that woke it) runs, finds the mutex held,
// sleeps, is woken again by the unlock, then waits once more in pthread_join:
// five to seven context switches a join, where pthread_join alone costs one
// or two, and more the longer the thread ran (a thread that panics runs long
// enough to pay all of them). The thread raises this notice instead from the
// library's exit hook (registry.cpp, a pthread key destructor), which glibc
// runs after Boost.Thread's last words and after every C++ thread_local
// destructor: a joiner that waited for it finds Boost's join with nothing
// left to wait for but the thread's exit, as a plain pthread_join would.
// Boost's join still follows, always: it is what makes join() return after
// the thread ended; the notice only decides when to start it. (A C++
// thread_local would do as well, but registering its destructor allocates,
// and glibc ends the process when that fails.)
class exit_notice {
public:
    exit_notice() = default;
    exit_notice(const exit_notice&) = delete;
    exit_notice& operator=(const exit_notice&) = delete;

    /// On the thread, from its exit hook.
    void raise() noexcept {
        // relaxed: the notice publishes nothing; the thread's writes reach
        // the joiner through the pthread_join in Boost's join, which follows.
        if (state_.exchange(exited, std::memory_order_relaxed) == waited) {
            sys::futex_wake_one(&state_);
        }
    }

    /// The joiner (one at a time: join needs the handle): true once the
    /// notice was raised, false at d.
    bool wait(deadline d) noexcept {
        if (d.has_passed()) { // only a look: no yield, no sleep
            return state_.load(std::memory_order_relaxed) == exited; // relaxed: see raise()
        }
        // relaxed: see raise().
        if (yield_until([this] { return state_.load(std::memory_order_relaxed) == exited; })) {
            return true;
        }
        const std::optional<std::int64_t> until =
            d.is_never() ? std::nullopt : std::optional<std::int64_t>(d.at.count());
        std::int32_t seen = running;
        // relaxed: only the value matters (see raise()).
        if (!state_.compare_exchange_strong(seen, waited, std::memory_order_relaxed) &&
            seen == exited) {
            return true;
        }
        while (state_.load(std::memory_order_relaxed) != exited) { // relaxed: as above
            if (!sys::futex_wait(&state_, waited, until)) {
                return state_.load(std::memory_order_relaxed) == exited; // relaxed: as above
            }
        }
        return true;
    }

    /// Made with two references: the thread's and the handle's.
    void release() noexcept {
        // acq_rel: the other owner's last use happens before the delete.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }

    // What the new thread starts with, set before it is made (its start
    // happens after): the notice is the context of its entry.
    thread_record* record = nullptr;
    thread_main* main = nullptr;

private:
    static constexpr std::int32_t running = 0;
    static constexpr std::int32_t waited = 1; // a joiner sleeps on it
    static constexpr std::int32_t exited = 2;

    std::atomic<std::int32_t> state_{running};
    std::atomic<std::uint32_t> refs_{2};
};

namespace {

// The thread's side of its exit_notice: its record's last words.
void raise_exit_notice(void* notice) noexcept {
    static_cast<exit_notice*>(notice)->raise();
    static_cast<exit_notice*>(notice)->release();
}

constexpr std::size_t default_stack = std::size_t{2} << 20; // 2 MiB, as Rust's

// RTHREAD_MIN_STACK (bytes), read once at the first spawn that needs it, as
// Rust reads RUST_MIN_STACK; anything but a whole number is ignored.
std::size_t default_stack_size() {
    static const std::size_t size = [] {
        // Read once, under the static's initialisation lock, as Rust reads
        // RUST_MIN_STACK once.
        const char* text = std::getenv("RTHREAD_MIN_STACK"); // NOLINT(concurrency-mt-unsafe)
        if (text == nullptr || *text == '\0') {
            return default_stack;
        }
        // Digits only: strtoull would also take a sign ("-1" wraps to the
        // largest value, after which every default spawn fails), leading
        // spaces and "+".
        std::size_t value = 0;
        for (const char* c = text; *c != '\0'; ++c) {
            if (*c < '0' || *c > '9') {
                return default_stack;
            }
            const auto digit = static_cast<std::size_t>(*c - '0');
            if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
                return default_stack; // too large to be a size
            }
            value = value * 10 + digit;
        }
        return value;
    }();
    return size;
}

// Rounds up to the page size and raises to the platform minimum; nullopt
// when the rounded size would pass sys::max_thread_stack (such a stack
// cannot be had).
std::optional<std::size_t> usable_stack_size(std::size_t requested) noexcept {
    const std::size_t page = boost::context::stack_traits::page_size();
    const std::size_t minimum =
        std::max(boost::context::stack_traits::minimum_size(), sys::min_thread_stack());
    std::size_t size = std::max(requested, minimum);
    if (size > sys::max_thread_stack - (page - 1)) {
        return std::nullopt;
    }
    return (size + page - 1) / page * page;
}

// Names the running thread for the OS, which keeps the first
// sys::max_thread_name bytes: cut there, but never inside a UTF-8 sequence
// (a continuation byte is 10xxxxxx). Allocates nothing: it runs before the
// thread's function, where a failure could not be reported.
void set_os_thread_name(const std::string& name) noexcept {
    if (name.size() <= sys::max_thread_name) {
        sys::set_current_thread_name(name.c_str());
        return;
    }
    // Either no limit (Windows) or a short one, cut on the stack.
    static_assert(sys::max_thread_name == static_cast<std::size_t>(-1) ||
                  sys::max_thread_name < 256);
    if constexpr (sys::max_thread_name != static_cast<std::size_t>(-1)) {
        std::size_t cut = sys::max_thread_name;
        while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) {
            --cut;
        }
        std::array<char, sys::max_thread_name + 1> cut_name{};
        name.copy(cut_name.data(), cut);
        sys::set_current_thread_name(cut_name.data());
    }
}

// The stack-overflow report needs each thread's stack bounds, which cost a
// system call (pthread_getattr_np). Asked on the new thread, the call cost
// spawn + join about 8 us in context switches here; the spawner asks it
// instead, right after the thread was made, while the thread waits for a
// CPU. Exactly one of the two asks: a thread that starts first claims the
// job (on two CPUs), and one that finds the spawner asking waits for it.
constexpr auto unclaimed = static_cast<std::uint8_t>(stack_claim_state::unclaimed);
constexpr auto spawner_reading = static_cast<std::uint8_t>(stack_claim_state::spawner_reading);
constexpr auto published = static_cast<std::uint8_t>(stack_claim_state::published);
constexpr auto thread_reads = static_cast<std::uint8_t>(stack_claim_state::thread_reads);

void read_stack_bounds_for(thread_record& record, native_thread::native_handle_type thread) {
    std::uint8_t expected = unclaimed;
    // relaxed: the claim publishes nothing; the store below does.
    if (!record.stack_claim.compare_exchange_strong(expected, spawner_reading,
                                                    std::memory_order_relaxed)) {
        return; // the thread reads them itself
    }
    sys::stack_bounds bounds;
    if (sys::thread_stack_bounds(thread, bounds)) {
        record.stack = bounds;
    }
    // release: publishes stack to the thread's acquire below.
    record.stack_claim.store(published, std::memory_order_release);
}

// On the new thread: the bounds its spawner read, or nullptr when the thread
// is to read them itself.
const sys::stack_bounds* stack_bounds_from_spawner(thread_record& record) noexcept {
    std::uint8_t seen = unclaimed;
    // acquire (also on failure): pairs with the spawner's release of stack.
    if (record.stack_claim.compare_exchange_strong(seen, thread_reads, std::memory_order_acquire,
                                                   std::memory_order_acquire)) {
        return nullptr;
    }
    while (seen == spawner_reading) { // one system call away: wait for it
        sys::yield_now();
        seen = record.stack_claim.load(std::memory_order_acquire);
    }
    return record.stack.size != 0 ? &record.stack : nullptr;
}

// The affinity, before anything else runs on the thread (see
// doc/design.md); a refusal becomes the thread's panic in begin_thread().
void apply_affinity(thread_start* start) noexcept {
    if (start != nullptr && start->affinity && !sys::set_current_thread_cpus(*start->affinity)) {
        start->affinity_refused = true;
    }
}

// errc::invalid_argument unless every CPU is one the process may use.
std::optional<boost::system::error_code> check_affinity(std::vector<std::size_t>& cpus) noexcept {
    using boost::system::errc::invalid_argument;
    using boost::system::errc::not_enough_memory;
    if (cpus.empty()) {
        return make_error_code(invalid_argument);
    }
    try {
        std::vector<std::size_t> allowed;
        if (!sys::process_cpus(allowed)) {
            return make_error_code(boost::system::errc::not_supported);
        }
        std::sort(cpus.begin(), cpus.end());
        cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
        if (!std::includes(allowed.begin(), allowed.end(), cpus.begin(), cpus.end())) {
            return make_error_code(invalid_argument);
        }
    } catch (const std::bad_alloc&) {
        return make_error_code(not_enough_memory);
    }
    return std::nullopt;
}

// What a thread does after its function, however that ended.
void finish_thread(thread_record* record, thread_main* main, bool exit_hook_set) noexcept {
    // Before exited(): join() and scope() are ordered after these (Rust's
    // join_orders_after_tls_destructors; rust-lang/rust#116179 for scope).
    run_thread_local_destructors();
    main->exited();
    delete main;
    if (!exit_hook_set) {
        // The C library could not record the exit hook: run it now, or the
        // record would stay listed in threads() and the notice unraised.
        run_exit_hook(record);
    }
}

// The first and last code every rthread-made thread runs.
void run_thread(thread_record* record, thread_main* main, exit_notice* notice) {
    apply_affinity(main->start);
    record->last_words = &raise_exit_notice;
    record->last_words_context = notice;
    const bool exit_hook_set = adopt_as_current(record);
    watch_thread_stack(stack_bounds_from_spawner(*record)); // overflow: a report, not SIGSEGV
    if (record->name) {
        set_os_thread_name(*record->name);
    }
    try {
        main->run();
    } catch (...) {
        // Only the forced unwind of pthread_exit() or pthread_cancel() in the
        // function (main->run() catches every exception): the thread ends
        // as one whose function returned, with thread_exit_payload() as its
        // result, and the unwind goes on to end it (glibc aborts the
        // process if it is stopped).
        finish_thread(record, main, exit_hook_set);
        sys::ending_by_forced_unwind();
        throw;
    }
    // A cancellation that comes after the function returned is not acted on:
    // what is left (local_key destructors, the panic hook's report of a
    // panic in one) must not be cut short.
    sys::ignore_cancellation();
    finish_thread(record, main, exit_hook_set);
}

// What the native thread runs; raw pointers so that a failed start leaves
// their ownership with start_thread().
void thread_entry(void* context) {
    auto* notice = static_cast<exit_notice*>(context);
    run_thread(notice->record, notice->main, notice);
}

} // namespace

boost::system::result<started_thread> start_thread(const spawn_options& options,
                                                   std::unique_ptr<thread_main> main) {
    using boost::system::errc::invalid_argument;
    using boost::system::errc::not_enough_memory;
    const std::optional<std::string>& name = options.name;
    if (name && name->find('\0') != std::string::npos) {
        return make_error_code(invalid_argument);
    }
    const auto stack =
        usable_stack_size(options.stack_size ? *options.stack_size : default_stack_size());
    if (!stack) {
        return make_error_code(not_enough_memory);
    }
    std::optional<std::vector<std::size_t>> affinity;
    if (options.affinity) {
        try {
            affinity = options.affinity;
        } catch (const std::bad_alloc&) {
            return make_error_code(not_enough_memory);
        }
        if (auto bad = check_affinity(*affinity)) {
            return *bad;
        }
    }
    thread_record* record = nullptr;
    try {
        record = make_spawned_record(name);
    } catch (const std::bad_alloc&) {
        return make_error_code(not_enough_memory);
    }
    retain(record); // the handle's reference; the thread adopts the first
    rthread::thread handle = thread_access::adopt(record);
    try {
        // The parent sides of the spawn hooks, on this thread, with the
        // child's handle (Rust runs them at this point too: after the
        // Thread is made, before the native thread).
        auto start = prepare_thread_start(handle, std::move(affinity), options.no_hooks);
        if (!start) {
            unlist(record);
            release(record); // the reference the thread would have adopted
            return start.error();
        }
        main->start = start->release();
    } catch (...) {
        unlist(record);
        release(record); // the reference the thread would have adopted
        throw;
    }
    auto* notice = new (std::nothrow) exit_notice();
    if (notice == nullptr) {
        unlist(record);
        release(record); // the reference the thread would have adopted
        return make_error_code(not_enough_memory);
    }
    notice->record = record;
    notice->main = main.get();
    boost::system::error_code error;
    sys::thread* const native = sys::create_thread(*stack, &thread_entry, notice, error);
    if (native == nullptr) {
        notice->release(); // the thread's reference: no thread took it
        notice->release(); // and the handle's: there is no handle
        unlist(record);
        release(record); // the reference the thread would have adopted
        return error;
    }
    (void)main.release(); // the thread owns it now
    read_stack_bounds_for(*record, sys::thread_handle(native));
    return started_thread{std::move(handle), native_thread(native, notice)};
}

native_thread::~native_thread() {
    if (thread_ != nullptr) {
        sys::detach_thread(thread_); // Rust's drop(JoinHandle)
        notice_->release();
    }
}

void native_thread::join() {
    (void)join_until(deadline::never());
}

bool native_thread::join_until(deadline d) {
    // A thread joining itself would wait for its own notice forever; the
    // backend's join reports it (resource_deadlock_would_occur).
    if (!sys::is_current_thread(thread_) && !notice_->wait(d)) {
        return false;
    }
    if (!sys::join_thread(thread_, d.is_never() ? std::nullopt
                                                : std::optional<std::int64_t>(d.at.count()))) {
        return false;
    }
    thread_ = nullptr;
    std::exchange(notice_, nullptr)->release();
    return true;
}

native_thread::native_handle_type native_thread::native_handle() const noexcept {
    return thread_ != nullptr ? sys::thread_handle(thread_) : native_handle_type{};
}

void throw_invalid_join() {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "rthread: join on a handle that is empty, moved from or already "
                            "joined");
}

void throw_spawn_error(const boost::system::error_code& ec) {
    throw std::system_error(ec, "rthread: failed to spawn thread");
}

} // namespace rthread::detail

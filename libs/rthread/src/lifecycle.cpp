// The life of a spawned thread (lifecycle.hpp), Rust's
// library/std/src/thread/lifecycle.rs in C++:
//
//   builder::spawn / spawn_scoped (spawn.cpp: options, record, hooks)
//     -> launch_thread: the seam's create_thread (sys/thread_backend.hpp)
//     -> thread_entry -> run_thread, on the new thread: affinity, adopt the
//        record, stack watch, OS name
//     -> thread_main::run: the user's function; its value or panic goes to
//        the packet, which the thread lets go of (is_finished())
//     -> finish_thread: local_key destructors, the function object deleted
//     -> (the C library: C++ thread_local destructors)
//     -> on_thread_exit, the exit hook: local_key values a last time, out
//        of threads(), then the end event: the handle's countdown and the
//        scope's, at once
//     -> join (native_thread::join_until: the event, then the seam's join)
//        or scope (scope_state::end: its countdown).
//
// Why the end event and not Boost.Thread's join alone: Boost's join waits on
// a condition variable that the ending thread notifies while it still holds
// that wait's mutex, as its last act. The woken joiner (on one CPU, or
// whenever the scheduler lets a waking thread preempt the one that woke it)
// runs, finds the mutex held, sleeps, is woken again by the unlock, then
// waits once more in pthread_join: several context switches a join where
// pthread_join alone costs one or two (doc/performance.md). The exit hook
// runs after Boost.Thread's last words and after every C++ thread_local
// destructor: a joiner that waited for the event finds Boost's join with
// nothing left to wait for but the thread's exit. Boost's join still
// follows, always: it is what makes join() return after the thread ended.
#include "lifecycle.hpp"

#include "stack_overflow.hpp"
#include "thread_locals.hpp"
#include "thread_start.hpp"

#include "sys/sys.hpp"
#include "sys/thread_backend.hpp"

#include <rthread/detail/countdown.hpp>
#include <rthread/detail/scope_state.hpp>

#include <array>
#include <cstdint>
#include <new>
#include <utility>

namespace rthread::detail {

/// What a spawned thread and its handle share of its life: what the thread
/// starts with (set before it is made), the hand-over of its stack bounds,
/// and its end event. Two references: the thread's (its record's end) and
/// the handle's (native_thread).
class thread_end final : public shared_slot {
public:
    thread_end(thread_record* thread_record, thread_main* thread_body, scope_state* owner) noexcept
        : record(thread_record), main(thread_body), scope_(owner) {
        retain(); // the handle's; the thread's is the first
        if (scope_ != nullptr) {
            scope_->retain();
        }
    }

    /// On the thread, from its exit hook: the thread has ended. The scope
    /// is told last, with this object still alive through the thread's
    /// reference.
    void raise() noexcept {
        event_.count_down();
        if (scope_state* owner = std::exchange(scope_, nullptr)) {
            owner->thread_ended();
            owner->release();
        }
    }
    /// The joiner (one at a time: join needs the handle).
    bool wait(deadline d) noexcept { return event_.wait(d); }

    thread_record* const record;
    thread_main* const main;
    stack_handover stack;

private:
    ~thread_end() override {
        if (scope_ != nullptr) {
            scope_->release(); // never started: the spawner uncounts it
        }
    }

    countdown event_{1};
    scope_state* scope_;
};

namespace {

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

// The affinity, before anything else runs on the thread (see
// doc/design.md); a refusal becomes the thread's panic in begin_thread().
void apply_affinity(thread_start* start) noexcept {
    if (start != nullptr && start->affinity && !sys::set_current_thread_cpus(*start->affinity)) {
        start->affinity_refused = true;
    }
}

// What a thread does after its function, however that ended.
void finish_thread(thread_record* record, thread_main* main, bool exit_hook_set) noexcept {
    // Before the end event: join() and scope() are ordered after these
    // (Rust's join_orders_after_tls_destructors; rust-lang/rust#116179 for
    // scope).
    run_thread_local_destructors();
    delete main;
    if (!exit_hook_set) {
        // The C library could not record the exit hook: run it now, or the
        // record would stay listed in threads() and the end never raised.
        on_thread_exit(record);
    }
}

// The first and last code every rthread-made thread runs.
void run_thread(thread_end* end) {
    thread_record* const record = end->record;
    thread_main* const main = end->main;
    apply_affinity(main->start);
    record->end = end; // the thread's reference, raised and let go by its exit hook
    const bool exit_hook_set = adopt_as_current(record);
    watch_thread_stack(end->stack.take()); // overflow: a report, not SIGSEGV
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

// What the native thread runs; a raw pointer so that a failed start leaves
// the ownership of what it points to with launch_thread().
void thread_entry(void* context) {
    run_thread(static_cast<thread_end*>(context));
}

} // namespace

boost::system::result<native_thread> launch_thread(thread_record* record,
                                                   std::unique_ptr<thread_main> main,
                                                   std::size_t stack_size, scope_state* scope) {
    auto* end = new (std::nothrow) thread_end(record, main.get(), scope);
    if (end == nullptr) {
        unlist(record);
        release(record); // the reference the thread would have adopted
        return make_error_code(boost::system::errc::not_enough_memory);
    }
    boost::system::error_code error;
    sys::thread* const native = sys::create_thread(stack_size, &thread_entry, end, error);
    if (native == nullptr) {
        end->release(); // the thread's reference: no thread took it
        end->release(); // and the handle's: there is no handle
        unlist(record);
        release(record); // the reference the thread would have adopted
        return error;
    }
    (void)main.release(); // the thread owns it now
    end->stack.read_for(sys::thread_handle(native));
    return native_thread(native, end);
}

void on_thread_exit(void* value) noexcept {
    auto* r = static_cast<thread_record*>(value);
    finish_thread_locals();
    unlist(r);
    if (thread_end* end = std::exchange(r->end, nullptr)) {
        end->raise();
        end->release();
    }
    std::size_t spare = 0;
    if (current_thread == r) {
        current_thread = nullptr;
        spare = std::exchange(current_thread_spare_refs, 0);
    }
    release(r, spare + 1); // the thread's own reference and its reserve
}

native_thread::~native_thread() {
    if (thread_ != nullptr) {
        sys::detach_thread(thread_); // Rust's drop(JoinHandle)
        end_->release();
    }
}

void native_thread::join() {
    (void)join_until(deadline::never());
}

bool native_thread::join_until(deadline d) {
    // A thread joining itself would wait for its own end forever; the
    // backend's join reports it (resource_deadlock_would_occur).
    if (!sys::is_current_thread(thread_) && !end_->wait(d)) {
        return false;
    }
    if (!sys::join_thread(thread_, d.is_never() ? std::nullopt
                                                : std::optional<std::int64_t>(d.at.count()))) {
        return false;
    }
    thread_ = nullptr;
    std::exchange(end_, nullptr)->release();
    return true;
}

native_thread::native_handle_type native_thread::native_handle() const noexcept {
    return thread_ != nullptr ? sys::thread_handle(thread_) : native_handle_type{};
}

} // namespace rthread::detail

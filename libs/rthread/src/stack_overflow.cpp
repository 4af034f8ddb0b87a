// The stack-overflow report (stack_overflow.hpp): the message and the
// abort. The OS half (guard pages, alternate stacks, the signal handler)
// is sys/posix_stack_overflow.cpp (sys/windows_stack_overflow.cpp on Windows).
//
// When it is installed: at program start, by the static initializer below,
// which also covers the main thread (Rust installs its handler in the
// runtime's start-up the same way). The linker keeps this file whenever the
// program can spawn a thread or register one (run_thread() calls
// watch_thread_stack(), the registry watch_seen_thread_stack()), so also in
// a program that never spawns; the first of those installs it too, should
// one run from another static initializer that ran first.
#include "stack_overflow.hpp"

#include "sys/stack_guard.hpp"
#include "sys/sys.hpp"

#include <rthread/detail/thread_inner.hpp>

#include <cstdint>
#include <iterator>
#include <string_view>

namespace rthread::detail {

namespace {

// n in decimal, written at the end of buffer; no allocation, no locale.
std::string_view decimal(std::uint64_t n, char (&buffer)[20]) noexcept {
    char* first = std::end(buffer);
    do {
        *--first = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    return std::string_view(first, static_cast<std::size_t>(std::end(buffer) - first));
}

// Runs in the SIGSEGV handler, on the alternate signal stack: only
// async-signal-safe work (no allocation, no lock, no stdio). The name is the
// one rthread::current() gives, read from the same thread-local pointer but
// without current()'s reference count or its registration of a thread
// that has no handle yet (which allocates): such a thread is the main
// thread ("main") or one rthread did not make ("<unnamed>").
[[noreturn]] void report_stack_overflow() noexcept {
    std::string_view name = "<unnamed>";
    if (const thread_inner* inner = current_thread) {
        if (inner->name) {
            name = *inner->name;
        }
    } else if (sys::is_main_thread()) {
        name = "main";
    }
    char digits[20];
    const std::string_view parts[] = {
        "thread '", name, "' (", decimal(sys::current_os_id(), digits),
        ") has overflowed its stack\nfatal runtime error: stack overflow, aborting\n"};
    sys::write_stderr(parts, std::size(parts));
    sys::end_process_after_stack_overflow();
}

void install_once() noexcept {
    // A function-local static: installed once whichever comes first, the
    // static initializer below or a thread spawned from an earlier one.
    static const bool installed = (install_stack_overflow_report(), true);
    (void)installed;
}

[[maybe_unused]] const bool installed_at_start_up = (install_once(), true);

} // namespace

void install_stack_overflow_report() noexcept {
    sys::install_stack_overflow_handler(&report_stack_overflow);
}

void stack_handover::read_for(native_handle_type thread) noexcept {
    std::uint8_t expected = unclaimed;
    // relaxed: the claim publishes nothing; the store below does.
    if (!claim_.compare_exchange_strong(expected, spawner_reading, std::memory_order_relaxed)) {
        return; // the thread reads them itself
    }
    sys::stack_bounds bounds;
    if (sys::thread_stack_bounds(thread, bounds)) {
        bounds_ = bounds;
    }
    // release: publishes bounds_ to the thread's acquire in take().
    claim_.store(published, std::memory_order_release);
}

const sys::stack_bounds* stack_handover::take() noexcept {
    std::uint8_t seen = unclaimed;
    // acquire (also on failure): pairs with the spawner's release of bounds_.
    if (claim_.compare_exchange_strong(seen, thread_reads, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
        return nullptr;
    }
    while (seen == spawner_reading) { // one system call away: wait for it
        sys::yield_now();
        seen = claim_.load(std::memory_order_acquire);
    }
    return bounds_.size != 0 ? &bounds_ : nullptr; // size 0: the spawner could not
}

void watch_thread_stack(const sys::stack_bounds* known) noexcept {
    install_once();
    sys::watch_current_thread_stack(known);
}

void watch_seen_thread_stack() noexcept {
    install_once();
#if defined(_WIN32)
    sys::watch_current_thread_stack(); // a stack guarantee: the same on every thread
#else
    sys::watch_current_foreign_thread_stack();
#endif
}

} // namespace rthread::detail

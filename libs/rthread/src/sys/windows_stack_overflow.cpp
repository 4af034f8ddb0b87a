// The Windows side of the stack-overflow report (the seam in sys/stack_guard.hpp).
//
// Windows raises EXCEPTION_STACK_OVERFLOW on the overflowing thread when
// its stack reaches the guard page, and then runs exception handlers on
// what is left of that stack. SetThreadStackGuarantee keeps a reserve
// beyond the guard for exactly that; every thread the library watches (the
// main thread at start-up, those rthread starts, and any other thread when
// it first gets a handle: sys/windows.cpp) gets one, as Rust's
// sys/pal/windows/stack_overflow.rs does for its threads. A vectored handler, first in the
// chain, reports the overflow of a watched thread; on any other thread, and
// for any other exception, it hands on (EXCEPTION_CONTINUE_SEARCH).
#include "stack_guard.hpp"

#include "sys.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

namespace rthread::sys {

namespace {

// Rust's reserve on x86_64 (0x5000): room for the report, which writes to
// stderr and allocates nothing.
constexpr ULONG stack_guarantee = 0x5000;

// Set once at installation, before any thread is watched (installation runs
// at program start, see stack_overflow.cpp).
std::atomic<stack_overflow_report> report{nullptr};

// Whether a thread is watched (has its guarantee): non-null in this TLS
// slot, read by the handler on the overflowing thread. Not a C++
// thread_local: with mingw-w64's emulated TLS, the first write of one on a
// thread kept that thread's C++ thread_local destructors from running at
// its exit (under Wine), and join relies on them.
DWORD watched_slot = TLS_OUT_OF_INDEXES; // allocated at installation

LONG CALLBACK on_exception(PEXCEPTION_POINTERS info) {
    if (info->ExceptionRecord->ExceptionCode != EXCEPTION_STACK_OVERFLOW ||
        watched_slot == TLS_OUT_OF_INDEXES || ::TlsGetValue(watched_slot) == nullptr) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    // relaxed: stored before any thread was watched (see install).
    const stack_overflow_report on_overflow = report.load(std::memory_order_relaxed);
    if (on_overflow == nullptr) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    on_overflow(); // does not return
    return EXCEPTION_CONTINUE_SEARCH;
}

// Wine (8.0) commits a thread's whole stack up front and leaves a single
// guard page, just above the last one: the overflow is raised on that last
// page whatever the guarantee, and dispatching it needs more than the page
// left, so the thread is ended with no handler run (and its joiner waits
// forever). Where the stack's low end is committed so, a guard page of our
// own inside the guaranteed area gets the exception raised with the
// guarantee still below. On Windows that part of the stack is only
// reserved, the guarantee works as documented, and nothing is done.
void guard_inside_the_guarantee() noexcept {
    MEMORY_BASIC_INFORMATION stack{};
    if (::VirtualQuery(&stack, &stack, sizeof stack) == 0) {
        return;
    }
    SYSTEM_INFO system;
    ::GetSystemInfo(&system);
    const std::size_t page = system.dwPageSize;
    // The lowest page is the hard guard; the guarantee lies above the next.
    char* const guard = static_cast<char*>(stack.AllocationBase) + stack_guarantee;
    MEMORY_BASIC_INFORMATION at_guard{};
    if (guard + 4 * page > reinterpret_cast<char*>(&stack) ||
        ::VirtualQuery(guard, &at_guard, sizeof at_guard) == 0 || at_guard.State != MEM_COMMIT ||
        (at_guard.Protect & PAGE_GUARD) != 0) {
        return;
    }
    DWORD old = 0;
    ::VirtualProtect(guard, page, PAGE_READWRITE | PAGE_GUARD, &old);
}

void watch() noexcept {
    if (::TlsGetValue(watched_slot) != nullptr) {
        return; // watched already
    }
    ULONG size = stack_guarantee;
    if (::SetThreadStackGuarantee(&size)) {
        guard_inside_the_guarantee();
        ::TlsSetValue(watched_slot, &watched_slot); // any non-null value
    }
}

} // namespace

bool stack_overflow_report_available() noexcept {
    return true;
}

void install_stack_overflow_handler(stack_overflow_report on_overflow) noexcept {
    stack_overflow_report none = nullptr;
    // relaxed: the first call's report is kept; threads are started after.
    const bool first = report.compare_exchange_strong(none, on_overflow, std::memory_order_relaxed);
    if (first) {
        watched_slot = ::TlsAlloc();
    }
    // First in the chain; called again, first again, above handlers added
    // since (installation is not concurrent: program start, then tests).
    static PVOID ours = nullptr;
    if (ours != nullptr) {
        ::RemoveVectoredExceptionHandler(ours);
    }
    ours = ::AddVectoredExceptionHandler(1, &on_exception);
    if (first && is_main_thread()) {
        watch();
    }
}

bool thread_stack_bounds(detail::native_thread::native_handle_type, stack_bounds&) noexcept {
    return false; // the guarantee is set by the thread itself; no bounds needed
}

void watch_current_thread_stack(const stack_bounds*) noexcept {
    if (report.load(std::memory_order_relaxed) != nullptr && watched_slot != TLS_OUT_OF_INDEXES) {
        watch();
    }
}

void write_stderr(const std::string_view* parts, std::size_t count) noexcept {
    // One WriteFile when the parts fit the buffer (the report always does
    // but for a very long thread name), else one a part.
    const HANDLE err = ::GetStdHandle(STD_ERROR_HANDLE);
    if (err == nullptr || err == INVALID_HANDLE_VALUE) {
        return;
    }
    char buffer[1024];
    std::size_t used = 0;
    bool fits = true;
    for (std::size_t i = 0; i < count && fits; ++i) {
        fits = parts[i].size() <= sizeof buffer - used;
        if (fits) {
            std::copy(parts[i].begin(), parts[i].end(), buffer + used);
            used += parts[i].size();
        }
    }
    const auto write_all = [err](const char* data, std::size_t size) {
        while (size > 0) {
            DWORD written = 0;
            const DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(size, 1u << 30));
            if (!::WriteFile(err, data, chunk, &written, nullptr) || written == 0) {
                return;
            }
            data += written;
            size -= written;
        }
    };
    if (fits) {
        write_all(buffer, used);
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        write_all(parts[i].data(), parts[i].size());
    }
}

void end_process_after_stack_overflow() noexcept {
    // 134: what a shell shows for SIGABRT (128 + 6), the status tests and
    // scripts read on POSIX; abort() from here would end with 3.
    ::TerminateProcess(::GetCurrentProcess(), 134);
    ::ExitProcess(134); // not reached
}

} // namespace rthread::sys

// The POSIX side of the stack-overflow report (the seam in sys/stack_guard.hpp), for
// Linux and the generic POSIX backend alike: guard pages, alternate signal
// stacks, a SIGSEGV/SIGBUS handler. What differs is how a thread's stack is
// found: pthread_getattr_np (glibc, musl), pthread_attr_get_np (FreeBSD),
// pthread_get_stackaddr_np (macOS).
//
// The figures below are Linux's.
// Cost per thread, by design: two system calls, no mapping. glibc already
// puts a guard page below every thread stack it makes; pthread_getattr_np
// tells where it is (for a thread other than main it reads glibc's own
// records; its one system call is the sched_getaffinity it makes to fill
// the attribute's CPU set). The spawner asks it right after pthread_create
// (thread_stack_bounds), while the new thread waits for a CPU; a new thread
// that runs first asks for itself. Asked on the new thread, the call costs
// spawn+join context switches of its own (doc/performance.md). The alternate signal stack is
// carved from the bottom of the thread's own stack, just above the guard page, instead of being
// mapped (Rust maps one, with its own guard page, per thread, and unmaps it at exit: about eight
// system calls). That is safe because the kernel switches to the alternate stack only when the
// stack pointer is not already on it (after the 128-byte red zone is accounted for):
//   - stack pointer above the carved region (the usual case): the region
//     holds no live frame, the handler runs there;
//   - stack pointer inside it (a deep but legal stack): the kernel pushes
//     the signal frame below the stack pointer, as without an alternate
//     stack;
//   - stack pointer below it: only possible in the guard page, i.e. the
//     stack has overflowed; the handler then overwrites the overflowing
//     frames, which are never returned to: the process aborts.
// The region stays valid for the thread's whole life (thread-local
// destructors included), so it is never unregistered: the kernel forgets it
// with the thread. The one case it cannot cover: code that switches the
// thread to a stack of its own (a fiber) while its original stack is within
// the carved region of its end; a signal on the fiber would then overwrite
// those frames. See doc/reliability.md.
#include "stack_guard.hpp"

#include "sys.hpp"

#include <boost/context/stack_traits.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/auxv.h>
#elif defined(__FreeBSD__)
#include <pthread_np.h>
#endif

namespace rthread::sys {

namespace {

// Under a sanitizer, the sanitizer owns SIGSEGV and reports a stack
// overflow itself, and we install no handler. AddressSanitizer also gives
// every thread an alternate signal stack, which it unmaps when the thread
// ends (so we must not replace it); ThreadSanitizer gives one to the main
// thread only, so we still carve one for the threads we start, on which its
// report can run.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitizer_reports = true;
constexpr bool sanitizer_gives_alternate_stacks = true;
#elif defined(__SANITIZE_THREAD__)
constexpr bool sanitizer_reports = true;
constexpr bool sanitizer_gives_alternate_stacks = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(hwaddress_sanitizer)
constexpr bool sanitizer_reports = true;
constexpr bool sanitizer_gives_alternate_stacks = true;
#elif __has_feature(thread_sanitizer)
constexpr bool sanitizer_reports = true;
constexpr bool sanitizer_gives_alternate_stacks = false;
#else
constexpr bool sanitizer_reports = false;
constexpr bool sanitizer_gives_alternate_stacks = false;
#endif
#else
constexpr bool sanitizer_reports = false;
constexpr bool sanitizer_gives_alternate_stacks = false;
#endif

// The addresses whose faults count as this thread's stack overflow:
// [low, high). Empty (0, 0) on threads that are not watched. A trivial type
// with a constant initialiser, so that reading it in the signal handler is a
// plain thread-pointer-relative load.
struct guard_range {
    std::uintptr_t low;
    std::uintptr_t high;
};
thread_local guard_range this_thread_guard{0, 0};

// Set once at installation, before any thread is watched (installation runs
// at program start, see stack_overflow.cpp), and read by the handler and by
// new threads; thread creation orders the write before their reads.
stack_overflow_report report = nullptr;
std::size_t alternate_stack_size = 0;
std::size_t minimum_alternate_stack_size = 0;

// What was installed before us, for faults that are not ours. Written only
// while our handler is not installed for that signal.
struct sigaction previous_segv {};
struct sigaction previous_bus {};

// The main thread's alternate stack: its own stack cannot be carved (it
// grows on demand up to RLIMIT_STACK), and a static buffer costs no system
// call and no memory until a signal uses it.
constexpr std::size_t main_alternate_stack_size = std::size_t{64} << 10;
alignas(64) char main_alternate_stack[main_alternate_stack_size];

// Linux keeps this gap (stack_guard_gap, 256 pages by default) free below
// a growing main stack; a fault there, below the RLIMIT_STACK limit, is the
// main thread's overflow.
constexpr std::size_t main_guard_pages = 256;

void hand_on(int sig, siginfo_t* info, void* context) noexcept {
    const struct sigaction& previous = sig == SIGSEGV ? previous_segv : previous_bus;
    if ((previous.sa_flags & SA_SIGINFO) != 0) {
        previous.sa_sigaction(sig, info, context);
        return;
    }
    if (previous.sa_handler == SIG_IGN && info->si_code <= 0) {
        return; // a SIGSEGV sent by kill() to a process that ignores it
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    // The default action (a hardware fault cannot be ignored): restore it.
    // A fault then happens again when the handler returns and ends the
    // process with the signal, as if we had never been there; a signal
    // sent by kill() is sent again (it stays blocked until we return).
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    ::sigaction(sig, &default_action, nullptr);
    if (info->si_code <= 0) {
        ::raise(sig);
    }
}

void on_fault(int sig, siginfo_t* info, void* context) {
    const int saved_errno = errno;
    // Only faults the kernel raised (si_code > 0) carry a fault address.
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    const guard_range guard = this_thread_guard;
    if (info->si_code > 0 && guard.low <= address && address < guard.high) {
        report(); // does not return
    }
    hand_on(sig, info, context);
    errno = saved_errno;
}

bool is_ours(const struct sigaction& action) noexcept {
    return (action.sa_flags & SA_SIGINFO) != 0 && action.sa_sigaction == &on_fault;
}

void install_for(int sig, struct sigaction& previous) noexcept {
    struct sigaction current {};
    ::sigaction(sig, nullptr, &current);
    if (is_ours(current)) {
        return;
    }
    previous = current; // before ours is installed: the handler reads it
    struct sigaction ours {};
    ours.sa_sigaction = &on_fault;
    ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&ours.sa_mask);
    ::sigaction(sig, &ours, nullptr);
}

// Gives the calling thread the alternate stack [base, base + size) unless
// it already has one (installed by someone else, who keeps it): one system
// call, which sets ours and returns the previous setting at once.
void use_alternate_stack(void* base, std::size_t size) noexcept {
    stack_t ours{};
    ours.ss_sp = base;
    ours.ss_size = size;
    ours.ss_flags = 0;
    stack_t previous{};
    if (::sigaltstack(&ours, &previous) == 0 && (previous.ss_flags & SS_DISABLE) == 0) {
        ::sigaltstack(&previous, nullptr); // it was someone else's: put it back
    }
}

bool stack_bounds_of(pthread_t thread, stack_bounds& bounds) noexcept {
#if defined(__APPLE__)
    // The top and the size; the guard is the default's, a page.
    const auto top = reinterpret_cast<std::uintptr_t>(::pthread_get_stackaddr_np(thread));
    bounds.size = ::pthread_get_stacksize_np(thread);
    bounds.low = top - bounds.size;
    bounds.guard = boost::context::stack_traits::page_size();
    return true;
#else
    pthread_attr_t attr;
#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
    ::pthread_attr_init(&attr);
    if (::pthread_attr_get_np(thread, &attr) != 0) {
        ::pthread_attr_destroy(&attr);
        return false;
    }
#else
    if (::pthread_getattr_np(thread, &attr) != 0) {
        return false;
    }
#endif
    void* base = nullptr;
    const bool ok = ::pthread_attr_getstack(&attr, &base, &bounds.size) == 0 &&
                    ::pthread_attr_getguardsize(&attr, &bounds.guard) == 0;
    ::pthread_attr_destroy(&attr);
    bounds.low = reinterpret_cast<std::uintptr_t>(base);
    return ok;
#endif
}

bool current_stack_bounds(stack_bounds& bounds) noexcept {
    return stack_bounds_of(::pthread_self(), bounds);
}

void watch_main_thread() noexcept {
    // For the main thread glibc reads /proc/self/maps and RLIMIT_STACK: the
    // low end is where the kernel stops growing the stack.
    stack_bounds bounds;
    if (!current_stack_bounds(bounds)) {
        return;
    }
    const std::size_t gap = main_guard_pages * boost::context::stack_traits::page_size();
    if (bounds.low <= gap) {
        return; // an unlimited stack reaching the bottom of the address space
    }
    this_thread_guard = {bounds.low - gap, bounds.low};
    use_alternate_stack(main_alternate_stack, main_alternate_stack_size);
}

std::size_t wanted_alternate_stack_size() noexcept {
    // The kernel's signal frame (AT_MINSIGSTKSZ, in _SC_SIGSTKSZ with room to
    // spare) plus two pages for the handler and a handler it hands on to;
    // a sanitizer's report (it symbolizes the stack) needs far more.
    const std::size_t page = boost::context::stack_traits::page_size();
    if (sanitizer_reports) {
        return std::size_t{256} << 10;
    }
    const long from_sysconf = ::sysconf(_SC_SIGSTKSZ);
    const std::size_t frame = std::max<std::size_t>(
        from_sysconf > 0 ? static_cast<std::size_t>(from_sysconf) : 0, MINSIGSTKSZ);
    return (frame + page - 1) / page * page + 2 * page;
}

// What a tiny stack must leave for the alternate one: the kernel's own
// signal frame (AT_MINSIGSTKSZ; glibc's MINSIGSTKSZ is far more generous)
// and a page for the report.
std::size_t least_alternate_stack_size() noexcept {
#if defined(__linux__)
    const unsigned long frame = ::getauxval(AT_MINSIGSTKSZ);
#else
    const unsigned long frame = MINSIGSTKSZ;
#endif
    return std::max<std::size_t>(frame, 2048) + boost::context::stack_traits::page_size();
}

} // namespace

bool stack_overflow_report_available() noexcept {
    return !sanitizer_reports;
}

void install_stack_overflow_handler(stack_overflow_report on_overflow) noexcept {
    const bool first = report == nullptr;
    if (first) {
        report = on_overflow;
        alternate_stack_size = wanted_alternate_stack_size();
        minimum_alternate_stack_size = least_alternate_stack_size();
    }
    if (sanitizer_reports) {
        return;
    }
    install_for(SIGSEGV, previous_segv);
    install_for(SIGBUS, previous_bus);
    if (first && is_main_thread()) {
        watch_main_thread();
    }
}

bool thread_stack_bounds(detail::native_thread::native_handle_type thread,
                         stack_bounds& bounds) noexcept {
    return stack_bounds_of(thread, bounds);
}

void watch_current_thread_stack(const stack_bounds* known) noexcept {
    if (report == nullptr || sanitizer_gives_alternate_stacks) {
        return;
    }
    stack_bounds bounds;
    if (known != nullptr) {
        bounds = *known;
    } else if (!current_stack_bounds(bounds)) {
        return;
    }
    if (bounds.guard == 0 || bounds.low < bounds.guard) {
        return; // no guard page: an overflow cannot be told from other faults
    }
    // glibc counts the thread's TLS and its own descriptor, at the top of
    // the block, in the stack size: on a small stack the carved region must
    // end below the frames live now (ours and our callers').
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    const std::uintptr_t floor = bounds.low + minimum_alternate_stack_size;
    const std::uintptr_t top =
        std::min(bounds.low + alternate_stack_size, here - std::min(here, std::uintptr_t{512}));
    if (top <= floor) {
        return; // too small a stack to hold a signal frame besides its own
    }
    this_thread_guard = {bounds.low - bounds.guard, bounds.low};
    // NOLINTNEXTLINE(performance-no-int-to-ptr): an address the OS gave as a number
    use_alternate_stack(reinterpret_cast<void*>(bounds.low),
                        (top - bounds.low) & ~std::uintptr_t{15});
}

namespace {

// A thread the library did not make, watched from its first current():
// its alternate stack is mapped, with a guard page below it, not carved
// from its own stack (which may be in use at any depth by then, or the
// thread may be on a fiber's stack), and unmapped by a pthread key
// destructor when the thread ends, as Rust's stack_overflow::Handler does.
// The mapping's size is page + alternate_stack_size, fixed at installation.
std::size_t mapping_size() noexcept {
    return boost::context::stack_traits::page_size() + alternate_stack_size;
}

void unmap_alternate_stack(void* mapping) noexcept {
    this_thread_guard = {0, 0};
    const auto* const ours =
        static_cast<char*>(mapping) + boost::context::stack_traits::page_size();
    stack_t current{};
    if (::sigaltstack(nullptr, &current) == 0 && current.ss_sp == ours) {
        stack_t off{};
        off.ss_flags = SS_DISABLE;
        ::sigaltstack(&off, nullptr);
    }
    ::munmap(mapping, mapping_size());
}

// Made once, never deleted (threads may end after static destructors); no
// key (pthread_key_create failed): foreign threads are not watched.
const pthread_key_t* alternate_stack_key() noexcept {
    static pthread_key_t key{};
    static const bool made = ::pthread_key_create(&key, &unmap_alternate_stack) == 0;
    return made ? &key : nullptr;
}

void* map_alternate_stack() noexcept {
    int flags = MAP_PRIVATE | MAP_ANON;
#if defined(__linux__) || defined(__OpenBSD__)
    flags |= MAP_STACK; // OpenBSD faults on a stack outside MAP_STACK memory
#endif
    void* mapping = ::mmap(nullptr, mapping_size(), PROT_READ | PROT_WRITE, flags, -1, 0);
    if (mapping == MAP_FAILED) {
        return nullptr;
    }
    // The guard page: a handler that overflows the alternate stack faults
    // there (and ends the process) instead of writing past it.
    ::mprotect(mapping, boost::context::stack_traits::page_size(), PROT_NONE);
    return mapping;
}

} // namespace

void watch_current_foreign_thread_stack() noexcept {
    if (report == nullptr || sanitizer_gives_alternate_stacks || this_thread_guard.high != 0) {
        return; // not installed, the sanitizer's stacks, or watched already
    }
    if (is_main_thread()) {
        watch_main_thread(); // not yet, if the handler was installed first elsewhere
        return;
    }
    stack_bounds bounds;
    if (!current_stack_bounds(bounds) || bounds.guard == 0 || bounds.low < bounds.guard) {
        return; // no guard page: an overflow cannot be told from other faults
    }
    const guard_range guard{bounds.low - bounds.guard, bounds.low};
    stack_t previous{};
    if (::sigaltstack(nullptr, &previous) != 0) {
        return;
    }
    if ((previous.ss_flags & SS_DISABLE) == 0) {
        this_thread_guard = guard; // someone else's alternate stack: they keep it
        return;
    }
    const pthread_key_t* key = alternate_stack_key();
    void* const mapping = key != nullptr ? map_alternate_stack() : nullptr;
    if (mapping == nullptr) {
        return;
    }
    stack_t ours{};
    ours.ss_sp = static_cast<char*>(mapping) + boost::context::stack_traits::page_size();
    ours.ss_size = alternate_stack_size;
    ours.ss_flags = 0;
    if (::pthread_setspecific(*key, mapping) != 0 || ::sigaltstack(&ours, nullptr) != 0) {
        ::pthread_setspecific(*key, nullptr);
        ::munmap(mapping, mapping_size());
        return;
    }
    this_thread_guard = guard;
}

void write_stderr(const std::string_view* parts, std::size_t count) noexcept {
    constexpr std::size_t max_parts = 8;
    iovec vector[max_parts];
    count = std::min(count, max_parts);
    for (std::size_t i = 0; i < count; ++i) {
        vector[i].iov_base = const_cast<char*>(parts[i].data());
        vector[i].iov_len = parts[i].size();
    }
    while (::writev(STDERR_FILENO, vector, static_cast<int>(count)) == -1 && errno == EINTR) {
    }
}

void end_process_after_stack_overflow() noexcept {
    std::abort();
}

} // namespace rthread::sys

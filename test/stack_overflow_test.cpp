// The stack-overflow report: a thread whose stack overflows prints Rust's
//   thread '<name>' (<os thread id>) has overflowed its stack
//   fatal runtime error: stack overflow, aborting
// and the process aborts (SIGABRT); every other fault is handed on to the
// handler installed before ours. Each case runs a scenario in a fresh
// process (the handler is installed at program start, before main).
//
// Under AddressSanitizer and ThreadSanitizer the sanitizer owns SIGSEGV and
// the library installs no handler (sys::stack_overflow_report_available()
// is false): an overflow must then end the process with the sanitizer's own
// "stack-overflow" report, which these tests accept instead of ours.
#define BOOST_TEST_MODULE stack_overflow
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"
#include "stack_overflow.hpp"
#include "sys/stack_guard.hpp"
#include "sys/sys.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string>
#include <thread>

#if RTHREAD_TEST_POSIX
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <fstream>
#endif

namespace {

// Recurses until the stack runs out. Frames of about 300 bytes (less than a
// page) make the first access below the stack land in the guard page; the
// volatile array and the use of the result after the call keep the
// compiler from turning the recursion into a loop; the volatile bound (never
// reached) from calling it infinite.
volatile int recursion_bound = 1 << 30;

int recurse(int depth) {
    volatile char frame[256];
    frame[0] = static_cast<char>(depth);
    frame[sizeof frame - 1] = static_cast<char>(depth);
    if (depth == recursion_bound) {
        return 0;
    }
    return recurse(depth + 1) + frame[0] + frame[sizeof frame - 1];
}

// Prints the calling thread's OS id on stdout (so the test can compare it
// with the report), then overflows.
void print_os_id_and_overflow() {
    std::printf("%llu\n", static_cast<unsigned long long>(rthread::sys::current_os_id()));
    std::fflush(stdout);
    std::printf("%d\n", recurse(0)); // not reached
}

bool ours() {
    return rthread::sys::stack_overflow_report_available();
}

// The report for `name`, on the thread whose OS id the scenario printed.
void check_overflow_reported(const test_support::child_result& child, const std::string& name) {
    if (!ours()) {
        BOOST_TEST(!(child.exited && child.exit_code == 0), child.stderr_text);
        BOOST_TEST(child.stderr_text.find("stack-overflow") != std::string::npos,
                   child.stderr_text);
        return;
    }
    BOOST_TEST(child.signal == SIGABRT, "exit " << child.exit_code << " signal " << child.signal
                                                << ": " << child.stderr_text);
    const std::string os_id = child.stdout_text.substr(0, child.stdout_text.find('\n'));
    BOOST_TEST(!os_id.empty());
    const std::string expected = "thread '" + name + "' (" + os_id +
                                 ") has overflowed its stack\nfatal runtime error: stack "
                                 "overflow, aborting\n";
    BOOST_TEST(child.stderr_text == expected);
}

} // namespace

RTHREAD_SCENARIO(overflow_on_main_thread) {
    print_os_id_and_overflow();
    return 0;
}

RTHREAD_SCENARIO(overflow_on_main_thread_with_a_handle) {
    (void)rthread::current(); // registered: the name now comes from its handle
    print_os_id_and_overflow();
    return 0;
}

RTHREAD_SCENARIO(overflow_on_unnamed_thread_with_default_stack) {
    (void)rthread::spawn(&print_os_id_and_overflow).join();
    return 0;
}

RTHREAD_SCENARIO(overflow_on_named_thread_with_64_kib_stack) {
    (void)rthread::builder{}
        .name("deep-thought")
        .stack_size(std::size_t{64} << 10)
        .spawn(&print_os_id_and_overflow)
        .value()
        .join();
    return 0;
}

RTHREAD_SCENARIO(overflow_on_thread_with_minimum_stack) {
    (void)rthread::builder{}
        .name("tiny")
        .stack_size(0)
        .spawn(&print_os_id_and_overflow)
        .value()
        .join();
    return 0;
}

RTHREAD_SCENARIO(overflow_on_thread_with_8_mib_stack_and_long_name) {
    (void)rthread::builder{}
        .name("a thread name well past fifteen bytes")
        .stack_size(8 << 20)
        .spawn(&print_os_id_and_overflow)
        .value()
        .join();
    return 0;
}

// Many threads were made and ended before; their stacks are reused by
// glibc's cache. The overflowing thread must still find its own guard.
RTHREAD_SCENARIO(overflow_after_many_threads_reused_their_stacks) {
    for (int i = 0; i < 50; ++i) {
        (void)rthread::builder{}
            .stack_size(static_cast<std::size_t>(i % 3 + 1) << 16)
            .spawn([] {})
            .value()
            .join();
    }
    (void)rthread::builder{}
        .name("late")
        .stack_size(std::size_t{128} << 10)
        .spawn(&print_os_id_and_overflow)
        .value()
        .join();
    return 0;
}

BOOST_AUTO_TEST_CASE(main_thread_overflow_is_reported_and_aborts) {
    check_overflow_reported(test_support::run_scenario("overflow_on_main_thread"), "main");
}

BOOST_AUTO_TEST_CASE(main_thread_with_a_handle_is_reported_as_main) {
    check_overflow_reported(test_support::run_scenario("overflow_on_main_thread_with_a_handle"),
                            "main");
}

BOOST_AUTO_TEST_CASE(unnamed_thread_with_default_stack_is_reported_as_unnamed) {
    check_overflow_reported(
        test_support::run_scenario("overflow_on_unnamed_thread_with_default_stack"), "<unnamed>");
}

BOOST_AUTO_TEST_CASE(named_thread_with_custom_stack_is_reported_by_name) {
    check_overflow_reported(
        test_support::run_scenario("overflow_on_named_thread_with_64_kib_stack"), "deep-thought");
}

BOOST_AUTO_TEST_CASE(thread_with_the_minimum_stack_is_reported) {
    check_overflow_reported(test_support::run_scenario("overflow_on_thread_with_minimum_stack"),
                            "tiny");
}

BOOST_AUTO_TEST_CASE(report_carries_the_whole_name_not_the_os_cut) {
    check_overflow_reported(
        test_support::run_scenario("overflow_on_thread_with_8_mib_stack_and_long_name"),
        "a thread name well past fifteen bytes");
}

BOOST_AUTO_TEST_CASE(reused_stacks_are_watched_too) {
    check_overflow_reported(
        test_support::run_scenario("overflow_after_many_threads_reused_their_stacks"), "late");
}

BOOST_AUTO_TEST_CASE(overflow_is_reported_when_the_stack_size_comes_from_rthread_min_stack) {
    check_overflow_reported(
        test_support::run_scenario("overflow_on_unnamed_thread_with_default_stack",
                                   {"RTHREAD_MIN_STACK=262144"}),
        "<unnamed>");
}

// ---- faults that are not stack overflows are handed on ------------------

#if RTHREAD_TEST_POSIX
namespace {

// Writes to an inaccessible page that is no thread's guard: the same kind
// of fault as an overflow (SEGV_ACCERR), at an address that is not one.
void write_to_a_protected_page() {
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *static_cast<volatile int*>(page) = 1;
}

// The user's handler: says so and ends the process with a code of its own.
void users_segv_handler(int sig, siginfo_t* info, void*) {
    char line[96];
    const int n =
        std::snprintf(line, sizeof line, "user handler: signal %d at %p\n", sig, info->si_addr);
    (void)!::write(STDERR_FILENO, line, static_cast<std::size_t>(n));
    ::_exit(42);
}

void install_users_handler() {
    struct sigaction action {};
    action.sa_sigaction = &users_segv_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGSEGV, &action, nullptr);
}

// The library's handler, put back on top of whatever is installed now (the
// user's handler, here), as if that one had been installed before ours.
void install_ours_on_top() {
    rthread::detail::install_stack_overflow_report();
}

} // namespace

RTHREAD_SCENARIO(protected_page_write_on_main_thread) {
    write_to_a_protected_page();
    return 0;
}

RTHREAD_SCENARIO(protected_page_write_on_spawned_thread) {
    (void)rthread::spawn(&write_to_a_protected_page).join();
    return 0;
}

RTHREAD_SCENARIO(sigsegv_sent_by_kill) {
    ::kill(::getpid(), SIGSEGV);
    return 0;
}

RTHREAD_SCENARIO(protected_page_write_with_a_handler_installed_before_ours) {
    install_users_handler();
    install_ours_on_top();
    (void)rthread::spawn(&write_to_a_protected_page).join();
    return 0;
}

RTHREAD_SCENARIO(overflow_with_a_handler_installed_before_ours) {
    install_users_handler();
    install_ours_on_top();
    (void)rthread::builder{}.name("over").spawn(&print_os_id_and_overflow).value().join();
    return 0;
}

// A SIGBUS: touching a page of a file mapping past the end of the file.
RTHREAD_SCENARIO(sigbus_past_the_end_of_a_file_mapping) {
    char path[] = "/tmp/rthread-sigbus-XXXXXX";
    const int fd = ::mkstemp(path);
    ::unlink(path);
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0); // the file is empty
    (void)rthread::spawn([page] { (void)*static_cast<volatile char*>(page); }).join();
    return 0;
}

// A fault outside any guard page is not an overflow: with our handler it
// ends the process as a plain SIGSEGV, silently; under a sanitizer, the
// sanitizer reports a SEGV.
void check_plain_sigsegv(const char* scenario) {
    const auto child = test_support::run_scenario(scenario);
    BOOST_TEST(child.stderr_text.find("overflowed") == std::string::npos, child.stderr_text);
    if (ours()) {
        BOOST_TEST(child.signal == SIGSEGV, child.signal);
        BOOST_TEST(child.stderr_text.empty(), child.stderr_text);
    } else {
        BOOST_TEST(child.stderr_text.find("SEGV") != std::string::npos, child.stderr_text);
    }
}
#endif

BOOST_AUTO_TEST_CASE(protected_page_write_on_main_thread_is_a_plain_sigsegv,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    check_plain_sigsegv("protected_page_write_on_main_thread");
#endif
}

BOOST_AUTO_TEST_CASE(protected_page_write_on_spawned_thread_is_a_plain_sigsegv,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    check_plain_sigsegv("protected_page_write_on_spawned_thread");
#endif
}

BOOST_AUTO_TEST_CASE(sigsegv_sent_by_kill_keeps_its_default_action,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const auto child = test_support::run_scenario("sigsegv_sent_by_kill");
    BOOST_TEST(child.stderr_text.find("overflowed") == std::string::npos, child.stderr_text);
    if (ours()) {
        BOOST_TEST(child.signal == SIGSEGV, child.signal);
    } else {
        BOOST_TEST(!(child.exited && child.exit_code == 0));
    }
#endif
}

BOOST_AUTO_TEST_CASE(other_faults_reach_the_handler_installed_before,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const auto child =
        test_support::run_scenario("protected_page_write_with_a_handler_installed_before_ours");
    BOOST_TEST(child.exited);
    BOOST_TEST(child.exit_code == 42, child.exit_code);
    BOOST_TEST(child.stderr_text.rfind("user handler: signal 11 at 0x", 0) == 0, child.stderr_text);
#endif
}

BOOST_AUTO_TEST_CASE(overflow_is_ours_even_with_a_handler_installed_before,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const auto child = test_support::run_scenario("overflow_with_a_handler_installed_before_ours");
    if (ours()) {
        check_overflow_reported(child, "over");
    } else {
        // No handler of ours: the user's handler, on the sanitizer's
        // alternate stack, sees the fault.
        BOOST_TEST(child.exit_code == 42, child.stderr_text);
    }
#endif
}

BOOST_AUTO_TEST_CASE(sigbus_is_handed_on,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const auto child = test_support::run_scenario("sigbus_past_the_end_of_a_file_mapping");
    BOOST_TEST(child.stderr_text.find("overflowed") == std::string::npos, child.stderr_text);
    if (ours()) {
        BOOST_TEST(child.signal == SIGBUS, child.signal);
    } else {
        BOOST_TEST(!(child.exited && child.exit_code == 0));
    }
#endif
}

// ---- threads that do not overflow --------------------------------------

#if RTHREAD_TEST_POSIX
namespace {

std::atomic<int> usr2_seen{0};

void on_usr2(int) {
    usr2_seen.fetch_add(1);
}

// Recurses n frames of about 1 KiB, raising SIGUSR2 (whose handler runs on
// the alternate stack, SA_ONSTACK) at the deepest one; the sum is only
// right if no frame was overwritten by the signal.
int deep(int n) {
    volatile char frame[1024];
    frame[0] = static_cast<char>(n);
    if (n == 0) {
        ::raise(SIGUSR2);
        return frame[0];
    }
    return deep(n - 1) + frame[0];
}

} // namespace
#endif

// The alternate stack is carved from the bottom of the thread's own stack
// and never unregistered. Signals that run on it while the thread is
// shallow (the region is free) or deep inside it (the kernel then pushes
// the signal frame below the stack pointer, as without an alternate stack)
// leave every live frame intact.
BOOST_AUTO_TEST_CASE(signals_on_the_alternate_stack_leave_live_frames_intact,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    struct sigaction action {};
    action.sa_handler = &on_usr2;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    struct sigaction previous {};
    ::sigaction(SIGUSR2, &action, &previous);
    const int before = usr2_seen.load();
    for (int depth : {0, 10, 30, 45}) { // up to about 46 KiB of a 64 KiB stack
        auto h = rthread::builder{}.stack_size(std::size_t{64} << 10).spawn([depth] {
            return deep(depth);
        });
        BOOST_TEST(h.value().join().value() == depth * (depth + 1) / 2, "depth " << depth);
    }
    BOOST_TEST(usr2_seen.load() == before + 4);
    ::sigaction(SIGUSR2, &previous, nullptr);
#endif
}

// ---- threads the library did not make -----------------------------------
// A thread that asked for current() is watched from then on (beyond Rust,
// which watches only the threads it made and the main thread): it gets an
// alternate stack of its own, mapped, and unmapped when the thread ends. A
// thread that never touched the library keeps the plain SIGSEGV.

#if RTHREAD_TEST_POSIX
namespace {

void* overflow_after_current(void*) {
    (void)rthread::current();
    print_os_id_and_overflow();
    return nullptr;
}

// Runs body on a thread made with pthread_create and a stack of stack_size
// bytes, and joins it.
void run_on_pthread(void* (*body)(void*), std::size_t stack_size) {
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setstacksize(&attr, stack_size);
    pthread_t thread{};
    if (::pthread_create(&thread, &attr, body, nullptr) == 0) {
        ::pthread_join(thread, nullptr);
    }
    ::pthread_attr_destroy(&attr);
}

} // namespace

RTHREAD_SCENARIO(overflow_on_std_thread_that_called_current) {
    std::thread([] { overflow_after_current(nullptr); }).join();
    return 0;
}

RTHREAD_SCENARIO(overflow_on_pthread_with_a_small_stack_that_called_current) {
    run_on_pthread(&overflow_after_current, std::size_t{128} << 10);
    return 0;
}

RTHREAD_SCENARIO(overflow_on_std_thread_that_never_touched_rthread) {
    std::thread([] { std::printf("%d\n", recurse(0)); }).join(); // not reached
    return 0;
}
#endif

BOOST_AUTO_TEST_CASE(std_thread_that_called_current_is_reported_as_unnamed,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX threads")) {
#if RTHREAD_TEST_POSIX
    check_overflow_reported(
        test_support::run_scenario("overflow_on_std_thread_that_called_current"), "<unnamed>");
#endif
}

BOOST_AUTO_TEST_CASE(pthread_with_a_small_stack_that_called_current_is_reported,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX threads")) {
#if RTHREAD_TEST_POSIX
    check_overflow_reported(
        test_support::run_scenario("overflow_on_pthread_with_a_small_stack_that_called_current"),
        "<unnamed>");
#endif
}

BOOST_AUTO_TEST_CASE(thread_that_never_touched_rthread_overflows_as_a_plain_sigsegv,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "POSIX signals")) {
#if RTHREAD_TEST_POSIX
    const auto child =
        test_support::run_scenario("overflow_on_std_thread_that_never_touched_rthread");
    BOOST_TEST(child.stderr_text.find("overflowed") == std::string::npos, child.stderr_text);
    if (ours()) {
        BOOST_TEST(child.signal == SIGSEGV, "exit " << child.exit_code << " signal " << child.signal
                                                    << ": " << child.stderr_text);
        BOOST_TEST(child.stderr_text.empty(), child.stderr_text);
    } else {
        // AddressSanitizer's report; under ThreadSanitizer, which gives
        // such a thread no alternate stack, the plain SIGSEGV.
        BOOST_TEST((child.stderr_text.find("stack-overflow") != std::string::npos ||
                    child.signal == SIGSEGV),
                   "signal " << child.signal << ": " << child.stderr_text);
    }
#endif
}

#if defined(__linux__)
#define RTHREAD_TEST_PROC_MAPS 1 // /proc/self/maps, whichever backend
namespace {

std::size_t mappings() {
    std::ifstream maps("/proc/self/maps");
    std::size_t lines = 0;
    for (std::string line; std::getline(maps, line);) {
        ++lines;
    }
    return lines;
}

} // namespace
#else
#define RTHREAD_TEST_PROC_MAPS 0
#endif

// The alternate stack of a thread the library did not make is its own
// mapping (two: the stack and its guard page), unmapped when the thread
// ends: a hundred such threads, one after another, leave none behind (glibc
// reuses their thread stacks from its cache).
BOOST_AUTO_TEST_CASE(alternate_stacks_of_threads_that_called_current_are_unmapped_at_their_exit,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_PROC_MAPS, "/proc/self/maps")) {
#if RTHREAD_TEST_PROC_MAPS
    std::thread([] { (void)rthread::current(); }).join(); // the key made, stacks cached
    const std::size_t before = mappings();
    int with_alternate_stack = 0;
    for (int i = 0; i < 100; ++i) {
        std::thread([&with_alternate_stack] {
            (void)rthread::current();
            stack_t current{};
            if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) {
                ++with_alternate_stack;
            }
        }).join();
    }
    BOOST_TEST(with_alternate_stack == 100); // ours, or a sanitizer's
    const std::size_t after = mappings();
    BOOST_TEST(after < before + 50, "mappings before " << before << ", after " << after);
#endif
}

// ---- Windows: threads the library did not make, once they have a handle ----

// A CreateThread thread and a std::thread (winpthreads) that called
// current() get their stack guarantee then, and their overflow is reported
// as any other thread's (a thread with no name: "<unnamed>"). Windows only:
// the POSIX side is tested with its own cases.
#if !RTHREAD_TEST_POSIX
RTHREAD_SCENARIO(overflow_on_a_create_thread_thread_with_a_handle) {
    const auto body = [](LPVOID) -> DWORD {
        (void)rthread::current();
        print_os_id_and_overflow();
        return 0;
    };
    const HANDLE thread = ::CreateThread(nullptr, 0, body, nullptr, 0, nullptr);
    if (thread == nullptr) {
        return 2;
    }
    ::WaitForSingleObject(thread, INFINITE);
    return 0; // not reached: the process ended
}

RTHREAD_SCENARIO(overflow_on_a_std_thread_with_a_handle) {
    std::thread([] {
        (void)rthread::current();
        print_os_id_and_overflow();
    }).join();
    return 0; // not reached
}
#endif

BOOST_AUTO_TEST_CASE(a_create_thread_thread_with_a_handle_is_reported_as_unnamed,
                     RTHREAD_TEST_ONLY_IF(!RTHREAD_TEST_POSIX, "CreateThread")) {
#if !RTHREAD_TEST_POSIX
    check_overflow_reported(
        test_support::run_scenario("overflow_on_a_create_thread_thread_with_a_handle"),
        "<unnamed>");
#endif
}

BOOST_AUTO_TEST_CASE(a_std_thread_with_a_handle_is_reported_as_unnamed_on_windows,
                     RTHREAD_TEST_ONLY_IF(!RTHREAD_TEST_POSIX, "Windows' stack guarantee")) {
#if !RTHREAD_TEST_POSIX
    check_overflow_reported(test_support::run_scenario("overflow_on_a_std_thread_with_a_handle"),
                            "<unnamed>");
#endif
}

// What a test case needs of the platform. A case that cannot mean anything
// on some platform (fork, POSIX signals, /proc, cgroups) stays in its
// suite, disabled there with the reason, and its body compiled out:
//   BOOST_AUTO_TEST_CASE(name, RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "fork")) {
//   #if RTHREAD_TEST_POSIX
//       ...
//   #endif
//   }
// Boost.Test counts it as skipped (test_cases_skipped in the report), and
// tools/run_tests.sh shows that count: nothing is skipped silently.
#ifndef RTHREAD_TEST_PLATFORM_HPP
#define RTHREAD_TEST_PLATFORM_HPP

#include <boost/test/unit_test.hpp>

#include <cstdlib>

/// fork, POSIX signals, pthreads, rlimits.
#if defined(_WIN32)
#define RTHREAD_TEST_POSIX 0
#else
#define RTHREAD_TEST_POSIX 1
#endif

/// The Linux backend (sys/linux.cpp): /proc, cgroups, Linux's thread names.
/// Not with the generic POSIX backend forced (RTHREAD_SYS_POSIX).
#if defined(__linux__) && !defined(RTHREAD_SYS_POSIX)
#define RTHREAD_TEST_LINUX_BACKEND 1
#else
#define RTHREAD_TEST_LINUX_BACKEND 0
#endif

/// exit() destroys the main thread's thread_local objects before any static
/// one ([basic.start.term]): glibc and MSVC's CRT do. mingw-w64 (msvcrt)
/// runs them from an atexit function, registered when the first of them
/// was (the library's main-thread teardown, at program start), so after
/// the destructors of statics constructed since.
#if defined(__MINGW32__)
#define RTHREAD_TEST_EXIT_DESTROYS_THREAD_LOCALS_FIRST 0
#else
#define RTHREAD_TEST_EXIT_DESTROYS_THREAD_LOCALS_FIRST 1
#endif

namespace test_support {

/// The count of a stress loop: n, or n / RTHREAD_TEST_STRESS_DIVISOR when
/// the environment sets it (tools/windows/wine_run.sh sets 10). Under Wine
/// every thread start and every wait on a kernel object (Boost.Thread's
/// condition variable on Windows, the portable parker's) is a round trip
/// to the Wine server, so a count that takes a fraction of a second on
/// Linux takes tens of seconds there. Only loops whose meaning does not
/// hang on the count take it (a lost wake-up or a leak shows in a tenth of
/// the rounds as well); never a count the case names or checks against a
/// bound.
inline int stress_count(int n) {
    // Read before any thread of the case starts.
    const char* divisor =
        std::getenv("RTHREAD_TEST_STRESS_DIVISOR"); // NOLINT(concurrency-mt-unsafe)
    const long d = divisor != nullptr ? std::strtol(divisor, nullptr, 10) : 1;
    return d > 1 && n / d > 0 ? static_cast<int>(n / d) : n;
}

} // namespace test_support

#define RTHREAD_TEST_ONLY_IF(condition, why)                                                       \
    *boost::unit_test::enable_if<(condition) != 0>() *                                             \
        boost::unit_test::description("not on this platform: " why)

#endif

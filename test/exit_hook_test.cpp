// The library's thread-exit hook when the C library cannot record it
// (issue 12, item 5). pthread_setspecific fails with ENOMEM for a key past
// the first 32 on a thread whose second-level block glibc cannot allocate;
// the failure was ignored, so the thread's exit hook never ran and its
// record stayed in threads() (and allocated) forever.
//
// This suite replaces pthread_setspecific (the library, linked statically,
// and Boost.Thread call this one) by one that fails, on request, for the
// library's own key only; the real one does the rest.
#define BOOST_TEST_MODULE exit_hook
#include "test_main.hpp"

#include "child_process.hpp"
#include "platform.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <new>
#include <thread>

// The Windows backend keeps its exit hook in a TLS slot (TlsSetValue, which
// allocates nothing for a slot it gave): there is no failure to inject.
#if RTHREAD_TEST_POSIX
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

namespace {

// Keys are stored plus one, so that 0 means none.
std::atomic<bool> recording{false};
std::atomic<unsigned long> recorded_key{0};
std::atomic<unsigned long> failing_key{0};

using setspecific_fn = int (*)(pthread_key_t, const void*);

setspecific_fn real_setspecific() {
    static const auto real =
        reinterpret_cast<setspecific_fn>(::dlsym(RTLD_NEXT, "pthread_setspecific"));
    return real;
}

} // namespace

extern "C" int pthread_setspecific(pthread_key_t key, const void* value) {
    if (value != nullptr && failing_key.load() == key + 1UL) {
        return ENOMEM;
    }
    if (recording.load()) {
        recorded_key.store(key + 1UL);
    }
    return real_setspecific()(key, value);
}

namespace {

// The library's key: the one set when the main thread first gets a handle.
unsigned long library_key() {
    recording.store(true);
    (void)rthread::current();
    recording.store(false);
    return recorded_key.load();
}

std::atomic<int> values_alive{0};
struct counted {
    counted() { values_alive.fetch_add(1); }
    counted(const counted&) = delete;
    counted& operator=(const counted&) = delete;
    ~counted() { values_alive.fetch_sub(1); }
};
RTHREAD_THREAD_LOCAL(counted, VALUE, {});

} // namespace

RTHREAD_SCENARIO(threads_whose_exit_hook_cannot_be_recorded) {
    ::alarm(60); // a join that never returns becomes SIGALRM
    const unsigned long key = library_key();
    RTHREAD_CHILD_CHECK(key != 0);
    const std::size_t live = rthread::threads().size();
    failing_key.store(key);

    // A spawned thread: it runs the hook itself, last. Before the fix its
    // record stayed listed.
    auto h = rthread::spawn([] {
        VALUE.with([](counted&) {});
        return rthread::threads().size();
    });
    RTHREAD_CHILD_CHECK(h.join().value() == live + 1);
    RTHREAD_CHILD_CHECK(rthread::threads().size() == live);
    RTHREAD_CHILD_CHECK(values_alive.load() == 0);

    // A thread the library did not make: its handle cannot be had, as when
    // the record itself cannot be allocated. Before the fix current()
    // succeeded and the record was never released.
    bool refused = false;
    std::thread([&refused] {
        try {
            (void)rthread::current();
        } catch (const std::bad_alloc&) {
            refused = true;
        }
    }).join();
    RTHREAD_CHILD_CHECK(refused);
    RTHREAD_CHILD_CHECK(rthread::threads().size() == live);

    // A local_key on such a thread needs the hook too: std::bad_alloc.
    bool key_refused = false;
    std::thread([&key_refused] {
        try {
            VALUE.with([](counted&) {});
        } catch (const std::bad_alloc&) {
            key_refused = true;
        }
    }).join();
    RTHREAD_CHILD_CHECK(key_refused);
    RTHREAD_CHILD_CHECK(values_alive.load() == 0);

    // Once the C library can record it again, everything works as before.
    failing_key.store(0);
    std::thread([] { (void)rthread::current(); }).join();
    RTHREAD_CHILD_CHECK(rthread::spawn([] { return 3; }).join().value() == 3);
    RTHREAD_CHILD_CHECK(rthread::threads().size() == live);
    return test_support::child_failures;
}
#endif // RTHREAD_TEST_POSIX

// Not under ThreadSanitizer: with its runtime, the replaced
// pthread_setspecific crashes the scenario (a write to address 0 inside the
// sanitizer, not yet understood); the gcc-debug, ASan+UBSan, clang and
// C++20 builds run it.
#if !defined(__SANITIZE_THREAD__)
BOOST_AUTO_TEST_CASE(a_thread_whose_exit_hook_cannot_be_recorded_leaves_nothing_behind,
                     RTHREAD_TEST_ONLY_IF(RTHREAD_TEST_POSIX, "pthread_setspecific")) {
#if RTHREAD_TEST_POSIX
    const auto child = test_support::run_scenario("threads_whose_exit_hook_cannot_be_recorded");
    BOOST_TEST(child.exited, "signal " << child.signal << ": " << child.stderr_text);
    BOOST_TEST(child.exit_code == 0, child.stderr_text);
#endif
}
#else
BOOST_AUTO_TEST_CASE(the_library_key_is_found_under_thread_sanitizer_too) {
    BOOST_TEST(library_key() != 0u);
}
#endif

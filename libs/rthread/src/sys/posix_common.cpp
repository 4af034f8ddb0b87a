// The part of the seam (sys.hpp) that Linux's backend (sys/linux.cpp) and
// the generic POSIX one (sys/posix.cpp) share: the stack minimum, the
// thread-exit key, cancellation and atfork, which are plain POSIX, and the
// CPU-mask conversion of posix_common.hpp. The build compiles it with
// either backend, never for Windows.
#include "posix_common.hpp"

#include "sys.hpp"

#include "../fatal.hpp"

#include <climits>

#include <pthread.h>
#include <unistd.h>

namespace rthread::sys {

std::size_t min_thread_stack() noexcept {
    const long from_sysconf = ::sysconf(_SC_THREAD_STACK_MIN);
    return from_sysconf > 0 ? static_cast<std::size_t>(from_sysconf)
                            : static_cast<std::size_t>(PTHREAD_STACK_MIN);
}

bool set_thread_exit_value(void (*exit_hook)(void*), void* value) noexcept {
    // The key is made once and deliberately never deleted: threads may end
    // after static destructors ran.
    static const pthread_key_t key = [exit_hook] {
        pthread_key_t k{};
        if (::pthread_key_create(&k, exit_hook) != 0) {
            detail::fatal("rthread could not create its thread-exit key");
        }
        return k;
    }();
    return ::pthread_setspecific(key, value) == 0;
}

void ignore_cancellation() noexcept {
    int previous = 0;
    ::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &previous);
}

void at_fork(void (*prepare)(), void (*parent)(), void (*child)()) noexcept {
    ::pthread_atfork(prepare, parent, child);
}

#if defined(__linux__) || defined(__FreeBSD__)
void cpus_of_mask(const cpu_mask& mask, std::vector<std::size_t>& cpus) {
    cpus.clear();
    for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &mask)) {
            cpus.push_back(cpu);
        }
    }
}

bool mask_of_cpus(const std::vector<std::size_t>& cpus, cpu_mask& mask) noexcept {
    CPU_ZERO(&mask);
    for (const std::size_t cpu : cpus) {
        if (cpu >= CPU_SETSIZE) {
            return false;
        }
        CPU_SET(cpu, &mask);
    }
    return true;
}
#endif

} // namespace rthread::sys

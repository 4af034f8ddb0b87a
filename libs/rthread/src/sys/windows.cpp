// The Windows side of the seam (sys.hpp): WaitOnAddress, GetCurrentThreadId,
// SetThreadDescription, a TLS callback for the thread-exit hook, waitable
// timers, the process affinity mask and the job object's CPU rate. Windows 8
// API; builds with mingw-w64 and MSVC.
#include "sys.hpp"

#include "../fatal.hpp"
#include "stack_guard.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#if defined(__MINGW32__)
#include <pthread.h>
#endif

#if defined(_MSC_VER)
#pragma comment(lib, "synchronization.lib")
#endif

// Windows 10 1803; older systems refuse it and get a normal timer.
#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif

namespace rthread::sys {

namespace {

// The main thread's id, recorded by the TLS callback below when the process
// starts (DLL_PROCESS_ATTACH runs on the main thread, before any
// constructor); 0 until then.
DWORD main_thread_id = 0;

// The TLS slot holding the exit hook's value; allocated by the first
// set_thread_exit_value and never freed (threads may end after static
// destructors ran).
std::atomic<DWORD> exit_slot{TLS_OUT_OF_INDEXES};
void (*exit_hook_fn)(void*) = nullptr; // written before exit_slot

// As many rounds as glibc gives pthread key destructors
// (PTHREAD_DESTRUCTOR_ITERATIONS): a hook that sets the value again runs
// again, at most this many times in all.
constexpr int exit_hook_rounds = 4;

void run_exit_hook() noexcept {
    // relaxed: a thread holding a value set it through
    // set_thread_exit_value, whose static initialization it synchronized
    // with (so it sees exit_hook_fn); any other thread finds no value.
    const DWORD slot = exit_slot.load(std::memory_order_relaxed);
    if (slot == TLS_OUT_OF_INDEXES) {
        return;
    }
    for (int round = 0; round < exit_hook_rounds; ++round) {
        void* value = ::TlsGetValue(slot);
        if (value == nullptr) {
            return;
        }
        ::TlsSetValue(slot, nullptr);
        exit_hook_fn(value);
    }
}

// The loader calls TLS callbacks in the order of their sections' names,
// .CRT$XLA to .CRT$XLZ; the C++ runtime's thread_local destructors run from
// an earlier one (mingw-w64: .CRT$XLD; MSVC's CRT: .CRT$XLC/.CRT$XLD), and
// Boost.Thread's own thread cleanup before the thread function returns. So
// .CRT$XLY runs after all of them, on every thread that ends, whoever made
// it (rthread, std::thread, CreateThread); tests/local_key_test.cpp checks
// the order. An FLS callback would not do: it runs before the C++
// destructors on CreateThread and Boost.Thread threads. Nothing runs for the
// main thread at process exit (DLL_PROCESS_DETACH), as a pthread key
// destructor does not run for it on Linux.
void NTAPI on_tls_event(PVOID, DWORD reason, PVOID) {
    if (reason == DLL_PROCESS_ATTACH) {
        main_thread_id = ::GetCurrentThreadId();
    } else if (reason == DLL_THREAD_DETACH) {
        run_exit_hook();
    }
}

#if defined(__MINGW32__)
// C++ thread_local destructors. mingw-w64's GCC emulates TLS (emutls) and
// its libstdc++ keeps the destructors of a thread under a winpthreads key;
// winpthreads runs key destructors in the order the keys were made, and
// emutls's, made first, frees the thread's thread_local objects before the
// destructors for them run (a use after free: heap corruption, or a
// destructor that sees zeros). This file's __cxa_thread_atexit replaces
// libstdc++'s: the list lives in a TLS slot and runs from the TLS callback
// in .CRT$XLE, before winpthreads' (.CRT$XLF) frees anything; on the thread
// that calls exit(), from atexit, as libstdc++'s does. MSVC has native TLS.
struct cxx_thread_dtor {
    void (*destroy)(void*);
    void* object;
    cxx_thread_dtor* next;
};
std::atomic<DWORD> cxx_dtor_slot{TLS_OUT_OF_INDEXES};

// Last registered, first run; a destructor may register more.
void run_cxx_thread_dtors() noexcept {
    const DWORD slot = cxx_dtor_slot.load(std::memory_order_relaxed); // see run_exit_hook
    if (slot == TLS_OUT_OF_INDEXES) {
        return;
    }
    while (auto* d = static_cast<cxx_thread_dtor*>(::TlsGetValue(slot))) {
        ::TlsSetValue(slot, d->next);
        d->destroy(d->object);
        delete d;
    }
}

// The exit hook runs here too, right after the destructors and before
// emutls frees the thread's thread_local objects, which the hook still
// reads (the rthread handle of the thread); destructors it registers run
// after it.
void run_thread_teardown() noexcept {
    run_cxx_thread_dtors();
    run_exit_hook();
    run_cxx_thread_dtors();
}

void NTAPI on_tls_event_for_cxx(PVOID, DWORD reason, PVOID) {
    if (reason == DLL_THREAD_DETACH) {
        run_thread_teardown();
    }
}

// A thread made by winpthreads (std::thread, pthread_create) runs its
// pthread key destructors when its function returns, before any TLS
// callback, in the order the keys were made; emutls's key, made at the
// first use of a thread_local, frees the thread's thread_local objects, so
// by the time of .CRT$XLE they are gone. This key, made by a constructor
// of the first priority (before any thread_local is used), comes before
// emutls's: its destructor runs the same teardown while the objects are
// still there. Set on every thread with something to tear down; on
// threads winpthreads did not make, the TLS callback above runs first and
// this destructor then finds nothing left.
pthread_key_t early_teardown_key;
bool early_teardown_key_made = false; // written before main, read after

void early_teardown(void*) noexcept {
    run_thread_teardown();
}

__attribute__((constructor(101))) void make_early_teardown_key() {
    early_teardown_key_made = ::pthread_key_create(&early_teardown_key, &early_teardown) == 0;
}

void arm_early_teardown() noexcept {
    if (early_teardown_key_made) {
        ::pthread_setspecific(early_teardown_key, &early_teardown_key); // any non-null value
    }
}
#endif

} // namespace

} // namespace rthread::sys

#if defined(__MINGW32__)
extern "C" int __cxa_thread_atexit(void (*destroy)(void*), void* object, void*) noexcept {
    using namespace rthread::sys;
    static const DWORD slot = [] {
        const DWORD s = ::TlsAlloc();
        if (s != TLS_OUT_OF_INDEXES) {
            std::atexit([] { run_cxx_thread_dtors(); });
            cxx_dtor_slot.store(s, std::memory_order_relaxed); // see run_exit_hook
        }
        return s;
    }();
    if (slot == TLS_OUT_OF_INDEXES) {
        return -1;
    }
    auto* d = new (std::nothrow)
        cxx_thread_dtor{destroy, object, static_cast<cxx_thread_dtor*>(::TlsGetValue(slot))};
    if (d == nullptr) {
        return -1;
    }
    ::TlsSetValue(slot, d);
    arm_early_teardown();
    return 0;
}

extern "C" {
extern const PIMAGE_TLS_CALLBACK rthread_tls_callback_for_cxx;
__attribute__((section(".CRT$XLE"), used)) const PIMAGE_TLS_CALLBACK rthread_tls_callback_for_cxx =
    &rthread::sys::on_tls_event_for_cxx;
}
#endif

#if defined(_MSC_VER)
#pragma comment(linker, "/INCLUDE:_tls_used")
#pragma comment(linker, "/INCLUDE:rthread_tls_callback")
#pragma section(".CRT$XLY", long, read)
extern "C" __declspec(allocate(".CRT$XLY")) const PIMAGE_TLS_CALLBACK rthread_tls_callback =
    &rthread::sys::on_tls_event;
#else
extern "C" {
extern const PIMAGE_TLS_CALLBACK rthread_tls_callback;
__attribute__((section(".CRT$XLY"), used)) const PIMAGE_TLS_CALLBACK rthread_tls_callback =
    &rthread::sys::on_tls_event;
}
#endif

namespace rthread::sys {

std::uint64_t current_os_id() noexcept {
    return ::GetCurrentThreadId();
}

bool is_main_thread() noexcept {
    return main_thread_id != 0 && ::GetCurrentThreadId() == main_thread_id;
}

void set_current_thread_name(const char* name) noexcept {
    // SetThreadDescription is Windows 10 1607; mingw-w64 10's headers lack
    // it, so it is looked up (once) rather than linked.
    using set_description_fn = HRESULT(WINAPI*)(HANDLE, PCWSTR);
    static const auto set_description =
        reinterpret_cast<set_description_fn>(reinterpret_cast<void*>(
            ::GetProcAddress(::GetModuleHandleW(L"kernel32.dll"), "SetThreadDescription")));
    if (set_description == nullptr) {
        return;
    }
    const int wide_size = ::MultiByteToWideChar(CP_UTF8, 0, name, -1, nullptr, 0);
    if (wide_size <= 0) {
        return;
    }
    try {
        std::wstring wide(static_cast<std::size_t>(wide_size), L'\0');
        ::MultiByteToWideChar(CP_UTF8, 0, name, -1, wide.data(), wide_size);
        const HRESULT hr = set_description(::GetCurrentThread(), wide.c_str());
        (void)SUCCEEDED(hr); // a name the OS refuses leaves the old one: nothing to do
    } catch (...) {
        // No memory for the wide copy: the thread keeps its OS name.
    }
}

std::size_t min_thread_stack() noexcept {
    // A stack reservation is made in units of the allocation granularity.
    SYSTEM_INFO info;
    ::GetSystemInfo(&info);
    return info.dwAllocationGranularity;
}

bool set_thread_exit_value(void (*exit_hook)(void*), void* value) noexcept {
    static const DWORD slot = [exit_hook] {
        const DWORD s = ::TlsAlloc();
        if (s == TLS_OUT_OF_INDEXES) {
            detail::fatal("rthread could not create its thread-exit slot");
        }
        exit_hook_fn = exit_hook;
        // relaxed: see run_exit_hook.
        exit_slot.store(s, std::memory_order_relaxed);
        return s;
    }();
    const bool set = ::TlsSetValue(slot, value) != FALSE;
#if defined(__MINGW32__)
    arm_early_teardown();
#endif
    // A thread that gets a handle is one the library knows, whoever made it
    // (a std::thread or CreateThread thread that called current()): its
    // stack overflow is reported too. Threads rthread starts and the main
    // thread are watched already; watching again changes nothing.
    watch_current_thread_stack();
    return set;
}

namespace {

std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Milliseconds to wait for a deadline ns away, rounded up so that a timeout
// is never early; INFINITE excluded.
DWORD wait_ms(std::int64_t ns) noexcept {
    if (ns <= 0) {
        return 0;
    }
    const std::int64_t ms = ns / 1000000 + (ns % 1000000 != 0 ? 1 : 0);
    constexpr std::int64_t longest = INFINITE - 1;
    return static_cast<DWORD>(ms < longest ? ms : longest);
}

} // namespace

bool futex_wait(std::atomic<std::int32_t>* word, std::int32_t expected,
                std::optional<std::int64_t> deadline_ns) noexcept {
    // WaitOnAddress compares *word with expected and sleeps while equal,
    // like FUTEX_WAIT; it takes a relative timeout in milliseconds.
    const DWORD timeout = deadline_ns ? wait_ms(*deadline_ns - now_ns()) : INFINITE;
    if (::WaitOnAddress(reinterpret_cast<volatile std::int32_t*>(word), &expected, sizeof expected,
                        timeout)) {
        return true;
    }
    // A timeout is one only once the deadline has passed (the caller waits
    // again otherwise, as after a spurious wake).
    return !(::GetLastError() == ERROR_TIMEOUT && deadline_ns && now_ns() >= *deadline_ns);
}

void futex_wake_one(std::atomic<std::int32_t>* word) noexcept {
    ::WakeByAddressSingle(reinterpret_cast<void*>(word));
}

namespace {

// A waitable timer for one sleep, high-resolution where the system has
// them. Made per sleep rather than kept in a C++ thread_local (see
// windows_stack_overflow.cpp on emulated TLS and thread exit).
struct sleep_timer {
    HANDLE handle = nullptr;
    sleep_timer() noexcept {
        handle = ::CreateWaitableTimerExW(nullptr, nullptr, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                          TIMER_ALL_ACCESS);
        if (handle == nullptr) {
            handle = ::CreateWaitableTimerExW(nullptr, nullptr, 0, TIMER_ALL_ACCESS);
        }
    }
    sleep_timer(const sleep_timer&) = delete;
    sleep_timer& operator=(const sleep_timer&) = delete;
    ~sleep_timer() {
        if (handle != nullptr) {
            ::CloseHandle(handle);
        }
    }
};

} // namespace

void sleep_until_monotonic(std::int64_t deadline_ns) noexcept {
    if (deadline_ns <= now_ns()) {
        return;
    }
    const sleep_timer timer;
    // Never early: wake, look at the clock, sleep again for what is left.
    for (std::int64_t left = deadline_ns - now_ns(); left > 0; left = deadline_ns - now_ns()) {
        if (timer.handle == nullptr) {
            ::Sleep(wait_ms(left));
            continue;
        }
        LARGE_INTEGER due;
        // Negative: relative, in 100 ns units, rounded up.
        due.QuadPart = -(left / 100 + (left % 100 != 0 ? 1 : 0));
        if (!::SetWaitableTimer(timer.handle, &due, 0, nullptr, nullptr, FALSE)) {
            ::Sleep(wait_ms(left));
            continue;
        }
        ::WaitForSingleObject(timer.handle, INFINITE);
    }
}

void yield_now() noexcept {
    ::SwitchToThread();
}

// FlushProcessWriteBuffers would be the barrier, but Wine, where this
// backend is tested, gained real implementations of it only in 2022-24
// (a no-op would lose wake-ups, silently): the channels keep their
// symmetric fences here until one can be tested.
bool process_barrier_init() noexcept {
    return false;
}

void process_barrier() noexcept {}

namespace {

std::size_t bits_set(DWORD_PTR mask) noexcept {
    std::size_t n = 0;
    for (; mask != 0; mask &= mask - 1) {
        ++n;
    }
    return n;
}

DWORD_PTR process_mask() noexcept {
    DWORD_PTR process = 0;
    DWORD_PTR system = 0;
    if (!::GetProcessAffinityMask(::GetCurrentProcess(), &process, &system)) {
        return 0;
    }
    return process;
}

// The calling thread's mask. Windows reads it only as what
// SetThreadAffinityMask gives back: set the process's mask (always allowed),
// then put the thread's own back.
DWORD_PTR thread_mask() noexcept {
    const DWORD_PTR process = process_mask();
    if (process == 0) {
        return 0;
    }
    const DWORD_PTR mine = ::SetThreadAffinityMask(::GetCurrentThread(), process);
    if (mine != 0 && mine != process) {
        ::SetThreadAffinityMask(::GetCurrentThread(), mine);
    }
    return mine;
}

void cpus_of(DWORD_PTR mask, std::vector<std::size_t>& cpus) {
    cpus.clear();
    for (std::size_t cpu = 0; cpu < sizeof(DWORD_PTR) * 8; ++cpu) {
        if ((mask >> cpu) & 1U) {
            cpus.push_back(cpu);
        }
    }
}

} // namespace

std::optional<std::size_t> affinity_cpu_count() noexcept {
    DWORD_PTR process = 0;
    DWORD_PTR system = 0;
    if (!::GetProcessAffinityMask(::GetCurrentProcess(), &process, &system) || process == 0) {
        return std::nullopt;
    }
    // A process not restricted on a machine of several processor groups may
    // run on all of them; its mask describes only its own group.
    if (process == system && ::GetActiveProcessorGroupCount() > 1) {
        const DWORD all = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
        if (all > 0) {
            return static_cast<std::size_t>(all);
        }
    }
    // A thread given fewer CPUs (builder::affinity) counts its own.
    const DWORD_PTR mine = thread_mask();
    return bits_set(mine != 0 ? (mine & process) : process);
}

std::optional<std::size_t> cgroup_cpu_quota(const std::string& root) noexcept {
    if (!root.empty()) {
        return std::nullopt; // no cgroup tree on Windows
    }
    // The job object the process is in (nullptr), if any: a hard cap on its
    // CPU rate, in hundredths of a percent of the whole machine.
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION rate{};
    if (!::QueryInformationJobObject(nullptr, JobObjectCpuRateControlInformation, &rate,
                                     sizeof rate, nullptr)) {
        return std::nullopt;
    }
    constexpr DWORD enabled = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE;
    if ((rate.ControlFlags & enabled) == 0) {
        return std::nullopt;
    }
    // A weight-based rate is a share, not a cap; mingw-w64 10 does not know
    // the min/max form (Windows 10), which caps nothing below its maximum.
    if ((rate.ControlFlags & JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP) == 0) {
        return std::nullopt;
    }
    const DWORD per_10000 = rate.CpuRate;
    const DWORD machine = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    if (per_10000 == 0 || machine == 0) {
        return std::nullopt;
    }
    const std::size_t cpus = static_cast<std::size_t>(machine) * per_10000 / 10000;
    return cpus < 1 ? std::size_t{1} : cpus;
}

void at_fork(void (*)(), void (*)(), void (*)()) noexcept {
    // No fork on Windows: nothing ever runs them.
}

void ignore_cancellation() noexcept {
    // No thread cancellation on Windows.
}

// Affinity within the process's processor group (the first 64 CPUs), as
// GetProcessAffinityMask and SetThreadAffinityMask see them.
bool process_cpus(std::vector<std::size_t>& cpus) {
    const DWORD_PTR process = process_mask();
    if (process == 0) {
        return false;
    }
    cpus_of(process, cpus);
    return true;
}

bool current_thread_cpus(std::vector<std::size_t>& cpus) {
    const DWORD_PTR mine = thread_mask();
    if (mine == 0) {
        return false;
    }
    cpus_of(mine, cpus);
    return true;
}

bool set_current_thread_cpus(const std::vector<std::size_t>& cpus) noexcept {
    DWORD_PTR mask = 0;
    for (const std::size_t cpu : cpus) {
        if (cpu >= sizeof(DWORD_PTR) * 8) {
            return false;
        }
        mask |= DWORD_PTR{1} << cpu;
    }
    return mask != 0 && ::SetThreadAffinityMask(::GetCurrentThread(), mask) != 0;
}

bool wait_thread_exit(detail::native_thread::native_handle_type thread,
                      std::optional<std::int64_t> deadline_ns) noexcept {
    // The thread's HANDLE is signalled once it has ended for the OS, after
    // every TLS callback and DLL detach it runs.
    for (;;) {
        DWORD ms = INFINITE;
        if (deadline_ns) {
            const std::int64_t left = *deadline_ns - now_ns();
            if (left <= 0) {
                ms = 0;
            } else {
                const std::int64_t rounded_up = (left + 999'999) / 1'000'000;
                ms = rounded_up >= INFINITE ? INFINITE - 1 : static_cast<DWORD>(rounded_up);
            }
        }
        const DWORD r = ::WaitForSingleObject(static_cast<HANDLE>(thread), ms);
        if (r == WAIT_OBJECT_0 || r == WAIT_FAILED) {
            return true; // WAIT_FAILED: a handle we cannot wait on; the join decides
        }
        if (deadline_ns && now_ns() >= *deadline_ns) {
            return false;
        }
    }
}

} // namespace rthread::sys

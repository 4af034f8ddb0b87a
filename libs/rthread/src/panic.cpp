// Panics: catching at the top of a thread, the hook, the default report.
#include "backtrace.hpp"
#include "fatal.hpp"

#include "sys/stack_guard.hpp"
#include "sys/sys.hpp"

#include <rthread/panic.hpp>

#include <boost/core/demangle.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <mutex>
#include <new>
#include <typeinfo>

namespace rthread {

namespace {

// True while the panic hook runs on this thread (panicking() reports it).
thread_local bool in_panic_hook = false;

// The hook: null means the default. Held through a shared_ptr so that a
// panicking thread takes it with a reference count, not a copy of the
// function (which could allocate, and fail, while a panic is reported), and
// so that set_panic_hook destroys the old hook outside the lock. Never
// destroyed: detached threads may panic while the process runs its static
// destructors.
struct hook_slot {
    std::mutex mutex;
    std::shared_ptr<const panic_hook> hook;
};

hook_slot& the_hook();

// fork(): the mutex is held across it, so that a child forked while another
// thread copies or replaces the hook does not inherit the mutex locked by a
// thread that does not exist there (its first panic would deadlock). The
// lock is only ever held for a pointer copy or swap, never while user code
// runs.
void lock_hook_for_fork() {
    the_hook().mutex.lock();
}
void unlock_hook_after_fork() {
    the_hook().mutex.unlock();
}

hook_slot& the_hook() {
    static hook_slot* const slot = [] {
        auto* made = new hook_slot();
        sys::at_fork(&lock_hook_for_fork, &unlock_hook_after_fork, &unlock_hook_after_fork);
        return made;
    }();
    return *slot;
}

std::shared_ptr<const panic_hook> current_hook() {
    hook_slot& slot = the_hook();
    std::lock_guard<std::mutex> lock(slot.mutex);
    return slot.hook;
}

std::optional<std::string> text_of(const std::exception_ptr& payload) {
    if (!payload) {
        return std::nullopt;
    }
    try {
        std::rethrow_exception(payload);
    } catch (const std::exception& e) {
        return std::string(e.what());
    } catch (const std::string& s) {
        return s;
    } catch (const char* s) {
        return s != nullptr ? std::optional<std::string>(s) : std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
}

std::string unknown_exception(const std::type_info* type) {
    return "unknown exception of type " +
           (type != nullptr ? boost::core::demangle(type->name()) : std::string("?"));
}

std::string describe(const std::exception_ptr& payload) {
    if (auto text = text_of(payload)) {
        return *std::move(text);
    }
    if (!payload) {
        return "unknown exception";
    }
    try {
        std::rethrow_exception(payload);
    } catch (...) {
        // The type of whatever is in flight; both libstdc++ and libc++abi
        // provide this Itanium ABI call.
        return unknown_exception(abi::__cxa_current_exception_type());
    }
}

std::optional<boost::source_location> location_of(const std::exception_ptr& payload) {
    if (!payload) {
        return std::nullopt;
    }
    try {
        std::rethrow_exception(payload);
    } catch (const panic_error& e) {
        return e.location();
    } catch (...) {
        return std::nullopt;
    }
}

} // namespace

std::optional<std::string> panic_message(const std::exception_ptr& payload) {
    return text_of(payload);
}

bool panicking() noexcept {
    return in_panic_hook || std::uncaught_exceptions() > 0;
}

panic_info::panic_info(rthread::thread panicked, std::exception_ptr payload)
    : thread_(std::move(panicked)), payload_(std::move(payload)), message_(describe(payload_)),
      location_(location_of(payload_)) {}

void default_panic_hook(const panic_info& info) {
    const auto name = info.thread().name();
    std::string report =
        fmt::format("thread '{}' ({}) panicked", name ? *name : std::string_view("<unnamed>"),
                    sys::current_os_id());
    if (const auto where = info.location()) {
        report += fmt::format(" at {}:{}", where->file_name(), where->line());
        if (where->column() != 0) {
            report += fmt::format(":{}", where->column());
        }
    }
    report += fmt::format(":\n{}\n", info.message());
    report += detail::describe_backtrace(info.payload(), detail::current_backtrace_style());
    // One write, so reports of threads panicking together do not interleave.
    std::fwrite(report.data(), 1, report.size(), stderr);
    std::fflush(stderr);
}

void set_panic_hook(panic_hook hook) {
    // Made first: a failed allocation changes nothing.
    std::shared_ptr<const panic_hook> made =
        hook ? std::make_shared<const panic_hook>(std::move(hook)) : nullptr;
    hook_slot& slot = the_hook();
    {
        std::lock_guard<std::mutex> lock(slot.mutex);
        slot.hook.swap(made);
    }
    // made (the old hook) is destroyed here, outside the lock.
}

panic_hook take_panic_hook() {
    const std::shared_ptr<const panic_hook> current = current_hook();
    if (!current) {
        return &default_panic_hook;
    }
    panic_hook taken = *current; // may throw: nothing changed yet
    hook_slot& slot = the_hook();
    {
        std::lock_guard<std::mutex> lock(slot.mutex);
        if (slot.hook == current) { // unless a newer hook was set meanwhile
            slot.hook.reset();
        }
    }
    return taken;
}

namespace detail {

struct panic_site_access {
    static bool reported(const panic_error& e) noexcept { return e.reported_; }
    static void mark_reported(panic_error& e) noexcept { e.reported_ = true; }
};

struct panic_info_access {
    static panic_info make(rthread::thread panicked, std::exception_ptr payload,
                           std::string message,
                           std::optional<boost::source_location> location) noexcept {
        return panic_info(std::move(panicked), std::move(payload), std::move(message), location);
    }
};

namespace {

// What the catch clause that caught a panic learnt about it, without
// allocating (the catch clauses must not throw): pointers into the payload,
// which the exception_ptr keeps alive.
struct caught_panic {
    const char* text = nullptr;           // what(), or the thrown string
    const std::type_info* type = nullptr; // else the payload's type
    std::optional<boost::source_location> location;
};

// The report when the library's own part of it cannot have the memory it
// needs (the panic_info's message, the thread's handle on a thread the
// library had not seen, the default hook's text): fixed text formatted on
// the stack and written in one system call, as Rust's default hook writes
// without allocating. The panic itself still reaches join().
void report_without_allocating(const caught_panic& caught) noexcept {
    const thread_inner* self = current_thread;
    const std::string_view name = self != nullptr && self->name ? std::string_view(*self->name)
                                                                : std::string_view("<unnamed>");
    char text[1024];
    std::size_t size = 0;
    // The format strings stay at the call (checked at compile time: passed
    // on through a function they would no longer be constant in C++20).
    const auto advance = [&](std::size_t written) { size = std::min(sizeof text, size + written); };
    try {
        advance(fmt::format_to_n(text + size, sizeof text - size,
                                 FMT_STRING("thread '{}' ({}) panicked"), name,
                                 sys::current_os_id())
                    .size);
        if (caught.location) {
            advance(fmt::format_to_n(text + size, sizeof text - size, FMT_STRING(" at {}:{}"),
                                     caught.location->file_name(), caught.location->line())
                        .size);
            if (caught.location->column() != 0) {
                advance(fmt::format_to_n(text + size, sizeof text - size, FMT_STRING(":{}"),
                                         caught.location->column())
                            .size);
            }
        }
        advance(fmt::format_to_n(
                    text + size, sizeof text - size,
                    FMT_STRING(":\n{}\nnote: out of memory while reporting this panic: the "
                               "panic hook did not run\n"),
                    caught.text != nullptr ? caught.text : "unknown exception")
                    .size);
    } catch (...) { // fmt into a fixed buffer does not allocate; nothing else is left
        size = 0;
    }
    const std::string_view part(text, size);
    sys::write_stderr(&part, 1);
}

void report_panic(const std::exception_ptr& payload, const caught_panic& caught) noexcept {
    in_panic_hook = true;
    std::shared_ptr<const panic_hook> hook;
    std::optional<panic_info> info;
    try {
        hook = current_hook(); // a reference count, no allocation (after the first)
        info.emplace(panic_info_access::make(
            current(), payload,
            caught.text != nullptr ? caught.text : unknown_exception(caught.type),
            caught.location));
    } catch (...) { // std::bad_alloc: nothing else can come from here
        report_without_allocating(caught);
        in_panic_hook = false;
        return;
    }
    if (hook) {
        try {
            (*hook)(*info);
        } catch (...) {
            // Rust aborts on a panic inside the panic hook, the same way.
            abort_with("thread panicked while processing panic. aborting.\n");
        }
    } else {
        try {
            default_panic_hook(*info);
        } catch (...) { // std::bad_alloc while formatting: the default hook only allocates
            report_without_allocating(caught);
        }
    }
    in_panic_hook = false;
}

} // namespace

// The catch clauses sort the payload once, as panic_info's public
// constructor would by rethrowing it twice (a rethrow unwinds again and costs
// about what the panic itself did).
std::exception_ptr invoke_catching(void (*fn)(void*), void* context) {
    std::exception_ptr panic;
    caught_panic caught;
    try {
        fn(context);
        return panic;
    } catch (const panic_error& e) {
        panic = std::current_exception();
        if (panic_site_access::reported(e)) {
            return panic; // by RTHREAD_PANIC, at its site: each panic once
        }
        caught.text = e.what();
        caught.location = e.location();
    } catch (const std::exception& e) {
        panic = std::current_exception();
        caught.text = e.what();
    } catch (const std::string& s) {
        panic = std::current_exception();
        caught.text = s.c_str();
    } catch (const char* s) {
        panic = std::current_exception();
        caught.text = s;
        if (s == nullptr) {
            caught.type = abi::__cxa_current_exception_type();
        }
    } catch (...) {
        panic = std::current_exception();
        if (!panic) {
            // Not a C++ exception (current_exception() cannot hold one):
            // glibc's forced unwind (abi::__forced_unwind, from pthread_exit
            // or pthread_cancel) is one. Not a panic, and it must go on:
            // glibc ends the process when it is stopped. (A handler naming
            // abi::__forced_unwind binds a reference to an object that does
            // not exist, which UBSan reports.)
            throw;
        }
        caught.type = abi::__cxa_current_exception_type();
    }
    // The texts point into the payload, which panic keeps alive.
    report_panic(panic, caught);
    return panic;
}

void report_panic_at_site(panic_error& e) noexcept {
    caught_panic caught;
    caught.text = e.what();
    caught.location = e.location();
    panic_site_access::mark_reported(e); // copies made from here on are too
    std::exception_ptr payload;
    try {
        // The hook's payload: a copy of what is about to be thrown (the
        // thrown object itself does not exist yet), equal to what join()
        // will give.
        payload = std::make_exception_ptr(e);
    } catch (...) { // std::bad_alloc
        report_without_allocating(caught);
        return;
    }
    report_panic(payload, caught);
}

namespace {
// Made at program start, never destroyed (detached threads may end after
// static destructors ran). Failing to allocate it at program start ends the
// program, as it should.
// NOLINTNEXTLINE(cert-err58-cpp)
const std::exception_ptr* const exit_payload = new std::exception_ptr(std::make_exception_ptr(
    std::runtime_error("rthread: the thread ended through pthread_exit() or pthread_cancel()")));
} // namespace

const std::exception_ptr& thread_exit_payload() noexcept {
    return *exit_payload;
}

} // namespace detail
} // namespace rthread

// Panics: catching at the top of a thread, the hook, the default report.
#include "backtrace.hpp"

#include "sys/sys.hpp"

#include <rthread/panic.hpp>

#include <boost/core/demangle.hpp>

#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <mutex>
#include <typeinfo>

namespace rthread {

namespace {

// True while the panic hook runs on this thread (panicking() reports it).
thread_local bool in_panic_hook = false;

// The hook: an empty function means the default. Never destroyed: detached
// threads may panic while the process runs its static destructors.
struct hook_slot {
    std::mutex mutex;
    panic_hook hook;
};

hook_slot& the_hook() {
    static hook_slot* const slot = new hook_slot();
    return *slot;
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

[[noreturn]] void abort_with(const char* message) {
    std::fputs(message, stderr);
    std::fflush(stderr);
    std::abort();
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
    hook_slot& slot = the_hook();
    std::lock_guard<std::mutex> lock(slot.mutex);
    slot.hook = std::move(hook);
}

panic_hook take_panic_hook() {
    hook_slot& slot = the_hook();
    std::lock_guard<std::mutex> lock(slot.mutex);
    panic_hook taken = std::exchange(slot.hook, panic_hook());
    if (!taken) {
        taken = &default_panic_hook;
    }
    return taken;
}

namespace detail {

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

void report_panic(const std::exception_ptr& payload, const caught_panic& caught) noexcept {
    in_panic_hook = true;
    try {
        panic_hook hook;
        {
            hook_slot& slot = the_hook();
            std::lock_guard<std::mutex> lock(slot.mutex);
            hook = slot.hook;
        }
        const panic_info info = panic_info_access::make(
            current(), payload,
            caught.text != nullptr ? caught.text : unknown_exception(caught.type), caught.location);
        if (hook) {
            hook(info);
        } else {
            default_panic_hook(info);
        }
    } catch (...) {
        // Rust aborts on a panic inside the panic hook, the same way.
        abort_with("thread panicked while processing panic. aborting.\n");
    }
    in_panic_hook = false;
}

} // namespace

// The catch clauses sort the payload once, as panic_info's public
// constructor would by rethrowing it twice (a rethrow unwinds again and costs
// about what the panic itself did).
std::exception_ptr invoke_catching(void (*fn)(void*), void* context) noexcept {
    std::exception_ptr panic;
    caught_panic caught;
    try {
        fn(context);
        return panic;
    } catch (const panic_error& e) {
        panic = std::current_exception();
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
        caught.type = abi::__cxa_current_exception_type();
    }
    // The texts point into the payload, which panic keeps alive.
    report_panic(panic, caught);
    return panic;
}

} // namespace detail
} // namespace rthread

// Backtraces for the default panic hook (see backtrace.hpp).
#include "backtrace.hpp"

#include <rthread/panic.hpp>

// The separately built backend (libboost_stacktrace_backtrace, which carries
// libbacktrace): symbols, files and lines without forking addr2line.
#define BOOST_STACKTRACE_LINK
#include <boost/stacktrace/stacktrace.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

namespace rthread::detail {

struct panic_backtrace {
    boost::stacktrace::stacktrace frames;
};

struct panic_error_access {
    static const std::shared_ptr<const panic_backtrace>& backtrace(const panic_error& e) noexcept {
        return e.backtrace_;
    }
};

namespace {

// -1 until RTHREAD_BACKTRACE was read, then a backtrace_style.
std::atomic<int> cached_style{-1};

bool contains_any(std::string_view name, std::initializer_list<std::string_view> parts) {
    for (std::string_view part : parts) {
        if (name.find(part) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

// The frames of the backtrace machinery itself, the panic_error being made,
// and the hook: never the user's concern, so the trimmed style skips them at
// the top.
bool is_reporting_frame(std::string_view name) {
    return contains_any(name,
                        {"boost::stacktrace::", "rthread::detail::capture_panic_backtrace",
                         "rthread::panic_error::panic_error", "rthread::scope_panic::scope_panic",
                         "rthread::detail::throw_panic", "rthread::detail::describe_backtrace",
                         "rthread::default_panic_hook", "report_panic"});
}

// The frames that start a thread or the process: Boost.Thread's entry,
// libc's thread and process entry. Trimmed backtraces end above them.
bool is_os_entry_frame(std::string_view name) {
    return name.empty() || name == "_start" ||
           contains_any(name,
                        {"boost::detail::thread_data", "thread_proxy", "start_thread", "clone",
                         "__libc_start", "__tsan_thread_start_func", "asan_thread_start"});
}

// The library's thread trampoline and the std::invoke/std::apply plumbing
// that leads to the user's function. Trimmed backtraces of a panic_error end
// above them, as Rust's short backtrace stops at __rust_begin_short_backtrace.
// Some of these names do not demangle, hence the mangled spellings.
bool is_library_entry_frame(std::string_view name) {
    return contains_any(name, {"rthread::detail::", "7rthread6detail", "std::__invoke",
                               "std::invoke", "St13__invoke_impl", "St8__invoke", "St6invoke",
                               "std::__apply_impl", "std::apply", "St12__apply_impl", "St5apply"});
}

// The frame of the call instruction: every captured address is a return
// address, the instruction after the call, which for a call to a noreturn
// function (throw_panic) is already the first byte of the next function.
// One byte back lands inside the call, as Rust's and gdb's symbolizers do.
boost::stacktrace::frame call_site(const boost::stacktrace::frame& returning_to) {
    const auto* address = static_cast<const unsigned char*>(returning_to.address());
    if (address == nullptr) {
        return returning_to;
    }
    return boost::stacktrace::frame(address - 1);
}

// Appends the frames of trace, numbered from 0. The trimmed style leaves out
// the reporting frames at the top and the entry frames at the bottom (those
// of the library too when the trace was made where the panic was raised).
void append_frames(std::string& text, const boost::stacktrace::stacktrace& trace,
                   backtrace_style style, bool made_at_panic) {
    std::vector<boost::stacktrace::frame> frames;
    std::vector<std::string> names;
    for (const boost::stacktrace::frame& f : trace) {
        frames.push_back(call_site(f));
        names.push_back(frames.back().name());
    }
    const std::size_t size = frames.size();
    std::size_t first = 0;
    std::size_t last = size; // one past
    if (style == backtrace_style::trimmed) {
        while (first < size && is_reporting_frame(names[first])) {
            ++first;
        }
        if (made_at_panic) {
            // The top of an rthread thread: everything below is the trampoline.
            for (std::size_t i = first; i < last; ++i) {
                if (names[i].find("rthread::detail::invoke_catching") != std::string::npos) {
                    last = i;
                    break;
                }
            }
        }
        while (last > first && (is_os_entry_frame(names[last - 1]) ||
                                (made_at_panic && is_library_entry_frame(names[last - 1])))) {
            --last;
        }
        if (first == last) {
            // Nothing but machinery (an exception thrown by the library's own
            // code): show it rather than an empty list.
            last = size;
        }
    }
    for (std::size_t i = first; i < last; ++i) {
        text += fmt::format("{:>4}: {}\n", i - first, names[i].empty() ? "<unknown>" : names[i]);
        const std::string file = frames[i].source_file();
        if (!file.empty()) {
            text += fmt::format("             at {}:{}\n", file, frames[i].source_line());
        }
    }
}

std::shared_ptr<const panic_backtrace> backtrace_of(const std::exception_ptr& payload) {
    if (!payload) {
        return nullptr;
    }
    try {
        std::rethrow_exception(payload);
    } catch (const panic_error& e) {
        return panic_error_access::backtrace(e);
    } catch (...) {
        return nullptr;
    }
}

} // namespace

backtrace_style parse_backtrace_style(const char* value) noexcept {
    if (value == nullptr || *value == '\0' || std::strcmp(value, "0") == 0) {
        return backtrace_style::off;
    }
    if (std::strcmp(value, "full") == 0) {
        return backtrace_style::full;
    }
    return backtrace_style::trimmed;
}

backtrace_style current_backtrace_style() noexcept {
    // relaxed: the value is a pure function of the environment; threads that
    // race here compute and store the same one.
    int style = cached_style.load(std::memory_order_relaxed);
    if (style < 0) {
        // getenv races only with a setenv while threads run, which the
        // program must not do (Rust's std::env::set_var is unsafe for that):
        // read at the first panic, as Rust reads RUST_BACKTRACE.
        // NOLINTNEXTLINE(concurrency-mt-unsafe): see above
        style = static_cast<int>(parse_backtrace_style(std::getenv("RTHREAD_BACKTRACE")));
        cached_style.store(style, std::memory_order_relaxed);
    }
    return static_cast<backtrace_style>(style);
}

void set_backtrace_style_for_testing(backtrace_style style) noexcept {
    // relaxed: tests set it before the panics they observe, on one thread.
    cached_style.store(static_cast<int>(style), std::memory_order_relaxed);
}

std::shared_ptr<const panic_backtrace> capture_panic_backtrace() noexcept {
    if (current_backtrace_style() == backtrace_style::off) {
        return nullptr;
    }
    try {
        // Addresses only; symbols are resolved when the hook prints.
        return std::make_shared<panic_backtrace>(panic_backtrace{boost::stacktrace::stacktrace()});
    } catch (...) {
        return nullptr; // a panic without a backtrace beats no panic
    }
}

std::string describe_backtrace(const std::exception_ptr& payload, backtrace_style style) {
    if (style == backtrace_style::off) {
        return "note: run with `RTHREAD_BACKTRACE=1` environment variable to display a "
               "backtrace\n";
    }
    std::string text;
    if (const std::shared_ptr<const panic_backtrace> made = backtrace_of(payload)) {
        text += "stack backtrace:\n";
        append_frames(text, made->frames, style, true);
    } else {
        text += "stack backtrace (where the thread caught the panic; only rthread::panic_error "
                "records where it was raised):\n";
        append_frames(text, boost::stacktrace::stacktrace(), style, false);
    }
    if (style == backtrace_style::trimmed) {
        text += "note: Some details are omitted, run with `RTHREAD_BACKTRACE=full` for a verbose "
                "backtrace.\n";
    }
    return text;
}

} // namespace rthread::detail

// RTHREAD_BACKTRACE: the default panic hook's backtrace, as RUST_BACKTRACE.
// A panic_error records the stack where it was made (the hook runs after
// unwinding); other payloads get the stack where the thread caught them.
#define BOOST_TEST_MODULE backtrace
#include <boost/test/unit_test.hpp>

#include "backtrace.hpp"
#include "child_process.hpp"

#include <rthread/panic.hpp>
#include <rthread/spawn.hpp>

#include <stdexcept>
#include <string>

namespace {

using rthread::detail::backtrace_style;

// Leaves the process's style as the environment had it (off in the suite).
struct style_guard {
    ~style_guard() { rthread::detail::set_backtrace_style_for_testing(backtrace_style::off); }
};

[[gnu::noinline]] void panic_in_a_named_function(int x) {
    RTHREAD_PANIC("x = {}", x);
}

[[gnu::noinline]] void throw_a_runtime_error_in_a_named_function() {
    throw std::runtime_error("not a panic_error");
}

std::exception_ptr payload_of(void (*fn)()) {
    try {
        fn();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The line of the first frame printed ("   0: <name>").
std::string first_frame(const std::string& text) {
    const std::size_t at = text.find("   0: ");
    if (at == std::string::npos) {
        return "";
    }
    return text.substr(at, text.find('\n', at) - at);
}

} // namespace

BOOST_AUTO_TEST_CASE(unset_empty_and_zero_turn_backtraces_off) {
    BOOST_TEST((rthread::detail::parse_backtrace_style(nullptr) == backtrace_style::off));
    BOOST_TEST((rthread::detail::parse_backtrace_style("") == backtrace_style::off));
    BOOST_TEST((rthread::detail::parse_backtrace_style("0") == backtrace_style::off));
}

BOOST_AUTO_TEST_CASE(full_selects_every_frame_and_other_values_the_trimmed_style) {
    BOOST_TEST((rthread::detail::parse_backtrace_style("full") == backtrace_style::full));
    BOOST_TEST((rthread::detail::parse_backtrace_style("1") == backtrace_style::trimmed));
    BOOST_TEST((rthread::detail::parse_backtrace_style("short") == backtrace_style::trimmed));
}

BOOST_AUTO_TEST_CASE(panic_error_records_no_stack_while_backtraces_are_off) {
    style_guard guard;
    rthread::detail::set_backtrace_style_for_testing(backtrace_style::off);
    BOOST_TEST(!rthread::detail::capture_panic_backtrace());
    rthread::detail::set_backtrace_style_for_testing(backtrace_style::trimmed);
    BOOST_TEST(static_cast<bool>(rthread::detail::capture_panic_backtrace()));
}

BOOST_AUTO_TEST_CASE(off_style_prints_one_line_on_how_to_get_a_backtrace) {
    const auto payload = payload_of([] { panic_in_a_named_function(1); });
    BOOST_TEST(rthread::detail::describe_backtrace(payload, backtrace_style::off) ==
               "note: run with `RTHREAD_BACKTRACE=1` environment variable to display a "
               "backtrace\n");
}

BOOST_AUTO_TEST_CASE(trimmed_backtrace_starts_at_the_function_that_panicked) {
    style_guard guard;
    rthread::detail::set_backtrace_style_for_testing(backtrace_style::trimmed);
    const auto payload = payload_of([] { panic_in_a_named_function(2); });
    // Described after the stack was unwound, as the hook does.
    const std::string text = rthread::detail::describe_backtrace(payload, backtrace_style::trimmed);
    BOOST_TEST(has(text, "stack backtrace:\n"), text);
    BOOST_TEST(has(first_frame(text), "panic_in_a_named_function"), text);
    BOOST_TEST(has(text, "backtrace_test.cpp:"), text);
    BOOST_TEST(!has(text, "capture_panic_backtrace"), text);
    BOOST_TEST(has(text, "run with `RTHREAD_BACKTRACE=full` for a verbose backtrace"), text);
}

BOOST_AUTO_TEST_CASE(full_backtrace_keeps_the_library_frames) {
    style_guard guard;
    rthread::detail::set_backtrace_style_for_testing(backtrace_style::full);
    const auto payload = payload_of([] { panic_in_a_named_function(3); });
    const std::string text = rthread::detail::describe_backtrace(payload, backtrace_style::full);
    BOOST_TEST(has(text, "rthread::detail::capture_panic_backtrace"), text);
    BOOST_TEST(has(text, "panic_in_a_named_function"), text);
    BOOST_TEST(!has(text, "RTHREAD_BACKTRACE=full"), text);
}

BOOST_AUTO_TEST_CASE(other_payloads_show_where_the_panic_was_caught_and_say_so) {
    style_guard guard;
    rthread::detail::set_backtrace_style_for_testing(backtrace_style::trimmed);
    const auto payload = payload_of(&throw_a_runtime_error_in_a_named_function);
    const std::string text = rthread::detail::describe_backtrace(payload, backtrace_style::trimmed);
    BOOST_TEST(has(text, "stack backtrace (where the thread caught the panic"), text);
    BOOST_TEST(has(text, "   0: "), text);
    // The stack it shows is this one, the catch site: the thrower is gone.
    BOOST_TEST(!has(text, "throw_a_runtime_error_in_a_named_function"), text);
}

// The whole path, with the variable really set in a new process: a spawned
// thread panics, the default hook prints the backtrace to stderr.
BOOST_AUTO_TEST_CASE(default_hook_prints_the_backtrace_when_rthread_backtrace_is_1) {
    if (!test_support::in_fresh_process()) {
        const auto child = test_support::run_fresh_test_case(
            "default_hook_prints_the_backtrace_when_rthread_backtrace_is_1",
            {"RTHREAD_BACKTRACE=1"});
        BOOST_TEST(child.exit_code == 0, child.stdout_text << child.stderr_text);
        const std::string& err = child.stderr_text;
        BOOST_TEST(has(err, "panicked at "), err);
        BOOST_TEST(has(err, "x = 4\nstack backtrace:\n"), err);
        BOOST_TEST(has(first_frame(err), "panic_in_a_named_function"), err);
        // The frames end at the user's thread function, above the trampoline.
        BOOST_TEST(!has(err, "invoke_catching"), err);
        BOOST_TEST(!has(err, "environment variable to display a backtrace"), err);
        return;
    }
    auto handle = rthread::spawn([] { panic_in_a_named_function(4); });
    BOOST_TEST(!handle.join().has_value());
}

BOOST_AUTO_TEST_CASE(default_hook_says_how_to_get_a_backtrace_when_unset) {
    if (!test_support::in_fresh_process()) {
        const auto child = test_support::run_fresh_test_case(
            "default_hook_says_how_to_get_a_backtrace_when_unset", {"RTHREAD_BACKTRACE="});
        BOOST_TEST(child.exit_code == 0, child.stdout_text << child.stderr_text);
        const std::string& err = child.stderr_text;
        BOOST_TEST(has(err, "x = 5\nnote: run with `RTHREAD_BACKTRACE=1` environment variable to "
                            "display a backtrace\n"),
                   err);
        BOOST_TEST(!has(err, "stack backtrace"), err);
        return;
    }
    auto handle = rthread::spawn([] { panic_in_a_named_function(5); });
    BOOST_TEST(!handle.join().has_value());
}

// Panics: any exception leaving a thread comes back from join(), is reported
// by the hook, and ends that thread only. Ported from Rust's
// library/std/src/thread/tests.rs (test_join_panic, test_try_panic_any_message_*)
// plus the C++ payload types and the default hook's output.
#define BOOST_TEST_MODULE panic
#include "test_main.hpp"

#include "child_process.hpp"

#include <rthread/rthread.hpp>

#include <atomic>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct custom_payload {
    int code;
};

// Collects what the hook saw, instead of printing it.
struct hook_recorder {
    struct seen {
        std::optional<std::string> thread_name;
        std::string message;
        std::optional<boost::source_location> location;
        bool panicking = false;
        bool has_payload = false;
    };
    std::mutex mutex;
    std::vector<seen> all;

    hook_recorder() {
        rthread::set_panic_hook([this](const rthread::panic_info& info) {
            std::lock_guard<std::mutex> lock(mutex);
            const auto name = info.thread().name();
            all.push_back({name ? std::optional<std::string>(*name) : std::nullopt,
                           std::string(info.message()), info.location(), rthread::panicking(),
                           info.payload() != nullptr});
        });
    }
    ~hook_recorder() { rthread::take_panic_hook(); }
};

template <class E>
bool payload_is(const rthread::result<void>& r, const std::function<bool(const E&)>& check) {
    if (r.has_value()) {
        return false;
    }
    try {
        std::rethrow_exception(r.error());
    } catch (const E& e) {
        return check(e);
    } catch (...) {
        return false;
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(join_returns_the_panic) {
    // Rust: test_join_panic.
    hook_recorder quiet;
    auto r = rthread::spawn([] { RTHREAD_PANIC("boom"); }).join();
    BOOST_TEST(!r.has_value());
    BOOST_TEST(rthread::panic_message(r.error()).value() == "boom");
}

BOOST_AUTO_TEST_CASE(value_of_a_panicked_result_rethrows_the_panic) {
    hook_recorder quiet;
    auto r = rthread::spawn([]() -> int { throw std::out_of_range("index 9"); }).join();
    BOOST_CHECK_THROW(r.value(), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(panic_error_carries_message_and_location) {
    hook_recorder quiet;
    const int line = __LINE__ + 1;
    auto r = rthread::spawn([] { RTHREAD_PANIC("x = {}, y = {}", 1, "two"); }).join();
    BOOST_TEST(payload_is<rthread::panic_error>(r, [&](const rthread::panic_error& e) {
        return std::string(e.what()) == "x = 1, y = two" &&
               e.location().line() == static_cast<unsigned>(line) &&
               std::string(e.location().file_name()).find("panic_test.cpp") != std::string::npos;
    }));
    // panic_error is a std::runtime_error.
    BOOST_TEST(payload_is<std::runtime_error>(r, [](const std::runtime_error&) { return true; }));
}

BOOST_AUTO_TEST_CASE(join_returns_panic_payload_of_any_type) {
    // Rust: test_try_panic_any_message_owned_str / static_str / unit.
    hook_recorder quiet;
    auto from_literal = rthread::spawn([] { throw "static str"; }).join();
    BOOST_REQUIRE(!from_literal.has_value());
    // A thrown pointer is caught by value: clang binds a reference to a
    // thrown pointer to storage of its own, so payload_is() cannot be used.
    try {
        std::rethrow_exception(from_literal.error());
    } catch (const char* s) {
        BOOST_TEST(std::string(s) == "static str");
    } catch (...) {
        BOOST_FAIL("the payload is not a const char*");
    }
    auto from_string = rthread::spawn([] { throw std::string("owned string"); }).join();
    BOOST_TEST(payload_is<std::string>(from_string,
                                       [](const std::string& s) { return s == "owned string"; }));
    auto from_int = rthread::spawn([] { throw 42; }).join();
    BOOST_TEST(payload_is<int>(from_int, [](int v) { return v == 42; }));
    auto from_custom = rthread::spawn([] { throw custom_payload{7}; }).join();
    BOOST_TEST(payload_is<custom_payload>(from_custom,
                                          [](const custom_payload& c) { return c.code == 7; }));
}

BOOST_AUTO_TEST_CASE(panic_message_reads_strings_and_std_exceptions_only) {
    // Rust: downcast_ref::<&str>() / downcast_ref::<String>().
    BOOST_TEST(rthread::panic_message(std::make_exception_ptr(std::logic_error("le"))).value() ==
               "le");
    BOOST_TEST(rthread::panic_message(std::make_exception_ptr("lit")).value() == "lit");
    BOOST_TEST(rthread::panic_message(std::make_exception_ptr(std::string("str"))).value() ==
               "str");
    BOOST_TEST(!rthread::panic_message(std::make_exception_ptr(5)).has_value());
    BOOST_TEST(!rthread::panic_message(std::make_exception_ptr(custom_payload{1})).has_value());
    BOOST_TEST(!rthread::panic_message(std::exception_ptr()).has_value());
}

BOOST_AUTO_TEST_CASE(a_panic_ends_only_its_thread) {
    hook_recorder quiet;
    std::atomic<int> survivors{0};
    auto a = rthread::spawn([] { throw std::runtime_error("a"); });
    auto b = rthread::spawn([&] { survivors.fetch_add(1); });
    BOOST_TEST(!a.join().has_value());
    BOOST_TEST(b.join().has_value());
    BOOST_TEST(survivors.load() == 1);
    // The process and the library keep working.
    BOOST_TEST(rthread::spawn([] { return 3; }).join().value() == 3);
}

BOOST_AUTO_TEST_CASE(hook_sees_thread_message_location_and_panicking) {
    hook_recorder recorder;
    (void)rthread::builder{}
        .name("hooked")
        .spawn([] { RTHREAD_PANIC("with {}", "location"); })
        .value()
        .join();
    (void)rthread::spawn([] { throw 17; }).join();
    std::lock_guard<std::mutex> lock(recorder.mutex);
    BOOST_REQUIRE(recorder.all.size() == 2u);
    BOOST_TEST(recorder.all[0].thread_name.value() == "hooked");
    BOOST_TEST(recorder.all[0].message == "with location");
    BOOST_TEST(recorder.all[0].location.has_value());
    BOOST_TEST(recorder.all[0].panicking);
    BOOST_TEST(recorder.all[0].has_payload);
    BOOST_TEST(!recorder.all[1].thread_name.has_value());
    BOOST_TEST(recorder.all[1].message == "unknown exception of type int");
    BOOST_TEST(!recorder.all[1].location.has_value());
}

BOOST_AUTO_TEST_CASE(hook_message_names_unknown_types_demangled) {
    hook_recorder recorder;
    (void)rthread::spawn([] { throw custom_payload{1}; }).join();
    std::lock_guard<std::mutex> lock(recorder.mutex);
    BOOST_REQUIRE(recorder.all.size() == 1u);
    BOOST_TEST(recorder.all[0].message ==
               "unknown exception of type (anonymous namespace)::custom_payload");
}

BOOST_AUTO_TEST_CASE(panicking_is_true_while_unwinding_only) {
    BOOST_TEST(!rthread::panicking());
    struct probe {
        bool* seen;
        ~probe() { *seen = rthread::panicking(); }
    };
    bool during_unwind = false;
    bool during_normal_exit = true;
    try {
        probe p{&during_unwind};
        throw 1;
    } catch (int) {
    }
    { probe p{&during_normal_exit}; }
    BOOST_TEST(during_unwind);
    BOOST_TEST(!during_normal_exit);
}

BOOST_AUTO_TEST_CASE(take_panic_hook_returns_the_hook_and_restores_the_default) {
    int calls = 0;
    rthread::set_panic_hook([&calls](const rthread::panic_info&) { ++calls; });
    rthread::panic_hook taken = rthread::take_panic_hook();
    BOOST_REQUIRE(static_cast<bool>(taken));
    taken(rthread::panic_info(rthread::current(), std::make_exception_ptr(1)));
    BOOST_TEST(calls == 1);
    // The default is back: taking again gives a callable (the default hook).
    rthread::panic_hook default_hook = rthread::take_panic_hook();
    BOOST_TEST(static_cast<bool>(default_hook));
    rthread::set_panic_hook(rthread::panic_hook()); // an empty hook means the default
}

// The default hook writes Rust 1.9x's report to stderr.
RTHREAD_SCENARIO(default_hook_reports) {
    (void)rthread::builder{}
        .name("reporter")
        .spawn([] { RTHREAD_PANIC("answer {}", 42); })
        .value()
        .join();
    (void)rthread::spawn([] { throw std::runtime_error("no location here"); }).join();
    (void)rthread::spawn([] { throw 3.5; }).join();
    return 0;
}

// The column appears where the compiler provides one (clang; g++ in C++20
// through std::source_location), as the reference allows.
BOOST_AUTO_TEST_CASE(default_hook_writes_rust_style_report_to_stderr) {
    const auto child = test_support::run_scenario("default_hook_reports");
    BOOST_TEST(child.exit_code == 0);
    const std::string& err = child.stderr_text;
    BOOST_TEST(
        std::regex_search(
            err, std::regex("thread 'reporter' \\([0-9]+\\) panicked at [^\\n]*panic_test\\.cpp:"
                            "[0-9]+(:[0-9]+)?:\\nanswer 42\\n")),
        err);
    BOOST_TEST(
        std::regex_search(
            err, std::regex("thread '<unnamed>' \\([0-9]+\\) panicked:\\nno location here\\n")),
        err);
    BOOST_TEST(err.find("panicked:\nunknown exception of type double\n") != std::string::npos, err);
    BOOST_TEST(err.find("note: run with `RTHREAD_BACKTRACE=1` environment variable to display a "
                        "backtrace") != std::string::npos,
               err);
}

RTHREAD_SCENARIO(throwing_hook) {
    rthread::set_panic_hook([](const rthread::panic_info&) { throw std::runtime_error("hook"); });
    (void)rthread::spawn([] { throw 1; }).join();
    return 0; // not reached: the process aborts
}

BOOST_AUTO_TEST_CASE(a_hook_that_throws_aborts_the_process) {
    const auto child = test_support::run_scenario("throwing_hook");
    BOOST_TEST(child.signal == SIGABRT);
    BOOST_TEST(child.stderr_text.find("thread panicked while processing panic. aborting.") !=
               std::string::npos);
}

// ---- panics where they happen (RTHREAD_PANIC reports at its site) ---------

namespace {
struct logs_on_unwind {
    std::vector<std::string>& log;
    ~logs_on_unwind() { log.push_back("destructor"); }
};
} // namespace

BOOST_AUTO_TEST_CASE(rthread_panic_reports_before_unwinding) {
    // Rust's panic!: the hook runs at the panic site, so a destructor's
    // output comes after the report.
    std::vector<std::string> log;
    rthread::set_panic_hook([&log](const rthread::panic_info& info) {
        log.push_back("hook: " + std::string(info.message()) +
                      (rthread::panicking() ? ", panicking" : ""));
    });
    auto r = rthread::spawn([&log] {
                 const logs_on_unwind guard{log};
                 RTHREAD_PANIC("at the site {}", 1);
             }).join();
    (void)rthread::take_panic_hook();
    BOOST_TEST(!r.has_value());
    BOOST_TEST(log == (std::vector<std::string>{"hook: at the site 1, panicking", "destructor"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_panic_stopped_by_try_catch_is_still_reported_once) {
    hook_recorder recorder;
    try {
        RTHREAD_PANIC("stopped {}", "here");
    } catch (const rthread::panic_error& e) {
        BOOST_TEST(std::string(e.what()) == "stopped here");
    }
    std::lock_guard<std::mutex> lock(recorder.mutex);
    BOOST_TEST_REQUIRE(recorder.all.size() == 1u);
    BOOST_TEST(recorder.all[0].message == "stopped here");
    BOOST_TEST(recorder.all[0].location.has_value());
    BOOST_TEST(recorder.all[0].panicking);
}

BOOST_AUTO_TEST_CASE(a_panic_that_leaves_the_thread_is_reported_once) {
    hook_recorder recorder;
    (void)rthread::spawn([] { RTHREAD_PANIC("once"); }).join();
    (void)rthread::spawn([] { throw std::runtime_error("at the top"); }).join();
    // A panic_error caught and thrown again (a copy) was reported already.
    (void)rthread::spawn([] {
        try {
            RTHREAD_PANIC("caught and thrown again");
        } catch (const rthread::panic_error& e) {
            throw e;
        }
    }).join();
    std::lock_guard<std::mutex> lock(recorder.mutex);
    BOOST_TEST_REQUIRE(recorder.all.size() == 3u);
    BOOST_TEST(recorder.all[0].message == "once");
    BOOST_TEST(recorder.all[1].message == "at the top");
    BOOST_TEST(recorder.all[2].message == "caught and thrown again");
}

BOOST_AUTO_TEST_CASE(catch_unwind_gives_the_value_or_the_exception) {
    const rthread::result<int> value = rthread::catch_unwind([] { return 7; });
    BOOST_TEST(value.value() == 7);
    const rthread::result<void> nothing = rthread::catch_unwind([] {});
    BOOST_TEST(nothing.has_value());
    const rthread::result<int> thrown = rthread::catch_unwind([]() -> int { throw 42; });
    BOOST_TEST_REQUIRE(!thrown.has_value());
    BOOST_TEST(!rthread::panic_message(thrown.error()).has_value());
    hook_recorder recorder;
    const rthread::result<void> panicked =
        rthread::catch_unwind([] { RTHREAD_PANIC("inside {}", "catch_unwind"); });
    BOOST_TEST_REQUIRE(!panicked.has_value());
    BOOST_TEST((rthread::panic_message(panicked.error()) ==
                std::optional<std::string>("inside catch_unwind")));
    std::lock_guard<std::mutex> lock(recorder.mutex);
    BOOST_TEST(recorder.all.size() == 1u); // reported at its site, as Rust's
}

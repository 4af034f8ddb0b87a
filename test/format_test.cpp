// Printing ids and handles as Rust's Debug does: operator<< and
// fmt::formatter give the same text (Rust's Debug: "ThreadId(7)" and
// "Thread { id: ThreadId(1), name: Some("main"), .. }").
#define BOOST_TEST_MODULE format
#include <boost/test/unit_test.hpp>

#include <rthread/spawn.hpp>
#include <rthread/thread.hpp>

#include <fmt/format.h>

#include <sstream>
#include <string>

namespace {

template <class T>
std::string streamed(const T& value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

} // namespace

BOOST_AUTO_TEST_CASE(main_thread_id_prints_as_thread_id_1) {
    BOOST_TEST(fmt::format("{}", rthread::current_id()) == "ThreadId(1)");
    BOOST_TEST(streamed(rthread::current_id()) == "ThreadId(1)");
}

BOOST_AUTO_TEST_CASE(spawned_thread_id_prints_its_number) {
    auto handle = rthread::spawn([] { return rthread::current_id(); });
    const rthread::thread_id id = handle.join().value();
    const std::string expected = "ThreadId(" + std::to_string(id.as_u64()) + ")";
    BOOST_TEST(fmt::format("{}", id) == expected);
    BOOST_TEST(streamed(id) == expected);
}

BOOST_AUTO_TEST_CASE(main_thread_prints_with_its_name) {
    const std::string expected = R"(Thread { id: ThreadId(1), name: Some("main"), .. })";
    BOOST_TEST(fmt::format("{}", rthread::current()) == expected);
    BOOST_TEST(streamed(rthread::current()) == expected);
}

BOOST_AUTO_TEST_CASE(unnamed_thread_prints_name_none) {
    auto handle = rthread::spawn([] {});
    const rthread::thread t = handle.thread();
    handle.join().value();
    const std::string expected =
        "Thread { id: ThreadId(" + std::to_string(t.id().as_u64()) + "), name: None, .. }";
    BOOST_TEST(fmt::format("{}", t) == expected);
    BOOST_TEST(streamed(t) == expected);
}

BOOST_AUTO_TEST_CASE(named_thread_prints_its_whole_name) {
    // Longer than the 15 bytes the OS keeps: the handle prints all of it.
    auto handle = rthread::builder{}.name("a worker with a long name").spawn([] {}).value();
    const rthread::thread t = handle.thread();
    handle.join().value();
    const std::string expected = "Thread { id: ThreadId(" + std::to_string(t.id().as_u64()) +
                                 R"(), name: Some("a worker with a long name"), .. })";
    BOOST_TEST(fmt::format("{}", t) == expected);
    BOOST_TEST(streamed(t) == expected);
}

BOOST_AUTO_TEST_CASE(name_with_quotes_and_newline_prints_escaped_as_rust_debug) {
    auto handle = rthread::builder{}.name("say \"hi\"\n").spawn([] {}).value();
    const rthread::thread t = handle.thread();
    handle.join().value();
    const std::string expected = "Thread { id: ThreadId(" + std::to_string(t.id().as_u64()) +
                                 R"(), name: Some("say \"hi\"\n"), .. })";
    BOOST_TEST(fmt::format("{}", t) == expected);
    BOOST_TEST(streamed(t) == expected);
}

BOOST_AUTO_TEST_CASE(formatter_honours_surrounding_text_and_argument_positions) {
    const rthread::thread_id id = rthread::current_id();
    BOOST_TEST(fmt::format("[{1}] {0}!", id, "x") == "[x] ThreadId(1)!");
}

BOOST_AUTO_TEST_CASE(stream_state_and_following_output_are_kept) {
    std::ostringstream out;
    out << rthread::current_id() << ' ' << 42;
    BOOST_TEST(out.str() == "ThreadId(1) 42");
    BOOST_TEST(out.good());
}

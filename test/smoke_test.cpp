#define BOOST_TEST_MODULE smoke
#include <boost/test/unit_test.hpp>
#include <rthread/rthread.hpp>
BOOST_AUTO_TEST_CASE(spawn_join_returns_value) {
    auto h = rthread::spawn([](int x) { return x * 2; }, 21);
    BOOST_TEST(h.join().value() == 42);
}

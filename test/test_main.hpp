// The main() of every test suite: Boost.Test's runner, plus scenarios.
//
// A scenario is a function run as the whole body of a fresh process:
// `<suite> --scenario=NAME` runs it instead of the test runner and returns
// its value from main(). Tests start scenarios with
// test_support::run_scenario() (child_process.hpp) and check their exit
// code, signal and output. Use a scenario for whatever must end the process
// or depends on process start or exit: no test framework state is in the
// way, and returning from it is returning from main.
//
// A suite includes this header instead of <boost/test/unit_test.hpp>, after
// defining BOOST_TEST_MODULE.
#ifndef RTHREAD_TEST_TEST_MAIN_HPP
#define RTHREAD_TEST_TEST_MAIN_HPP

#define BOOST_TEST_NO_MAIN
#define BOOST_TEST_ALTERNATIVE_INIT_API
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>

namespace test_support {

using scenario_fn = int (*)();

inline std::map<std::string, scenario_fn>& scenarios() {
    static std::map<std::string, scenario_fn> all;
    return all;
}

struct scenario_registrar {
    scenario_registrar(const char* name, scenario_fn fn) { scenarios()[name] = fn; }
};

/// Failed checks in a scenario or a forked child, where Boost.Test's own
/// assertions cannot report (RTHREAD_CHILD_CHECK); the child returns or
/// exits with a status made from it.
inline int child_failures = 0;

} // namespace test_support

/// In a scenario or a forked child: counts a failed check and says which on
/// stderr.
#define RTHREAD_CHILD_CHECK(condition)                                                             \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #condition);           \
            ++test_support::child_failures;                                                        \
        }                                                                                          \
    } while (false)

/// Defines a scenario: RTHREAD_SCENARIO(name) { ...; return exit_code; }
#define RTHREAD_SCENARIO(name)                                                                     \
    static int scenario_##name();                                                                  \
    static const test_support::scenario_registrar scenario_registrar_##name(#name,                 \
                                                                            &scenario_##name);     \
    static int scenario_##name()

int main(int argc, char* argv[]) {
    constexpr const char* flag = "--scenario=";
    if (argc >= 2 && std::strncmp(argv[1], flag, std::strlen(flag)) == 0) {
        const auto found = test_support::scenarios().find(argv[1] + std::strlen(flag));
        if (found == test_support::scenarios().end()) {
            std::fprintf(stderr, "no scenario %s\n", argv[1]);
            return 127;
        }
        return found->second();
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

#endif

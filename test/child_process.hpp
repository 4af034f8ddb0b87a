// Runs a test scenario in a child process (fork), for behaviour that must
// end the process (abort, exit) or that needs a fresh process state. The
// child's stderr is captured; its exit code or signal is reported.
//
// Call it only while the test process has no other threads running (every
// test joins what it spawns), so that fork() copies a consistent state.
#ifndef RTHREAD_TEST_CHILD_PROCESS_HPP
#define RTHREAD_TEST_CHILD_PROCESS_HPP

#include <functional>
#include <initializer_list>
#include <string>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

namespace test_support {

struct child_result {
    bool exited = false;     // ended through exit()/_exit()/return
    int exit_code = -1;      // when exited
    int signal = 0;          // the signal that ended it, otherwise
    std::string stderr_text; // everything it wrote to stderr
    std::string stdout_text; // everything it wrote to stdout
};

/// Forks; the child runs body() and then _exit(0) unless body ended the
/// process itself (abort(), a signal, exec). Do not call exit() in body:
/// the test framework's exit handlers would run in the child; use
/// run_scenario() for behaviour at process exit.
inline child_result run_in_child(const std::function<void()>& body) {
    int err_pipe[2];
    int out_pipe[2];
    if (::pipe(err_pipe) != 0 || ::pipe(out_pipe) != 0) {
        std::perror("pipe");
        std::abort();
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // The test framework may catch SIGABRT; the scenario's abort() must
        // end the child.
        ::signal(SIGABRT, SIG_DFL);
        ::dup2(err_pipe[1], STDERR_FILENO);
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::close(err_pipe[0]);
        ::close(err_pipe[1]);
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        body();
        std::fflush(stdout);
        std::fflush(stderr);
        ::_exit(0);
    }
    ::close(err_pipe[1]);
    ::close(out_pipe[1]);
    child_result result;
    // Read both pipes until the child closes them (poll-free: stdout is
    // small in these scenarios, so read stderr first, then stdout).
    char buffer[4096];
    for (ssize_t n; (n = ::read(err_pipe[0], buffer, sizeof buffer)) > 0;) {
        result.stderr_text.append(buffer, static_cast<std::size_t>(n));
    }
    for (ssize_t n; (n = ::read(out_pipe[0], buffer, sizeof buffer)) > 0;) {
        result.stdout_text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(err_pipe[0]);
    ::close(out_pipe[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
    }
    if (WIFEXITED(status)) {
        result.exited = true;
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    return result;
}

/// True in a process started by run_fresh_test_case().
inline bool in_fresh_process() {
    return std::getenv("RTHREAD_FRESH_TEST") != nullptr;
}

/// Runs the test case `name` of this test binary alone, in a new process
/// (fork + exec of /proc/self/exe with --run_test=name), with the
/// environment variables `env` ("NAME=value") added and RTHREAD_FRESH_TEST
/// set. For behaviour that depends on what happens first in a process (the
/// main thread's id, settings read once). A test case uses it as
///   if (!in_fresh_process()) { check run_fresh_test_case(...) ; return; }
///   ... the real checks, with BOOST_TEST ...
inline child_result run_fresh_test_case(const char* name,
                                        std::initializer_list<const char*> env = {}) {
    return run_in_child([&] {
        ::setenv("RTHREAD_FRESH_TEST", "1", 1);
        for (const char* entry : env) {
            ::putenv(const_cast<char*>(entry));
        }
        const std::string filter = std::string("--run_test=") + name;
        char self[] = "self";
        char quiet[] = "--log_level=error";
        char no_catch[] = "--catch_system_errors=no";
        char* argv[] = {self, const_cast<char*>(filter.c_str()), quiet, no_catch, nullptr};
        ::execv("/proc/self/exe", argv);
        std::perror("execv");
        ::_exit(127);
    });
}

/// Runs the scenario `name` (see test_main.hpp) in a new process: this
/// test binary exec'd with --scenario=name, with the environment variables
/// `env` ("NAME=value") added.
inline child_result run_scenario(const char* name, std::initializer_list<const char*> env = {}) {
    return run_in_child([&] {
        for (const char* entry : env) {
            ::putenv(const_cast<char*>(entry));
        }
        const std::string flag = std::string("--scenario=") + name;
        char self[] = "self";
        char* argv[] = {self, const_cast<char*>(flag.c_str()), nullptr};
        ::execv("/proc/self/exe", argv);
        std::perror("execv");
        ::_exit(127);
    });
}

} // namespace test_support

#endif

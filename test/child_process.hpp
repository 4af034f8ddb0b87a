// Runs a test scenario in a child process (fork), for behaviour that must
// end the process (abort, exit) or that needs a fresh process state. The
// child's stderr is captured; its exit code or signal is reported.
//
// Call it only while the test process has no other threads running (every
// test joins what it spawns), so that fork() copies a consistent state.
#ifndef RTHREAD_TEST_CHILD_PROCESS_HPP
#define RTHREAD_TEST_CHILD_PROCESS_HPP

#include <functional>
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
/// process itself (exit(), abort(), a signal).
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

} // namespace test_support

#endif

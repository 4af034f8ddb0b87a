// Runs a test scenario in a child process (fork), for behaviour that must
// end the process (abort, exit) or that needs a fresh process state. The
// child's stderr is captured; its exit code or signal is reported.
//
// Call it only while the test process has no other threads running (every
// test joins what it spawns), so that fork() copies a consistent state.
//
// On Windows (no fork) run_scenario() and run_fresh_test_case() start this
// test executable again with CreateProcess (run_scenario_on_cpus() with an
// affinity mask), and run_in_child() does not exist: a test that needs it
// is compiled out there (RTHREAD_TEST_HAS_FORK).
#ifndef RTHREAD_TEST_CHILD_PROCESS_HPP
#define RTHREAD_TEST_CHILD_PROCESS_HPP

#include <functional>
#include <initializer_list>
#include <string>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cctype>
#include <thread>
#include <vector>

namespace test_support {

struct child_result {
    bool exited = false;     // ended with an exit code
    int exit_code = -1;      // when exited
    int signal = 0;          // SIGABRT for abort() (exit code 134), otherwise
    std::string stderr_text; // everything it wrote to stderr (\r\n as \n)
    std::string stdout_text; // everything it wrote to stdout (\r\n as \n)
};

namespace detail {

// What abort() ends a child with: 134, as a POSIX shell shows an abort
// (128 + 6; SIGABRT is 22 on Windows).
constexpr int abort_exit_code = 134;

// In a child started below: abort() ends it with exit code 134 (128 +
// SIGABRT, as a POSIX shell shows an abort) instead of the C runtime's 3,
// which a test could not tell from exit(3). The library's own stack-overflow
// exit is TerminateProcess(..., 134) already.
inline const bool abort_exits_134 = [] {
    if (std::getenv("RTHREAD_TEST_CHILD") != nullptr) {
        std::signal(SIGABRT, [](int) { std::_Exit(abort_exit_code); });
        // No error dialog for a crash: the parent reads the exit code.
        ::SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    }
    return true;
}();

inline std::string read_all(HANDLE pipe) {
    std::string text;
    char buffer[4096];
    DWORD n = 0;
    while (::ReadFile(pipe, buffer, sizeof buffer, &n, nullptr) && n > 0) {
        text.append(buffer, n);
    }
    return text;
}

inline std::string without_cr(std::string text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
            out += text[i];
        }
    }
    return out;
}

inline std::string name_of(const std::string& entry) {
    std::string name = entry.substr(0, entry.find('='));
    for (char& c : name) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

// This process's environment with `added` ("NAME=value") in place of
// entries of the same names, as a CreateProcess environment block.
inline std::string environment_with(const std::vector<std::string>& added) {
    std::vector<std::string> names;
    for (const auto& entry : added) {
        names.push_back(name_of(entry));
    }
    std::string block;
    if (char* current = ::GetEnvironmentStringsA()) {
        for (const char* p = current; *p != '\0'; p += std::strlen(p) + 1) {
            const std::string entry = p;
            bool replaced = false;
            for (const auto& name : names) {
                replaced = replaced || (entry[0] != '=' && name_of(entry) == name);
            }
            if (!replaced) {
                block.append(entry).push_back('\0');
            }
        }
        ::FreeEnvironmentStringsA(current);
    }
    for (const auto& entry : added) {
        block.append(entry).push_back('\0');
    }
    block.push_back('\0');
    return block;
}

// Runs this executable with `arguments` and the environment additions;
// with a non-zero `affinity`, restricted to those CPUs (the process's
// affinity mask) before its first instruction.
inline child_result run_self(const std::string& arguments, std::vector<std::string> env,
                             DWORD_PTR affinity = 0) {
    env.emplace_back("RTHREAD_TEST_CHILD=1");
    char self[MAX_PATH];
    const DWORD length = ::GetModuleFileNameA(nullptr, self, MAX_PATH);
    if (length == 0 || length == MAX_PATH) {
        std::fputs("GetModuleFileName failed\n", stderr);
        std::abort();
    }
    SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE err_read = nullptr;
    HANDLE err_write = nullptr;
    HANDLE out_read = nullptr;
    HANDLE out_write = nullptr;
    if (!::CreatePipe(&err_read, &err_write, &inherit, 0) ||
        !::CreatePipe(&out_read, &out_write, &inherit, 0)) {
        std::fputs("CreatePipe failed\n", stderr);
        std::abort();
    }
    // The parent's ends are not inherited.
    ::SetHandleInformation(err_read, HANDLE_FLAG_INHERIT, 0);
    ::SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOA startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = out_write;
    startup.hStdError = err_write;
    std::string command = std::string("\"") + self + "\" " + arguments;
    std::string environment = environment_with(env);
    PROCESS_INFORMATION process{};
    std::fflush(stdout);
    std::fflush(stderr);
    if (!::CreateProcessA(self, command.data(), nullptr, nullptr, TRUE,
                          affinity != 0 ? CREATE_SUSPENDED : 0, environment.data(), nullptr,
                          &startup, &process)) {
        std::fprintf(stderr, "CreateProcess failed: %lu\n", ::GetLastError());
        std::abort();
    }
    if (affinity != 0) {
        if (!::SetProcessAffinityMask(process.hProcess, affinity)) {
            std::fprintf(stderr, "SetProcessAffinityMask failed: %lu\n", ::GetLastError());
            ::TerminateProcess(process.hProcess, 127);
        }
        ::ResumeThread(process.hThread);
    }
    ::CloseHandle(process.hThread);
    ::CloseHandle(err_write);
    ::CloseHandle(out_write);
    child_result result;
    // Both pipes at once: a child filling one while we block on the other
    // would never end.
    std::thread out_reader([&] { result.stdout_text = read_all(out_read); });
    result.stderr_text = read_all(err_read);
    out_reader.join();
    ::CloseHandle(err_read);
    ::CloseHandle(out_read);
    ::WaitForSingleObject(process.hProcess, INFINITE);
    DWORD code = 0;
    ::GetExitCodeProcess(process.hProcess, &code);
    ::CloseHandle(process.hProcess);
    result.stderr_text = without_cr(std::move(result.stderr_text));
    result.stdout_text = without_cr(std::move(result.stdout_text));
    if (code == abort_exit_code) {
        result.signal = SIGABRT;
    } else if (code == 0xC0000005u || code == 0xC00000FDu) {
        result.signal = SIGSEGV; // access violation, unhandled stack overflow
    } else {
        result.exited = true;
        result.exit_code = static_cast<int>(code);
    }
    return result;
}

} // namespace detail

/// Runs the scenario `name` in a new process whose affinity mask is `cpus`
/// (each below 64), as `taskset -c` starts one on Linux.
inline child_result run_scenario_on_cpus(const char* name, const std::vector<std::size_t>& cpus) {
    DWORD_PTR mask = 0;
    for (const std::size_t cpu : cpus) {
        mask |= DWORD_PTR{1} << cpu;
    }
    return detail::run_self(std::string("--scenario=") + name, {}, mask);
}

/// True in a process started by run_fresh_test_case().
inline bool in_fresh_process() {
    return std::getenv("RTHREAD_FRESH_TEST") != nullptr;
}

/// Runs the test case `name` of this test executable alone, in a new
/// process, with the environment variables `env` ("NAME=value") added and
/// RTHREAD_FRESH_TEST set (see the POSIX version below).
inline child_result run_fresh_test_case(const char* name,
                                        std::initializer_list<const char*> env = {}) {
    std::vector<std::string> all(env.begin(), env.end());
    all.emplace_back("RTHREAD_FRESH_TEST=1");
    return detail::run_self(
        std::string("--run_test=") + name + " --log_level=error --catch_system_errors=no", all);
}

/// Runs the scenario `name` (see test_main.hpp) in a new process: this
/// test executable run with --scenario=name, with the environment
/// variables `env` ("NAME=value") added.
inline child_result run_scenario(const char* name, std::initializer_list<const char*> env = {}) {
    return detail::run_self(std::string("--scenario=") + name,
                            std::vector<std::string>(env.begin(), env.end()));
}

} // namespace test_support
#else
#define RTHREAD_TEST_HAS_FORK 1
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

#endif // !_WIN32

#endif

// The program tools/checks/syscalls.sh traces: it runs each call that must
// never enter the kernel many times between two marker system calls, so a
// tracer can count what happens in between.
//
// A marker is write(-1, "begin <case>") / write(-1, "end <case>"): a
// system call that fails at once and names its case in the trace. Each case
// is warmed up first (the calling thread's registration may make system
// calls once, e.g. gettid), then runs `rounds` times.
#include <rthread/rthread.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

constexpr int rounds = 10000;

void marker(const std::string& text) {
    // An invalid descriptor: the call only shows up in the trace.
    if (::write(-1, text.data(), text.size()) != -1) {
        std::abort();
    }
}

template <class F>
void run_case(const char* name, F f, int n = rounds) {
    f(); // warm-up: one-time registration is not what is checked
    marker(std::string("begin ") + name);
    for (int i = 0; i < n; ++i) {
        f();
    }
    marker(std::string("end ") + name);
}

} // namespace

int main() {
    const rthread::thread me = rthread::current();

    // unpark with no waiter: the token saturates, nobody is woken.
    run_case("unpark_no_waiter", [&] { me.unpark(); });
    rthread::park(); // consume the token the case left

    // unpark of a thread that has ended: nobody can be parked on it.
    auto ended = rthread::spawn([] {});
    const rthread::thread gone = ended.thread();
    ended.join().value();
    run_case("unpark_ended_thread", [&] { gone.unpark(); });

    run_case("unpark_self_then_park", [&] {
        me.unpark();
        rthread::park();
    });

    run_case("park_timeout_zero", [] { (void)rthread::park_timeout(std::chrono::seconds(0)); });

    const auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    run_case("park_until_expired", [&] { (void)rthread::park_until(past); });

    run_case("current", [] { (void)rthread::current(); });
    run_case("current_id", [] { (void)rthread::current_id(); });

    // The control: yield_now is a system call, so the tracer must see it;
    // a check that saw nothing here would be checking nothing.
    // (A hundred rounds: each traced system call is slow.)
    run_case(
        "control_yield_now", [] { rthread::yield_now(); }, 100);

    std::puts("probe done");
    return 0;
}

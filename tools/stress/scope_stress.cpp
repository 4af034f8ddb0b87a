// A stress run of rthread::scope, for tools/checks/scope_stress.sh: many
// scopes, each with a random mix of what scoped threads and their handles
// can do, checked after every scope:
//   - every thread that was spawned ran to its end;
//   - no result object is alive once scope returned (joined or not, handles
//     that outlived f included);
//   - scope_panic came exactly when a panic was left unjoined, and f's own
//     unjoined panics appear in its payloads in spawn order;
//   - a handle that outlived its scope cannot be joined;
//   - the calling thread's parking token is untouched.
// Usage: scope_stress [rounds] [seed]. Prints "N passed, N failed" last.
#include <rthread/rthread.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <vector>

namespace {

std::atomic<long> results_alive{0};
std::atomic<long> functions_ended{0};
std::atomic<long> threads_spawned{0};

// A result that counts itself, so that the run can check none outlives its
// scope.
class counted {
public:
    counted() { results_alive.fetch_add(1, std::memory_order_relaxed); }
    counted(const counted&) : counted() {}
    counted& operator=(const counted&) = default;
    ~counted() { results_alive.fetch_sub(1, std::memory_order_relaxed); }
};

// The payload a thread of f panics with: its index in f's spawn order.
struct spawn_mark {
    int index;
};
// The payload of a thread spawned by another scoped thread.
struct nested_mark {};

struct outcome {
    std::vector<int> unjoined_marks; // f's own threads' unjoined panics
    int unjoined_nested = 0;
};

// What a scoped thread does, chosen by f before the spawn.
enum class action : int {
    return_value,
    panic_mark,
    panic_int,
    spawn_children,
    return_child_handle,
    count
};

std::uint32_t next(std::uint32_t& state) {
    // xorshift32: cheap, per thread, deterministic from the seed.
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

// A thread body that may spawn into the scope itself.
counted child_work(rthread::scope_handle& s, std::uint32_t seed, int depth) {
    std::uint32_t state = seed | 1u;
    if (depth > 0 && next(state) % 2 == 0) {
        const int children = static_cast<int>(next(state) % 3);
        for (int i = 0; i < children; ++i) {
            threads_spawned.fetch_add(1, std::memory_order_relaxed);
            auto h = s.spawn([&s, seed = next(state), depth] {
                counted c = child_work(s, seed, depth - 1);
                functions_ended.fetch_add(1, std::memory_order_relaxed);
                return c;
            });
            if (next(state) % 2 == 0) {
                h.join().value();
            }
        }
    }
    return counted();
}

int run_round(std::uint32_t seed, std::vector<rthread::scoped_join_handle<counted>>& escaped,
              std::string& problem) {
    std::uint32_t state = seed | 1u;
    outcome expected;
    const long spawned_before = threads_spawned.load();
    const long ended_before = functions_ended.load();
    std::optional<rthread::scope_panic> caught;
    try {
        auto kept = rthread::scope([&](rthread::scope_handle& s) {
            std::vector<rthread::scoped_join_handle<counted>> handles;
            std::vector<rthread::scoped_join_handle<rthread::scoped_join_handle<counted>>> nested;
            std::vector<int> marks; // the spawn index of each handle, -1 when no mark
            const int threads = 1 + static_cast<int>(next(state) % 24);
            for (int i = 0; i < threads; ++i) {
                const auto what =
                    static_cast<action>(next(state) % static_cast<int>(action::count));
                const std::uint32_t child_seed = next(state);
                threads_spawned.fetch_add(1, std::memory_order_relaxed);
                if (what == action::return_child_handle) {
                    // Its result holds a handle of another scoped thread,
                    // which panics: unjoined, that panic is the scope's.
                    threads_spawned.fetch_add(1, std::memory_order_relaxed);
                    nested.push_back(s.spawn([&s] {
                        functions_ended.fetch_add(1, std::memory_order_relaxed);
                        return s.spawn([]() -> counted {
                            functions_ended.fetch_add(1, std::memory_order_relaxed);
                            throw nested_mark{};
                        });
                    }));
                    continue;
                }
                handles.push_back(s.spawn([&s, what, i, child_seed]() -> counted {
                    counted c;
                    if (what == action::spawn_children) {
                        c = child_work(s, child_seed, 2);
                    }
                    functions_ended.fetch_add(1, std::memory_order_relaxed);
                    if (what == action::panic_mark) {
                        throw spawn_mark{i};
                    }
                    if (what == action::panic_int) {
                        throw i;
                    }
                    return c;
                }));
                marks.push_back(what == action::panic_mark || what == action::panic_int ? i : -1);
            }
            // Decide each handle's fate: joined, dropped, or kept past f.
            std::vector<rthread::scoped_join_handle<counted>> outlive;
            for (std::size_t k = 0; k < handles.size(); ++k) {
                const std::uint32_t fate = next(state) % 4;
                if (fate == 0) {
                    (void)handles[k].join(); // a joined panic is handled
                    continue;
                }
                if (marks[k] >= 0) {
                    expected.unjoined_marks.push_back(marks[k]);
                }
                if (fate == 1) {
                    outlive.push_back(std::move(handles[k]));
                } else if (fate == 2 && handles[k].is_finished()) {
                    handles[k] = {};
                }
                // fate 3: dropped with f's locals
            }
            for (auto& n : nested) {
                if (next(state) % 2 == 0) {
                    // Joining the outer thread hands the inner handle back;
                    // joining that handles the inner panic too.
                    (void)n.join().value().join();
                } else {
                    ++expected.unjoined_nested;
                }
            }
            return outlive;
        });
        for (auto& h : kept) {
            escaped.push_back(std::move(h));
        }
    } catch (const rthread::scope_panic& e) {
        caught.emplace(e);
    }
    if (results_alive.load() != 0) {
        problem = "a result outlived its scope";
        return 1;
    }
    if (functions_ended.load() - ended_before != threads_spawned.load() - spawned_before) {
        problem = "a thread of the scope did not run to its end";
        return 1;
    }
    const bool expect_panic = !expected.unjoined_marks.empty() || expected.unjoined_nested > 0;
    if (caught.has_value() != expect_panic) {
        problem = caught ? "scope_panic without an unjoined panic" : "an unjoined panic was lost";
        return 1;
    }
    if (caught) {
        // f's own threads are spawned one after another: their payloads
        // keep that order (among the others).
        std::vector<int> seen;
        int nested = 0;
        for (const std::exception_ptr& p : caught->payloads()) {
            try {
                std::rethrow_exception(p);
            } catch (const spawn_mark& m) {
                seen.push_back(m.index);
            } catch (int i) {
                seen.push_back(i);
            } catch (const nested_mark&) {
                ++nested;
            } catch (...) {
                problem = "a payload of an unknown type";
                return 1;
            }
        }
        if (seen != expected.unjoined_marks) {
            problem = "payloads lost or out of spawn order";
            return 1;
        }
        if (nested != expected.unjoined_nested) {
            problem = "a nested thread's unjoined panic was lost";
            return 1;
        }
    }
    for (auto& h : escaped) {
        try {
            (void)h.join();
            problem = "a handle that outlived its scope was joined";
            return 1;
        } catch (const std::system_error& e) {
            if (e.code() != std::errc::invalid_argument) {
                problem = "join of an outlived handle failed oddly";
                return 1;
            }
        }
    }
    escaped.clear();
    if (rthread::park_timeout(std::chrono::seconds(0))) {
        problem = "scope left a parking token behind";
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const long rounds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 2000;
    const auto seed = static_cast<std::uint32_t>(argc > 2 ? std::strtoul(argv[2], nullptr, 10)
                                                          : std::random_device{}());
    // Panics are expected by the thousand: keep stderr for failures.
    rthread::set_panic_hook([](const rthread::panic_info&) {});
    std::printf("scope_stress: %ld rounds, seed %u\n", rounds, seed);
    std::uint32_t state = seed | 1u;
    long passed = 0;
    long failed = 0;
    std::vector<rthread::scoped_join_handle<counted>> escaped;
    for (long r = 0; r < rounds; ++r) {
        const std::uint32_t round_seed = next(state);
        std::string problem;
        if (run_round(round_seed, escaped, problem) == 0) {
            ++passed;
        } else {
            ++failed;
            std::printf("round %ld (seed %u): %s\n", r, round_seed, problem.c_str());
            escaped.clear();
        }
    }
    std::printf("%ld threads in all\n", threads_spawned.load());
    std::printf("%ld passed, %ld failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

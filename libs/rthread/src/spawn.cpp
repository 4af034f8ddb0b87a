// Spawning, up to the thread's launch: a builder's options checked (name,
// stack size, affinity), the thread's record, the parent sides of the spawn
// hooks. The rest of the thread's life is lifecycle.cpp's.
#include "lifecycle.hpp"
#include "registry.hpp"
#include "thread_start.hpp"

#include "sys/sys.hpp"

#include <rthread/spawn.hpp>

#include <boost/context/stack_traits.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rthread::detail {

namespace {

constexpr std::size_t default_stack = std::size_t{2} << 20; // 2 MiB, as Rust's

// RTHREAD_MIN_STACK (bytes), read once at the first spawn that needs it, as
// Rust reads RUST_MIN_STACK; anything but a whole number is ignored.
std::size_t default_stack_size() {
    static const std::size_t size = [] {
        // Read once, under the static's initialisation lock, as Rust reads
        // RUST_MIN_STACK once.
        const char* text = std::getenv("RTHREAD_MIN_STACK"); // NOLINT(concurrency-mt-unsafe)
        if (text == nullptr || *text == '\0') {
            return default_stack;
        }
        // Digits only: strtoull would also take a sign ("-1" wraps to the
        // largest value, after which every default spawn fails), leading
        // spaces and "+".
        std::size_t value = 0;
        for (const char* c = text; *c != '\0'; ++c) {
            if (*c < '0' || *c > '9') {
                return default_stack;
            }
            const auto digit = static_cast<std::size_t>(*c - '0');
            if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
                return default_stack; // too large to be a size
            }
            value = value * 10 + digit;
        }
        return value;
    }();
    return size;
}

// Rounds up to the page size and raises to the platform minimum; nullopt
// when the rounded size would pass sys::max_thread_stack (such a stack
// cannot be had).
std::optional<std::size_t> usable_stack_size(std::size_t requested) noexcept {
    const std::size_t page = boost::context::stack_traits::page_size();
    const std::size_t minimum =
        std::max(boost::context::stack_traits::minimum_size(), sys::min_thread_stack());
    std::size_t size = std::max(requested, minimum);
    if (size > sys::max_thread_stack - (page - 1)) {
        return std::nullopt;
    }
    return (size + page - 1) / page * page;
}

// errc::invalid_argument unless every CPU is one the process may use.
std::optional<boost::system::error_code> check_affinity(std::vector<std::size_t>& cpus) noexcept {
    using boost::system::errc::invalid_argument;
    using boost::system::errc::not_enough_memory;
    if (cpus.empty()) {
        return make_error_code(invalid_argument);
    }
    try {
        std::vector<std::size_t> allowed;
        if (!sys::process_cpus(allowed)) {
            return make_error_code(boost::system::errc::not_supported);
        }
        std::sort(cpus.begin(), cpus.end());
        cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
        if (!std::includes(allowed.begin(), allowed.end(), cpus.begin(), cpus.end())) {
            return make_error_code(invalid_argument);
        }
    } catch (const std::bad_alloc&) {
        return make_error_code(not_enough_memory);
    }
    return std::nullopt;
}

} // namespace

boost::system::result<started_thread>
start_thread(const spawn_options& options, std::unique_ptr<thread_main> main, scope_state* scope) {
    using boost::system::errc::invalid_argument;
    using boost::system::errc::not_enough_memory;
    const std::optional<std::string>& name = options.name;
    if (name && name->find('\0') != std::string::npos) {
        return make_error_code(invalid_argument);
    }
    const auto stack =
        usable_stack_size(options.stack_size ? *options.stack_size : default_stack_size());
    if (!stack) {
        return make_error_code(not_enough_memory);
    }
    std::optional<std::vector<std::size_t>> affinity;
    if (options.affinity) {
        try {
            affinity = options.affinity;
        } catch (const std::bad_alloc&) {
            return make_error_code(not_enough_memory);
        }
        if (auto bad = check_affinity(*affinity)) {
            return *bad;
        }
    }
    thread_record* record = nullptr;
    try {
        record = make_spawned_record(name);
    } catch (const std::bad_alloc&) {
        return make_error_code(not_enough_memory);
    }
    retain(record); // the handle's reference; the thread adopts the first
    rthread::thread handle = thread_access::adopt(record);
    try {
        // The parent sides of the spawn hooks, on this thread, with the
        // child's handle (Rust runs them at this point too: after the
        // Thread is made, before the native thread).
        auto start = prepare_thread_start(handle, std::move(affinity), options.no_hooks);
        if (!start) {
            unlist(record);
            release(record); // the reference the thread would have adopted
            return start.error();
        }
        main->start = start->release();
    } catch (...) {
        unlist(record);
        release(record); // the reference the thread would have adopted
        throw;
    }
    auto native = launch_thread(record, std::move(main), *stack, scope);
    if (!native) {
        return native.error();
    }
    return started_thread{thread_access::take(std::move(handle)), std::move(*native)};
}

void throw_invalid_join() {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "rthread: join on a handle that is empty, moved from or already "
                            "joined");
}

void throw_spawn_error(const boost::system::error_code& ec) {
    throw std::system_error(ec, "rthread: failed to spawn thread");
}

} // namespace rthread::detail

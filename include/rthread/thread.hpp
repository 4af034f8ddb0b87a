// Thread handles and ids: Rust's std::thread::{Thread, ThreadId, current}.
//
// rthread::thread is a cheap, copyable handle with shared ownership (Rust's
// Thread, an Arc inside); it stays valid after its thread has ended.
// rthread::thread_id is unique for the whole life of the process and never
// reused. Both print as Rust's Debug does: ThreadId(7) and
// Thread { id: ThreadId(1), name: Some("main"), .. }.
#ifndef RTHREAD_THREAD_HPP
#define RTHREAD_THREAD_HPP

#include <rthread/detail/thread_inner.hpp>

#include <fmt/core.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace rthread {

class thread;

namespace detail {
struct thread_access;
}

/// A thread's identifier: Rust's ThreadId.
///
/// Unique among all threads of the process for its whole life: ids are
/// taken from a 64-bit counter that is never reset and never wraps (its
/// exhaustion ends the process). The main thread's id is 1.
class thread_id {
public:
    /// The id as a number; never 0 for a real thread (0 only for the
    /// thread() of an empty join_handle).
    constexpr std::uint64_t as_u64() const noexcept { return value_; }

    friend constexpr bool operator==(thread_id a, thread_id b) noexcept {
        return a.value_ == b.value_;
    }
    friend constexpr bool operator!=(thread_id a, thread_id b) noexcept { return !(a == b); }
    friend constexpr bool operator<(thread_id a, thread_id b) noexcept {
        return a.value_ < b.value_;
    }
    friend constexpr bool operator>(thread_id a, thread_id b) noexcept { return b < a; }
    friend constexpr bool operator<=(thread_id a, thread_id b) noexcept { return !(b < a); }
    friend constexpr bool operator>=(thread_id a, thread_id b) noexcept { return !(a < b); }

    /// Prints ThreadId(<n>).
    friend std::ostream& operator<<(std::ostream& os, thread_id id);

private:
    constexpr explicit thread_id(std::uint64_t value) noexcept : value_(value) {}
    friend struct detail::thread_access;
    friend class thread;
    friend thread_id current_id() noexcept;

    std::uint64_t value_;
};

/// A handle to a thread: Rust's Thread.
///
/// Copies share one identity; == compares identity. The handle keeps the
/// thread's id, name and parking token alive after the thread has ended.
class thread {
public:
    thread(const thread&) noexcept = default;
    thread(thread&&) noexcept = default;
    thread& operator=(const thread&) noexcept = default;
    thread& operator=(thread&&) noexcept = default;
    ~thread() = default;

    /// The thread's unique id.
    thread_id id() const noexcept { return thread_id(inner_ != nullptr ? inner_->id : 0); }

    /// The thread's full name as given to builder::name(), "main" for the
    /// main thread, std::nullopt for unnamed threads. The view lives as long
    /// as any handle to this thread.
    std::optional<std::string_view> name() const noexcept {
        if (inner_ == nullptr || !inner_->name) {
            return std::nullopt;
        }
        return std::string_view(*inner_->name);
    }

    /// Makes the thread's parking token available and wakes the thread if it
    /// is parked (see park.hpp). Never blocks, never fails; fine on a thread
    /// that has ended.
    void unpark() const noexcept;

    friend bool operator==(const thread& a, const thread& b) noexcept {
        return a.inner_ == b.inner_;
    }
    friend bool operator!=(const thread& a, const thread& b) noexcept { return !(a == b); }

    /// Prints Thread { id: ThreadId(<n>), name: Some("<name>"), .. }
    /// (name: None for unnamed threads).
    friend std::ostream& operator<<(std::ostream& os, const thread& t);

private:
    explicit thread(detail::thread_ref inner) noexcept : inner_(std::move(inner)) {}
    thread() noexcept = default;
    friend struct detail::thread_access;
    friend thread current();

    detail::thread_ref inner_;
};

/// The calling thread's handle, on any thread: the main thread, threads made
/// by rthread, and threads made elsewhere (std::thread, pthread_create, a
/// pool). It keeps working inside thread-local destructors. Calls on one
/// thread return handles of one identity.
///
/// # Errors
/// Throws std::bad_alloc if the first call on a foreign thread cannot
/// allocate its handle.
inline thread current() {
    detail::thread_inner* inner = detail::current_thread;
    if (inner == nullptr) {
        inner = detail::init_current();
    }
    detail::retain_current(inner);
    return thread(detail::thread_ref(inner, false));
}

/// The calling thread's id, as current().id(), without touching a reference
/// count (one thread-local load once the thread is known).
///
/// # Panics
/// Ends the process if a foreign thread's first call cannot allocate.
inline thread_id current_id() noexcept {
    std::uint64_t id = detail::current_thread_id;
    if (id == 0) {
        id = detail::init_current()->id;
    }
    return thread_id(id);
}

/// A snapshot of the live threads the library knows: those it made, and
/// every other thread that ever asked for current(). A thread leaves the list
/// when it ends (after its thread-local destructors).
std::vector<thread> threads();

namespace detail {
// Internal access to handles, for the spawn and registry layers.
struct thread_access {
    static thread adopt(thread_inner* inner) noexcept { return thread(thread_ref(inner, false)); }
    static thread adopt(thread_ref inner) noexcept { return thread(std::move(inner)); }
    static thread empty() noexcept { return thread(); }
    static thread_inner* inner(const thread& t) noexcept { return t.inner_.get(); }
    static thread_ref take(thread&& t) noexcept { return std::move(t.inner_); }
};
} // namespace detail

} // namespace rthread

template <>
struct std::hash<rthread::thread_id> {
    std::size_t operator()(rthread::thread_id id) const noexcept {
        return std::hash<std::uint64_t>{}(id.as_u64());
    }
};

/// fmt support: "{}" prints ThreadId(7).
template <>
struct fmt::formatter<rthread::thread_id> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(rthread::thread_id id, Context& ctx) const {
        return fmt::format_to(ctx.out(), "ThreadId({})", id.as_u64());
    }
};

/// fmt support: "{}" prints Thread { id: ThreadId(1), name: Some("main"), .. }.
template <>
struct fmt::formatter<rthread::thread> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(const rthread::thread& t, Context& ctx) const {
        if (auto name = t.name()) {
            return fmt::format_to(ctx.out(), "Thread {{ id: {}, name: Some({:?}), .. }}", t.id(),
                                  *name);
        }
        return fmt::format_to(ctx.out(), "Thread {{ id: {}, name: None, .. }}", t.id());
    }
};

#endif

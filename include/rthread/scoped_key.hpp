// Scoped thread-local references: the scoped-tls crate's
// scoped_thread_local! and ScopedKey<T>.
//
//   RTHREAD_SCOPED_THREAD_LOCAL(request, CURRENT_REQUEST);
//   request r = ...;
//   CURRENT_REQUEST.set(r, [] { handle(); });   // handle() sees r through
//   CURRENT_REQUEST.with([](request& r) { ... });
//
// A scoped key holds no value of its own: set(value, f) lends a reference to
// the calling thread for the duration of f, and with(f) hands it to f.
// Bindings nest, are seen by the binding thread only, and are undone when
// f returns or throws. Like the crate, it is built on a thread-local key
// (here local_key<T*>), so the same teardown rules apply to it.
#ifndef RTHREAD_SCOPED_KEY_HPP
#define RTHREAD_SCOPED_KEY_HPP

#include <rthread/local_key.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace rthread {

namespace detail {
/// Throws panic_error: "cannot access a scoped thread local variable
/// without calling `set` first".
[[noreturn]] void throw_scoped_key_unbound();
} // namespace detail

/// A scoped thread-local key: the scoped-tls crate's ScopedKey<T>.
///
/// Declare keys with static storage duration only, as local_key; the
/// constructor is constexpr and the destructor trivial.
template <class T>
class scoped_key {
public:
    static_assert(!std::is_reference_v<T>, "scoped_key<T> binds references to T");

    constexpr scoped_key() noexcept : binding_(&unbound) {}

    scoped_key(const scoped_key&) = delete;
    scoped_key& operator=(const scoped_key&) = delete;

    /// Binds value to this key on the calling thread while f() runs, and
    /// returns f's result. The previous binding (or none) is restored when
    /// f returns or throws, so calls nest.
    ///
    /// # Errors
    /// Throws access_error if called during or after the teardown of the
    /// key's thread-local slot on this thread (see local_key::with).
    template <class F>
    std::invoke_result_t<F> set(T& value, F&& f) const {
        T*& slot = binding_.with([](T*& bound) -> T*& { return bound; });
        // The slot lives until this thread's teardown reaches it, which
        // cannot happen while set() is on the stack: either it was made
        // before the value being destroyed now, or after it.
        const restore_on_exit restore{slot, std::exchange(slot, &value)};
        return std::invoke(std::forward<F>(f));
    }

    /// Calls f(T&) with the value bound on the calling thread and returns
    /// f's result.
    ///
    /// # Panics
    /// Throws panic_error ("cannot access a scoped thread local variable
    /// without calling `set` first") when nothing is bound on this thread.
    template <class F>
    std::invoke_result_t<F, T&> with(F&& f) const {
        T* bound = binding_.with([](T* value) { return value; });
        if (BOOST_UNLIKELY(bound == nullptr)) {
            detail::throw_scoped_key_unbound();
        }
        return std::invoke(std::forward<F>(f), *bound);
    }

    /// True while a value is bound on the calling thread.
    bool is_set() const {
        return binding_.with([](T* value) { return value != nullptr; });
    }

private:
    static T* unbound() noexcept { return nullptr; }

    struct restore_on_exit {
        T*& slot;
        T* previous;
        ~restore_on_exit() { slot = previous; }
    };

    local_key<T*> binding_;
};

} // namespace rthread

/// scoped-tls's scoped_thread_local!: declares
/// `static const rthread::scoped_key<T> NAME`, at namespace or block scope;
/// the user writes the semicolon.
#define RTHREAD_SCOPED_THREAD_LOCAL(T, NAME) static const ::rthread::scoped_key<T> NAME

#endif

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
// f returns or throws. Each binding lives in set()'s own stack frame, on a
// per-thread stack of bindings that with() searches from the newest: a
// scoped key owns nothing per thread, so it has no teardown and works in
// every thread_local destructor that runs inside set().
#ifndef RTHREAD_SCOPED_KEY_HPP
#define RTHREAD_SCOPED_KEY_HPP

#include <boost/assert.hpp>
#include <boost/config.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace rthread {

namespace detail {
/// Throws panic_error: "cannot access a scoped thread local variable
/// without calling `set` first".
[[noreturn]] void throw_scoped_key_unbound();

/// One set() in progress on the calling thread: `key` is bound to `value`.
struct scoped_binding {
    const void* key;
    void* value;
    const scoped_binding* outer;
};

/// The newest binding of the calling thread (nullptr when none): a
/// constant-initialised, trivially destructible thread_local, so reading it
/// needs no initialisation check and it is never destroyed.
inline thread_local const scoped_binding* scoped_bindings = nullptr;
} // namespace detail

/// A scoped thread-local key: the scoped-tls crate's ScopedKey<T>.
///
/// Declare keys with static storage duration only, as local_key; the
/// constructor is constexpr and the destructor trivial.
template <class T>
class scoped_key {
public:
    static_assert(!std::is_reference_v<T>, "scoped_key<T> binds references to T");

    constexpr scoped_key() noexcept = default;

    scoped_key(const scoped_key&) = delete;
    scoped_key& operator=(const scoped_key&) = delete;

    /// Binds value to this key on the calling thread while f() runs, and
    /// returns f's result. The previous binding (or none) is restored when
    /// f returns or throws, so calls nest.
    template <class F>
    std::invoke_result_t<F> set(T& value, F&& f) const {
        const detail::scoped_binding binding{this, const_cast<std::remove_cv_t<T>*>(&value),
                                             detail::scoped_bindings};
        const pop_on_exit pop{binding};
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
        T* bound = find();
        if (BOOST_UNLIKELY(bound == nullptr)) {
            detail::throw_scoped_key_unbound();
        }
        return std::invoke(std::forward<F>(f), *bound);
    }

    /// True while a value is bound on the calling thread.
    bool is_set() const noexcept { return find() != nullptr; }

private:
    // Makes `binding` the newest for the lifetime of set()'s frame; set()
    // calls nest, so the newest binding is always the one to undo (asserted:
    // a set() frame left on another thread, or out of order, breaks it).
    struct pop_on_exit {
        explicit pop_on_exit(const detail::scoped_binding& binding) noexcept : binding_(binding) {
            detail::scoped_bindings = &binding;
        }
        pop_on_exit(const pop_on_exit&) = delete;
        pop_on_exit& operator=(const pop_on_exit&) = delete;
        ~pop_on_exit() {
            BOOST_ASSERT(detail::scoped_bindings == &binding_);
            detail::scoped_bindings = binding_.outer;
        }

    private:
        const detail::scoped_binding& binding_;
    };

    // This key's newest binding on the calling thread: few set() calls are
    // in progress at once, so a walk from the newest is short.
    T* find() const noexcept {
        for (const detail::scoped_binding* b = detail::scoped_bindings; b != nullptr;
             b = b->outer) {
            if (b->key == this) {
                return static_cast<T*>(b->value);
            }
        }
        return nullptr;
    }
};

} // namespace rthread

/// scoped-tls's scoped_thread_local!: declares
/// `static const rthread::scoped_key<T> NAME`, at namespace or block scope;
/// the user writes the semicolon.
#define RTHREAD_SCOPED_THREAD_LOCAL(T, NAME) static const ::rthread::scoped_key<T> NAME

#endif

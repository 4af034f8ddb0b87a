// Thread-local storage with ordered, checked teardown: Rust's thread_local!
// and std::thread::LocalKey.
//
//   RTHREAD_THREAD_LOCAL(std::vector<int>, LOG, {});
//   LOG.with([](std::vector<int>& log) { log.push_back(1); });
//
// Each thread gets its own value of a key, made lazily by the key's
// initializer on that thread's first access and destroyed when the thread
// ends: on every thread (made by rthread, by std::thread, by pthread_create,
// and the main thread at normal process exit). Unlike a C++ thread_local,
// the library owns the teardown: values of one thread are destroyed newest
// first; a key whose destructor has started reads as destroyed (access throws
// access_error instead of touching a dead object); a key first touched
// during teardown is made and destroyed in the same teardown; a destructor
// that throws ends the process. join() and scope() return only after the
// joined thread's values were destroyed.
//
// A destructor that throws ends the process with "fatal runtime error:
// thread local panicked on drop, aborting" after the panic hook reported the
// exception. C++ destructors are noexcept unless declared noexcept(false):
// an exception from a noexcept one calls std::terminate before the library
// sees it.
//
// Teardown runs from a C++ thread_local destructor the library registers
// when the thread makes its first value (and, on rthread-made threads, once
// more before the thread counts as ended). Once that final teardown is over,
// every key reads as destroyed on that thread: a C++ thread_local destroyed
// later, or a pthread key destructor, gets access_error (Rust: "may panic if
// the destructor has previously been run for this thread").
//
// Differences from Rust: with() hands out T& (C++ has no Cell/RefCell
// split), so set/get/take/replace work on T directly; local_key_state (an
// API Rust later replaced by try_with) is kept.
#ifndef RTHREAD_LOCAL_KEY_HPP
#define RTHREAD_LOCAL_KEY_HPP

#include <rthread/detail/local_slots.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/config.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace rthread {

/// The state of a key on the calling thread (Rust's unstable LocalKeyState).
enum class local_key_state {
    /// No value yet on this thread (also while the initializer runs): the
    /// next access runs the initializer.
    uninitialized,
    /// The value is there: access succeeds.
    valid,
    /// The value's destructor is running or has run (or the thread's final
    /// teardown is over): access fails with access_error.
    destroyed,
};

/// The error of accessing a key during or after the destruction of its value
/// on the calling thread: Rust's AccessError. Every access_error compares
/// equal to every other.
class access_error : public std::runtime_error {
public:
    access_error()
        : std::runtime_error(
              "cannot access a Thread Local Storage value during or after destruction") {}

    friend bool operator==(const access_error&, const access_error&) noexcept { return true; }
    friend bool operator!=(const access_error&, const access_error&) noexcept { return false; }
};

/// Lets boost::system::result<R, access_error>::value() throw the
/// access_error itself (found by argument-dependent lookup).
[[noreturn]] inline void throw_exception_from_error(const access_error& e,
                                                    const boost::source_location&) {
    throw e;
}

namespace detail {
// try_with's value type: boost::system::result (Boost 1.81) holds no
// references, so a reference result is carried as a std::reference_wrapper.
template <class R>
using try_with_value_t = std::conditional_t<std::is_lvalue_reference_v<R>,
                                            std::reference_wrapper<std::remove_reference_t<R>>,
                                            std::remove_reference_t<R>>;
} // namespace detail

/// A thread-local key: Rust's LocalKey<T>.
///
/// Declare keys with static storage duration only (RTHREAD_THREAD_LOCAL,
/// or a namespace-scope or block-scope static); a key is never destroyed
/// (its destructor is trivial), so threads that outlive static destructors
/// may still use it. The constructor is constexpr: a key is initialised
/// before any dynamic initialisation runs, so other static initializers may
/// use it in any order.
template <class T>
class local_key {
public:
    static_assert(!std::is_reference_v<T> && !std::is_array_v<T> && !std::is_void_v<T>,
                  "local_key<T> holds an object type");

    using value_type = T;
    using initializer = T (*)();

    /// A key whose values are made by init(), a lambda without captures
    /// returning T. The lambda's type names the key: write a lambda
    /// expression in each key's declaration (keys made from copies of one
    /// lambda object are one key, with one value per thread).
    template <class F>
    constexpr explicit local_key(F init) noexcept
        : init_(static_cast<initializer>(init)), value_(&detail::local_key_storage<F>::get),
          slot_(&detail::local_key_storage<F>::slot), index_(&detail::local_key_storage<F>::index) {
        static_assert(std::is_class_v<F>,
                      "local_key needs a lambda expression, not a function pointer: "
                      "write local_key<T> key{[] { return f(); }}");
    }

    local_key(const local_key&) = delete;
    local_key& operator=(const local_key&) = delete;

    /// Calls f(T&) with the calling thread's value, making it first if this
    /// is the thread's first access, and returns f's result.
    ///
    /// # Errors
    /// Throws access_error if the value is being or was destroyed on this
    /// thread. An exception from the initializer passes through (the key
    /// stays uninitialized; the next access runs the initializer again).
    ///
    /// # Panics
    /// Throws panic_error if the initializer accesses its own key.
    template <class F>
    std::invoke_result_t<F, T&> with(F&& f) const {
        T* value = valid_value();
        if (BOOST_UNLIKELY(value == nullptr)) {
            value = get_or_make_slow();
        }
        return std::invoke(std::forward<F>(f), *value);
    }

    /// As with(), but returns access_error instead of throwing it. (The
    /// initializer's exceptions and the recursion panic still pass through,
    /// as in Rust.) A reference result comes back as std::reference_wrapper.
    template <class F>
    [[nodiscard]] boost::system::result<detail::try_with_value_t<std::invoke_result_t<F, T&>>,
                                        access_error>
    try_with(F&& f) const {
        using R = std::invoke_result_t<F, T&>;
        using result_type = boost::system::result<detail::try_with_value_t<R>, access_error>;
        T* value = valid_value();
        if (BOOST_UNLIKELY(value == nullptr)) {
            value = try_get_or_make_slow();
            if (value == nullptr) {
                return result_type(result_type::in_place_error);
            }
        }
        if constexpr (std::is_void_v<R>) {
            std::invoke(std::forward<F>(f), *value);
            return result_type();
        } else {
            return result_type(result_type::in_place_value,
                               std::invoke(std::forward<F>(f), *value));
        }
    }

    /// The key's state on the calling thread. Never makes the value.
    local_key_state state() const noexcept {
        if (BOOST_LIKELY(valid_value() != nullptr)) {
            return local_key_state::valid;
        }
        switch (detail::local_key_state_of(*index_)) {
        case detail::local_slot_state::valid:
            return local_key_state::valid;
        case detail::local_slot_state::destroyed:
            return local_key_state::destroyed;
        default:
            return local_key_state::uninitialized;
        }
    }

    /// Stores value as the calling thread's value. On an uninitialized key
    /// it becomes the value without running the initializer; otherwise it is
    /// assigned to the existing value (Rust's LocalKey::set).
    ///
    /// # Errors
    /// Throws access_error as with() does.
    void set(T value) const {
        if (T* current = valid_value()) {
            *current = std::move(value);
            return;
        }
        set_slow(std::move(value));
    }

    /// A copy of the calling thread's value (made first if needed).
    T get() const {
        return with([](T& value) -> T { return value; });
    }

    /// Replaces the calling thread's value with T() and returns the old one.
    T take() const {
        return with([](T& value) { return std::exchange(value, T()); });
    }

    /// Replaces the calling thread's value with `value` and returns the old
    /// one (the initializer runs first if the key is uninitialized, as in
    /// Rust).
    T replace(T value) const {
        return with([&value](T& current) { return std::exchange(current, std::move(value)); });
    }

private:
    // The calling thread's value if it is valid, else nullptr. On a key
    // the compiler can see (a static const one), value_ is a known function
    // and this is one load from the key's native thread_local.
    T* valid_value() const noexcept { return static_cast<T*>(value_()); }

    static void* make_from_initializer(void* context) {
        return new T(static_cast<const local_key*>(context)->init_());
    }

    static void destroy(void* value) { delete static_cast<T*>(value); }

    struct set_context {
        T* value;
        bool made;
    };

    static void* make_from_value(void* context) {
        auto* c = static_cast<set_context*>(context);
        T* made = new T(std::move(*c->value));
        c->made = true;
        return made;
    }

    BOOST_NOINLINE T* get_or_make_slow() const {
        if (void* value = try_get_or_make_slow()) {
            return static_cast<T*>(value);
        }
        detail::throw_local_access_error();
    }

    BOOST_NOINLINE T* try_get_or_make_slow() const {
        const detail::local_value_maker maker{&make_from_initializer, const_cast<local_key*>(this),
                                              &destroy};
        return static_cast<T*>(detail::local_key_get_or_make(*index_, slot_(), maker));
    }

    BOOST_NOINLINE void set_slow(T value) const {
        set_context context{&value, false};
        const detail::local_value_maker maker{&make_from_value, &context, &destroy};
        void* current = detail::local_key_get_or_make(*index_, slot_(), maker);
        if (current == nullptr) {
            detail::throw_local_access_error();
        }
        if (!context.made) {
            *static_cast<T*>(current) = std::move(value);
        }
    }

    // Only constant members, set by the constexpr constructor: a static
    // const key is then a constant the compiler folds (see valid_value).
    initializer init_;
    // The key's native slot on the calling thread (local_slots.hpp): its
    // value, and its address for the slow path.
    void* (*value_)() noexcept;
    void** (*slot_)() noexcept;
    // The key's index in every thread's destructor table.
    std::atomic<std::size_t>* index_;
};

} // namespace rthread

/// Rust's thread_local!: declares `static const rthread::local_key<T> NAME`
/// whose values start as the init expression (evaluated on each thread at
/// its first access). At namespace or block scope; the user writes the
/// semicolon:
///   RTHREAD_THREAD_LOCAL(int, COUNTER, 0);
///   RTHREAD_THREAD_LOCAL(std::vector<int>, LIST, {1, 2, 3});
/// A type containing a comma needs an alias first.
#define RTHREAD_THREAD_LOCAL(T, NAME, ...)                                                         \
    static const ::rthread::local_key<T> NAME {                                                    \
        []() -> T { return __VA_ARGS__; }                                                          \
    }

#endif

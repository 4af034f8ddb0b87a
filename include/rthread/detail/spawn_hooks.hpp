// What add_spawn_hook (spawn.hpp) keeps: the type-erased hooks and the
// callables their parent sides return. The list itself, its inheritance and
// where the hooks run are in the library (spawn_hooks.cpp).
#ifndef RTHREAD_DETAIL_SPAWN_HOOKS_HPP
#define RTHREAD_DETAIL_SPAWN_HOOKS_HPP

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace rthread {
class thread; // thread.hpp
} // namespace rthread

namespace rthread::detail {

/// A callable run at most once and then destroyed, which may be move-only
/// (C++17 has no std::move_only_function): a hook's child side, a scope's
/// stop callback.
class once_callable {
public:
    once_callable() = default;
    once_callable(const once_callable&) = delete;
    once_callable& operator=(const once_callable&) = delete;
    virtual ~once_callable() = default;
    virtual void run() = 0;
};

template <class F>
class once_callable_of final : public once_callable {
public:
    // Not a copy or move of this class (they are deleted with the base's).
    template <class G,
              std::enable_if_t<!std::is_same_v<std::decay_t<G>, once_callable_of>, int> = 0>
    explicit once_callable_of(G&& f) : f_(std::forward<G>(f)) {}
    void run() override { f_(); }

private:
    F f_;
};

template <class F>
std::unique_ptr<once_callable> make_once_callable(F&& f) {
    return std::make_unique<once_callable_of<std::decay_t<F>>>(std::forward<F>(f));
}

/// One spawn hook. Shared, never changed after it is made, by the thread
/// that added it and every thread that inherited it: call() may run on
/// several spawning threads at once (Rust's hook is Fn + Sync).
class spawn_hook {
public:
    spawn_hook() = default;
    spawn_hook(const spawn_hook&) = delete;
    spawn_hook& operator=(const spawn_hook&) = delete;
    virtual ~spawn_hook() = default;
    /// The parent side, on the spawning thread: gives the child side, or
    /// nullptr when the library could not allocate the box that holds it
    /// (builder::spawn then fails with errc::not_enough_memory). What the
    /// user's function throws passes through.
    virtual std::unique_ptr<once_callable> call(const rthread::thread& child) const = 0;
};

template <class F>
class spawn_hook_of final : public spawn_hook {
public:
    // Not a copy or move of this class (they are deleted with the base's).
    template <class G, std::enable_if_t<!std::is_same_v<std::decay_t<G>, spawn_hook_of>, int> = 0>
    explicit spawn_hook_of(G&& f) : f_(std::forward<G>(f)) {}
    std::unique_ptr<once_callable> call(const rthread::thread& child) const override {
        using side = once_callable_of<std::decay_t<decltype(f_(child))>>;
        return std::unique_ptr<once_callable>(new (std::nothrow) side(f_(child)));
    }

private:
    F f_;
};

/// Puts hook first in the calling thread's list (spawn_hooks.cpp).
void push_spawn_hook(std::unique_ptr<spawn_hook> hook);

} // namespace rthread::detail

#endif

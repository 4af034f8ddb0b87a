// The pieces a spawned thread is made of, below join_handle:
//   packet<T>  - the result slot shared by the thread and its handle;
//   task<...>  - the user's function and arguments, run on the new thread;
//   native_thread (detail/native_thread.hpp) - the seam's thread, opaque.
// The path of a spawned thread: builder -> start_thread (registry entry,
// the seam's create_thread) -> trampoline (name, TLS table) -> task::run ->
// packet -> join.
#ifndef RTHREAD_DETAIL_PACKET_HPP
#define RTHREAD_DETAIL_PACKET_HPP

#include <rthread/detail/deadline.hpp>
#include <rthread/detail/native_thread.hpp>
#include <rthread/thread.hpp>

#include <boost/system/result.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace rthread {

/// What join() gives: the thread's value, or its panic as the exception
/// (Rust's thread::Result). .value() on a panicked result rethrows the
/// panic: that is Rust's join().unwrap().
template <class T>
using result = boost::system::result<T, std::exception_ptr>;

namespace detail {

/// An intrusively counted object owned by a thread and its handle.
class shared_slot {
public:
    shared_slot() = default;
    shared_slot(const shared_slot&) = delete;
    shared_slot& operator=(const shared_slot&) = delete;

    void retain() noexcept {
        // relaxed: made from a reference already held (see thread_inner).
        refs_.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        // acq_rel: the thread's writes of the result happen before the
        // owner that destroys the slot reads or destroys it.
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }
    /// Takes a reference unless the count already reached zero (the slot is
    /// being destroyed): for a holder that keeps no reference of its own, as
    /// a scope's list of its threads' packets (scope.hpp).
    bool try_retain() noexcept {
        // relaxed: such a holder reaches the slot under its own lock, which
        // orders its accesses; the count only has to stay above zero.
        std::uint32_t n = refs_.load(std::memory_order_relaxed);
        while (n != 0) {
            if (refs_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) {
                return true;
            }
        }
        return false;
    }
    /// True once every other owner let go (for is_finished()).
    bool sole_owner() const noexcept {
        // acquire: pairs with the thread's release in release(), so a
        // caller that sees true also sees the stored result.
        return refs_.load(std::memory_order_acquire) == 1;
    }

protected:
    virtual ~shared_slot() = default;

private:
    std::atomic<std::uint32_t> refs_{1};
};

/// An owning pointer to a shared_slot (one reference).
template <class P>
class slot_ptr {
public:
    slot_ptr() noexcept = default;
    explicit slot_ptr(P* adopted) noexcept : p_(adopted) {}
    slot_ptr(slot_ptr&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    slot_ptr& operator=(slot_ptr&& other) noexcept {
        slot_ptr(std::move(other)).swap(*this);
        return *this;
    }
    ~slot_ptr() {
        if (p_ != nullptr) {
            p_->release();
        }
    }
    void swap(slot_ptr& other) noexcept { std::swap(p_, other.p_); }
    P* get() const noexcept { return p_; }
    P* operator->() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    void reset() noexcept { slot_ptr().swap(*this); }

private:
    P* p_ = nullptr;
};

/// The result slot of one spawned thread. Not final: a scoped thread's
/// packet (detail/scope_state.hpp) derives from it to tell its scope about
/// a panic nobody joined.
template <class T>
class packet : public shared_slot {
public:
    std::optional<rthread::result<T>> value;
};

/// What a new thread does before its function, when it has anything to do:
/// its affinity, the spawn hooks it inherits, the child sides of its
/// spawner's hooks (spawn_hooks.cpp).
class thread_start;
/// On the new thread, inside its panic catch, before its function: runs
/// start and destroys it. What it throws is the thread's panic.
void begin_thread(thread_start* start);
/// Destroys a start that never ran (the thread was not made).
void discard_thread_start(thread_start* start) noexcept;

/// The body of a spawned thread, owned by it; start_thread() takes it.
class thread_main {
public:
    thread_main() = default;
    thread_main(const thread_main&) = delete;
    thread_main& operator=(const thread_main&) = delete;
    virtual ~thread_main() {
        if (start != nullptr) {
            discard_thread_start(start);
        }
    }

    /// Set by start_thread() when the thread has something to do before
    /// its function; owned by this object.
    thread_start* start = nullptr;

    /// On the new thread: runs the user's function, stores its value or its
    /// panic, destroys the function and its arguments, lets go of the packet.
    /// Throws only the C library's forced unwind (pthread_exit or
    /// pthread_cancel in the function), which must go on: the packet then
    /// holds thread_exit_payload().
    virtual void run() = 0;

protected:
    /// On the new thread, first inside the panic catch.
    void begin() {
        if (start != nullptr) {
            begin_thread(std::exchange(start, nullptr));
        }
    }
    /// On the new thread, right after its panic was stored.
    virtual void panicked() noexcept {}
};

/// Calls fn(context); if it throws, reports the panic through the panic
/// hook and returns it, else returns an empty pointer. The C library's
/// forced unwind (pthread_exit, pthread_cancel) is not a panic: it goes on
/// (glibc ends the process when it is stopped).
std::exception_ptr invoke_catching(void (*fn)(void*), void* context);

/// What join() gives for a thread that ended through pthread_exit() or
/// pthread_cancel(): a std::runtime_error, made once at program start
/// (it is needed where nothing may fail).
const std::exception_ptr& thread_exit_payload() noexcept;

template <class F, class... Args>
using spawn_result_t = std::decay_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

/// The user's function and decayed copies of its arguments, as std::thread
/// takes them, bound to the packet that receives the result.
template <class T, class F, class... Args>
class task : public thread_main {
public:
    template <class G, class... A>
    explicit task(packet<T>* result_slot, G&& f, A&&... args)
        : call_(std::in_place, std::forward<G>(f), std::forward<A>(args)...), packet_(result_slot) {
        packet_->retain();
    }
    ~task() override {
        if (packet_ != nullptr) {
            packet_->release();
        }
    }

    void run() override {
        try {
            if (std::exception_ptr panic = invoke_catching(&task::call, this)) {
                packet_->value.emplace(boost::system::in_place_error, std::move(panic));
                this->panicked();
            }
        } catch (...) { // only the forced unwind of pthread_exit or pthread_cancel
            packet_->value.emplace(boost::system::in_place_error, thread_exit_payload());
            finish();
            throw;
        }
        finish();
    }

private:
    void finish() noexcept {
        // The captures die on the thread, before it counts as finished, as a
        // Rust closure's do.
        call_.reset();
        std::exchange(packet_, nullptr)->release();
    }

    static void call(void* self) {
        auto& me = *static_cast<task*>(self);
        me.begin();
        auto invoke = [](auto&& f, auto&&... args) -> decltype(auto) {
            return std::invoke(std::forward<decltype(f)>(f), std::forward<decltype(args)>(args)...);
        };
        if constexpr (std::is_void_v<T>) {
            std::apply(invoke, std::move(*me.call_));
            me.packet_->value.emplace();
        } else {
            me.packet_->value.emplace(boost::system::in_place_value,
                                      std::apply(invoke, std::move(*me.call_)));
        }
    }

    std::optional<std::tuple<std::decay_t<F>, std::decay_t<Args>...>> call_;
    packet<T>* packet_;
};

struct started_thread {
    rthread::thread thread;
    native_thread native;
};

class scope_state; // detail/scope_state.hpp

/// A builder's configuration.
struct spawn_options {
    std::optional<std::string> name;
    std::optional<std::size_t> stack_size;
    std::optional<std::vector<std::size_t>> affinity;
    bool no_hooks = false;
};

/// Makes a native thread through the seam (sys/native_thread.hpp) that runs
/// main: registers its
/// handle, applies the name (rejecting an interior NUL with
/// errc::invalid_argument), the stack size (rounded up to the page size,
/// raised to the platform minimum; one that cannot be had is an error) and
/// the affinity (errc::invalid_argument for an empty list or a CPU outside
/// the process's), runs the parent sides of the spawn hooks. main is
/// consumed either way. Throws only what a hook's parent side throws (no
/// thread is made then).
/// When scope is set, the thread's end counts it down (the caller counted
/// it up).
boost::system::result<started_thread>
start_thread(const spawn_options& options, std::unique_ptr<thread_main> main, scope_state* scope);

} // namespace detail
} // namespace rthread

#endif

// A spawned thread's body: the user's function and its arguments, bound to
// the packet that receives the result (detail/packet.hpp), and what the
// thread runs before it (its start, from the spawn hooks and the builder).
#ifndef RTHREAD_DETAIL_TASK_HPP
#define RTHREAD_DETAIL_TASK_HPP

#include <rthread/detail/packet.hpp>

#include <boost/system/result.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace rthread::detail {

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

} // namespace rthread::detail

#endif

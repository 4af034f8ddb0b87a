// The native-thread backend (sys/thread_backend.hpp) on Boost.Thread, for
// every platform.
#include "thread_backend.hpp"

#include <boost/thread/thread.hpp>

#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

#include "sys.hpp"

namespace rthread::sys {

static_assert(std::is_same_v<native_handle_type, boost::thread::native_handle_type>,
              "detail::native_handle_type must be the pthread_t (HANDLE) Boost.Thread holds");

class thread {
public:
    // The boost::thread is made in place: one moved in after the start
    // touches its shared count while the thread may already be ending, in
    // an order ThreadSanitizer cannot see (Boost.Thread's own side of that
    // count is not instrumented) and reports as a race.
    thread(const boost::thread::attributes& attributes, void (*entry)(void*), void* context)
        : native(attributes, [entry, context] { entry(context); }) {}

    boost::thread native;
};

thread* create_thread(std::size_t stack_size, void (*entry)(void*), void* context,
                      boost::system::error_code& error) noexcept {
    try {
        boost::thread::attributes attributes;
        attributes.set_stack_size(stack_size);
        return new thread(attributes, entry, context);
    } catch (const boost::system::system_error& e) {
        error = e.code();
    } catch (...) { // std::bad_alloc: nothing else comes from here
        error = make_error_code(boost::system::errc::not_enough_memory);
    }
    return nullptr;
}

bool join_thread(thread* t, std::optional<std::int64_t> deadline_ns) {
    // Past its function the thread may still run pthread key destructors
    // (glibc runs others after the library's, and a user's may block), which
    // Boost's join waits for unbounded, as its timed join does after the
    // thread's function: a bounded join waits for the thread's end itself
    // first.
    if (deadline_ns && !is_current_thread(t) && !wait_thread_exit(thread_handle(t), deadline_ns)) {
        return false;
    }
    try {
        t->native.join();
    } catch (const boost::system::system_error& e) {
        throw std::system_error(e.code(), "rthread: cannot join thread");
    }
    delete t;
    return true;
}

void detach_thread(thread* t) noexcept {
    // Deleting a joinable boost::thread detaches it.
    delete t;
}

native_handle_type thread_handle(const thread* t) noexcept {
    // native_handle() is not const in Boost.Thread; it reads the handle.
    return const_cast<thread*>(t)->native.native_handle();
}

bool is_current_thread(const thread* t) noexcept {
    return t->native.get_id() == boost::this_thread::get_id();
}

void ending_by_forced_unwind() noexcept {
    // What Boost.Thread's trampoline (thread_proxy) does after the function,
    // through the members its pthread thread_data_base makes public: it
    // keeps the thread's data alive until Boost's own pthread key
    // destructor (tls_destructor, which runs the thread's
    // boost::thread_specific_ptr cleanups, then resets self), as Boost does
    // for threads it did not make, and marks the thread done.
#if defined(BOOST_THREAD_PLATFORM_PTHREAD) // the only platform with a forced unwind
    boost::detail::thread_data_base* const data = boost::detail::get_current_thread_data();
    if (data == nullptr) {
        return;
    }
    data->self = data->shared_from_this();
    const boost::lock_guard<boost::mutex> lock(data->data_mutex);
    data->done = true;
    data->done_condition.notify_all();
#endif
}

} // namespace rthread::sys

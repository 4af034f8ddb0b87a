// What the inline fast path of local_key<T> reads: the key's own native
// thread_local slot, and the out-of-line slow path behind it.
//
// Every key is named by the type of its initializer lambda (Tag), which is
// unique to the lambda expression in the key's declaration. Per Tag there is
// a constant-initialised native thread_local pointer (the key's value on the
// calling thread while it is valid, nullptr otherwise: not made yet, being
// made, being destroyed or destroyed) and a process-wide index (assigned on
// the key's first access anywhere, never reused) that names the key in each
// thread's destructor table. The table, which makes, orders and destroys
// the values and sets and clears the slots, lives in the library
// (libs/rthread/src/thread_locals.cpp); the face only reads the slot.
#ifndef RTHREAD_DETAIL_LOCAL_SLOTS_HPP
#define RTHREAD_DETAIL_LOCAL_SLOTS_HPP

#include <atomic>
#include <cstddef>

namespace rthread::detail {

/// The storage of the key whose initializer has type Tag. A key object holds
/// only constant pointers to it, so a key declared `static const` folds away:
/// with() compiles to one thread-pointer-relative load of `value`, as a
/// native thread_local read does.
template <class Tag>
struct local_key_storage {
    /// The calling thread's valid value, or nullptr. Trivially destructible
    /// and constant-initialised: no initialisation check, no registration.
    static inline thread_local void* value = nullptr;
    /// The key's index in every thread's table; 0 until its first access.
    static inline std::atomic<std::size_t> index{0};

    /// The fast path's read. Returning the value itself (not its address,
    /// which the slow path takes through slot()) lets the compiler emit one
    /// load at a fixed thread-pointer offset.
    static void* get() noexcept { return value; }
    static void** slot() noexcept { return &value; }
};

/// How the slow path makes a key's value when it is missing, and how the
/// table destroys it at thread end. Filled in by local_key<T>.
struct local_value_maker {
    /// Makes a new value (new T(...)); may throw, and may access other keys.
    void* (*make)(void* context);
    void* context;
    /// Destroys a value made by make (delete); may throw, which ends the
    /// process.
    void (*destroy)(void* value);
};

/// What the slow path reports about a key on the calling thread.
enum class local_slot_state : unsigned char { uninitialized, initializing, valid, destroyed };

/// The slow path of local_key access on the calling thread: assigns the
/// key's index on its first use anywhere, makes the value with `maker` if it
/// is uninitialized (registering its destructor, newest last, and publishing
/// it in `slot`, the key's native slot on this thread), and returns it.
/// Returns nullptr when the key is destroyed on this thread.
///
/// Throws what maker.make throws (the key stays uninitialized),
/// rthread::panic_error when the key is being initialized on this thread
/// (an initializer that reaches its own key), std::bad_alloc.
void* local_key_get_or_make(std::atomic<std::size_t>& index, void** slot,
                            const local_value_maker& maker);

/// The state of a key on the calling thread, outside the fast path.
local_slot_state local_key_state_of(const std::atomic<std::size_t>& index) noexcept;

/// Throws rthread::access_error (out of line: keeps `with` small).
[[noreturn]] void throw_local_access_error();

} // namespace rthread::detail

#endif

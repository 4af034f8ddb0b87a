// What the inline fast path of local_key<T> reads: the calling thread's
// slot table, and the out-of-line slow path behind it.
//
// Every local_key gets a process-wide index (assigned on its first access,
// never reused; 0 means "not assigned yet"). Each thread has its own array
// of value pointers indexed by it; values[i] is key i's value while that
// value is valid on this thread, and nullptr otherwise (not made yet, being
// made, being destroyed or destroyed). The destructor table that owns the
// array, grows it and destroys the values lives in the library
// (libs/rthread/src/thread_locals.cpp); the face only reads it.
#ifndef RTHREAD_DETAIL_LOCAL_SLOTS_HPP
#define RTHREAD_DETAIL_LOCAL_SLOTS_HPP

#include <atomic>
#include <cstddef>

namespace rthread::detail {

/// The calling thread's view of its slot table. A constant-initialised,
/// trivially destructible thread_local: reading it is a plain TLS load, with
/// no initialisation check and no registration. Empty (size 0) until the
/// thread's first local_key value is made, and again after its final
/// teardown. The table updates it whenever the array moves or grows.
struct local_slots {
    void** values;
    std::size_t size;
};
inline thread_local local_slots thread_local_slots{nullptr, 0};

/// A copy of the first value pointers of the table, kept in static TLS so
/// that the first keys a program uses cost one load fewer (no table
/// pointer to load before the slot): 256 bytes a thread. The table writes
/// both whenever a slot changes; index 0 is never assigned, so an unassigned
/// key reads nullptr here and takes the slow path.
constexpr std::size_t first_slot_count = 32;
inline thread_local void* first_slot_values[first_slot_count] = {};

/// The value of key `index` on the calling thread if it is valid, else
/// nullptr: one TLS load, a bounds check and a load. Index 0 (unassigned) is
/// never valid: slot 0 of every table stays empty.
inline void* valid_local_value(std::size_t index) noexcept {
    if (index < first_slot_count) {
        // One TLS load at a variable offset: no table pointer to chase first.
        return first_slot_values[index];
    }
    const local_slots& slots = thread_local_slots;
    return index < slots.size ? slots.values[index] : nullptr;
}

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
/// is uninitialized (registering its destructor, newest last), and returns
/// it. Returns nullptr when the key is destroyed on this thread.
///
/// Throws what maker.make throws (the key stays uninitialized),
/// rthread::panic_error when the key is being initialized on this thread
/// (an initializer that reaches its own key), std::bad_alloc.
void* local_key_get_or_make(std::atomic<std::size_t>& index, const local_value_maker& maker);

/// The state of a key on the calling thread, outside the fast path.
local_slot_state local_key_state_of(const std::atomic<std::size_t>& index) noexcept;

/// Throws rthread::access_error (out of line: keeps `with` small).
[[noreturn]] void throw_local_access_error();

} // namespace rthread::detail

#endif

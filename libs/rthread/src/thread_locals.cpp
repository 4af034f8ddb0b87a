// The per-thread destructor table of local_key values.
//
// Lifecycle of a thread's table:
//   1. Made on the thread's first local_key value. Making it also touches a
//      C++ thread_local teardown_guard, so that the C++ runtime calls us back
//      when the thread ends: on every kind of thread (rthread-made,
//      std::thread, pthread_create) and on the main thread inside exit()
//      (glibc runs thread_local destructors there before atexit handlers and
//      static destructors, so our values go before any library or user static).
//   2. rthread-made threads run the teardown explicitly after their function
//      returns and before they count as ended (spawn.cpp), so join() and
//      scope() are ordered after it.
//   3. The guard's destructor runs the teardown again (finding nothing, or
//      values made since by other thread_local destructors), then frees the
//      table and marks the thread finished: from then on every key reads as
//      destroyed on it. Rust allows this ("may panic if the destructor has
//      previously been run for this thread"); the alternative, remaking
//      values nobody would destroy, would leak them.
//
// The registry releases the thread's handle from a pthread key destructor,
// which glibc runs after every C++ thread_local destructor: current() and
// park/unpark keep working inside the values' destructors.
#include "thread_locals.hpp"

#include <rthread/detail/packet.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace rthread::detail {

namespace {

class destructor_table {
public:
    destructor_table() = default;
    destructor_table(const destructor_table&) = delete;
    destructor_table& operator=(const destructor_table&) = delete;

    local_slot_state state(std::size_t index) const noexcept {
        return index < states_.size() ? states_[index] : local_slot_state::uninitialized;
    }

    void begin(std::size_t index) {
        if (index >= states_.size()) {
            grow(index);
        }
        // Room for this value's record and for every other one still being
        // made (initializers may nest), so that complete() cannot fail.
        live_.reserve(live_.size() + initializing_ + 1);
        states_[index] = local_slot_state::initializing;
        ++initializing_;
    }

    void abandon(std::size_t index) noexcept {
        states_[index] = local_slot_state::uninitialized;
        --initializing_;
    }

    void complete(std::size_t index, void** slot, void* value, void (*destroy)(void*)) noexcept {
        --initializing_;
        live_.push_back(record{index, slot, value, destroy}); // capacity reserved by begin()
        *slot = value;
        states_[index] = local_slot_state::valid;
    }

    // Destroys the newest live value, then the next, until none is left.
    void destroy_all() noexcept {
        while (!live_.empty()) {
            const record r = live_.back();
            live_.pop_back();
            // destroyed from the moment the destructor starts, and after.
            *r.slot = nullptr;
            states_[r.index] = local_slot_state::destroyed;
            // A destructor may touch other keys (making new values, which
            // grow the table and join live_): only the local copy r is used.
            if (invoke_catching(&run_destructor, const_cast<record*>(&r))) {
                // The panic hook has reported the exception, as Rust's output
                // shows it before this line.
                std::fputs("fatal runtime error: thread local panicked on drop\n", stderr);
                std::fflush(stderr);
                std::abort();
            }
        }
    }

private:
    struct record {
        std::size_t index;
        void** slot; // the key's native slot on this thread
        void* value;
        void (*destroy)(void*);
    };

    static void run_destructor(void* context) {
        const auto* r = static_cast<const record*>(context);
        r->destroy(r->value);
    }

    void grow(std::size_t index) {
        // Geometric growth: 10,000 keys touched in order cost O(n) copies.
        std::size_t size = states_.empty() ? 16 : states_.size() * 2;
        while (size <= index) {
            size *= 2;
        }
        states_.resize(size, local_slot_state::uninitialized);
    }

    std::vector<local_slot_state> states_; // by key index
    std::vector<record> live_;             // oldest first
    std::size_t initializing_ = 0;
};

// The calling thread's table; made on its first value, freed by its guard.
thread_local destructor_table* table = nullptr;
// Set once the thread's final teardown is over.
thread_local bool finished = false;

// A C++ thread_local whose destructor is the thread's final teardown. It is
// touched (and so constructed, which registers the destructor with the C++
// runtime) when the table is made, during the thread's life or, if the first
// value is made by another thread_local destructor, during its teardown
// (glibc then runs the new registration in the same round).
struct teardown_guard {
    teardown_guard() noexcept {}
    teardown_guard(const teardown_guard&) = delete;
    teardown_guard& operator=(const teardown_guard&) = delete;
    ~teardown_guard() {
        if (table != nullptr) {
            table->destroy_all();
            delete table;
            table = nullptr;
        }
        finished = true;
    }
    void arm() noexcept {}
};
thread_local teardown_guard guard;

destructor_table& current_table() {
    if (table == nullptr) {
        auto* made = new destructor_table();
        guard.arm();
        table = made;
    }
    return *table;
}

} // namespace

local_slot_state thread_slot_state(std::size_t index) noexcept {
    if (finished) {
        return local_slot_state::destroyed;
    }
    return table != nullptr ? table->state(index) : local_slot_state::uninitialized;
}

void begin_thread_slot(std::size_t index) {
    current_table().begin(index);
}

void abandon_thread_slot(std::size_t index) noexcept {
    table->abandon(index);
}

void complete_thread_slot(std::size_t index, void** slot, void* value,
                          void (*destroy)(void*)) noexcept {
    table->complete(index, slot, value, destroy);
}

void run_thread_local_destructors() noexcept {
    if (table != nullptr) {
        table->destroy_all();
    }
}

} // namespace rthread::detail

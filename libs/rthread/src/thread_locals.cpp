// The per-thread destructor table of local_key values.
//
// Lifecycle of a thread's table:
//   1. Made on the thread's first local_key value. The final teardown that
//      will destroy what is left is already armed:
//      - on every thread but the main one (rthread-made, std::thread,
//        pthread_create), the library's exit hook (registry.cpp, a pthread
//        key destructor), registering the thread if it had no handle yet.
//        glibc runs it after every C++ thread_local destructor, and again
//        after the other pthread key destructors when one of them touches a
//        key first (a boost::thread_specific_ptr cleanup on a std::thread).
//        A C++ thread_local guard would not do: one registered that late is
//        never destroyed (and glibc's record of it leaks), and registering
//        one allocates where glibc ends the process on failure ("failed to
//        register TLS destructor: out of memory"). Such a thread calling
//        exit() runs no pthread key destructor: an atexit handler, registered
//        at the first such table, destroys the values of the thread that
//        calls exit();
//      - on the main thread, which ends inside exit(), a C++ thread_local
//        guard: glibc runs the calling thread's thread_local destructors
//        there before atexit handlers and static destructors, so our values
//        go before any library or user static. It is armed at program
//        start, while memory is there.
//   2. rthread-made threads run the teardown explicitly after their function
//      returns and before they count as ended (spawn.cpp), so join() and
//      scope() are ordered after it.
//   3. The final teardown (the exit hook, or the main thread's guard) runs it
//      again (finding nothing, or values made since by thread_local or key
//      destructors), then frees the table and marks the thread finished:
//      from then on every key reads as destroyed on it. Rust allows this
//      ("may panic if the destructor has previously been run for this
//      thread"); the alternative, remaking values nobody would destroy,
//      would leak them.
//
// The exit hook releases the thread's handle only after the teardown:
// current() and park/unpark keep working inside the values' destructors.
#include "thread_locals.hpp"

#include "fatal.hpp"
#include "registry.hpp"

#include "sys/sys.hpp"

#include <rthread/detail/task.hpp>

#include <boost/assert.hpp>

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
        // Index 0 is "unassigned": no key has it.
        BOOST_ASSERT(index != 0);
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
        BOOST_ASSERT(initializing(index));
        states_[index] = local_slot_state::uninitialized;
        --initializing_;
    }

    void complete(std::size_t index, void** slot, void* value, void (*destroy)(void*)) noexcept {
        BOOST_ASSERT(initializing(index));
        // A null value would read as "destroyed" on the slot's fast path.
        BOOST_ASSERT(slot != nullptr && value != nullptr && destroy != nullptr);
        BOOST_ASSERT(live_.size() < live_.capacity());
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
                fatal("thread local panicked on drop");
            }
        }
    }

private:
    // begin(index) was called and neither complete(index) nor
    // abandon(index) since. Only the asserts call it (none under NDEBUG).
    [[maybe_unused]] bool initializing(std::size_t index) const noexcept {
        return initializing_ != 0 && state(index) == local_slot_state::initializing;
    }

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

// The main thread's final teardown, from a C++ thread_local destructor.
// Touching it (and so constructing it) registers the destructor with the
// C++ runtime.
struct main_thread_teardown {
    main_thread_teardown() noexcept {}
    main_thread_teardown(const main_thread_teardown&) = delete;
    main_thread_teardown& operator=(const main_thread_teardown&) = delete;
    ~main_thread_teardown() { finish_thread_locals(); }
    void arm() noexcept {}
};
thread_local main_thread_teardown main_teardown;

// Armed at program start (static initialisation runs on the main thread).
// Armed again, lazily, should a library loaded later from another thread
// have missed it.
[[maybe_unused]] const bool main_teardown_armed = []() noexcept {
    if (sys::is_main_thread()) {
        main_teardown.arm();
        return true;
    }
    return false;
}();

// exit() called on a thread other than the main one: that thread's values.
// (On the main thread its guard has already run: this finds nothing.)
void finish_on_exit() {
    finish_thread_locals();
}

destructor_table& current_table() {
    if (table == nullptr) {
        if (sys::is_main_thread()) {
            main_teardown.arm();
        } else {
            ensure_exit_hook(); // may throw std::bad_alloc, as the table below
            // Once a process. Should atexit fail (no memory), exit() on such
            // a thread leaves its values to the process's end.
            static const bool on_exit = std::atexit(&finish_on_exit) == 0;
            (void)on_exit;
        }
        table = new destructor_table();
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
    // Only from uninitialized: the slow path panics on an initializing slot
    // and returns a valid or destroyed one (a finished thread's included,
    // which must not get a table again).
    BOOST_ASSERT(thread_slot_state(index) == local_slot_state::uninitialized);
    current_table().begin(index);
}

void abandon_thread_slot(std::size_t index) noexcept {
    BOOST_ASSERT(table != nullptr); // begin_thread_slot made it
    table->abandon(index);
}

void complete_thread_slot(std::size_t index, void** slot, void* value,
                          void (*destroy)(void*)) noexcept {
    BOOST_ASSERT(table != nullptr); // begin_thread_slot made it
    table->complete(index, slot, value, destroy);
}

void run_thread_local_destructors() noexcept {
    if (table != nullptr) {
        table->destroy_all();
    }
}

void finish_thread_locals() noexcept {
    if (table != nullptr) {
        table->destroy_all();
        delete table;
        table = nullptr;
    }
    finished = true;
}

} // namespace rthread::detail

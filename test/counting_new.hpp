// A replacement of every global operator new and delete ([new.delete]) that
// counts the process's allocations and can fail any of them on request: what
// the tests of "no allocation per message" (mpsc_test), of failed
// allocations (alloc_failure_test) and the heap benchmark
// (tools/bench/heap_bench.cpp) see every C++ allocation through.
//
// Include it in exactly one source file of a program (it defines the
// replaceable functions), which defines test_support::fail_allocation().
// A failed allocation throws std::bad_alloc, or returns nullptr from the
// nothrow forms, as the standard ones do when memory runs out.
#ifndef RTHREAD_TEST_COUNTING_NEW_HPP
#define RTHREAD_TEST_COUNTING_NEW_HPP

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(_WIN32)
#include <malloc.h> // _aligned_malloc
#endif

namespace test_support {

// relaxed: plain statistics, read by a thread that joined (or is) the
// threads that allocated.
/// Allocations made (failed ones included), and the bytes they asked for.
inline std::atomic<std::size_t> allocations{0};
inline std::atomic<std::size_t> allocated_bytes{0};

/// Defined by the program: asked at every allocation, before it is made;
/// true fails it.
bool fail_allocation() noexcept;

namespace counting_new_detail {

// nullptr: failed on request or out of memory.
inline void* allocate(std::size_t size, std::size_t alignment) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    allocated_bytes.fetch_add(size, std::memory_order_relaxed);
    if (fail_allocation()) {
        return nullptr;
    }
    if (size == 0) {
        size = 1;
    }
    if (alignment == 0) {
        return std::malloc(size);
    }
#if defined(_WIN32)
    // The C runtime has no aligned malloc that free() takes.
    return ::_aligned_malloc(size, alignment);
#else
    void* p = nullptr;
    return ::posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size) == 0
               ? p
               : nullptr;
#endif
}

inline void* allocate_or_throw(std::size_t size, std::size_t alignment) {
    if (void* p = allocate(size, alignment)) {
        return p;
    }
    throw std::bad_alloc();
}

inline void free_aligned(void* p) noexcept {
#if defined(_WIN32)
    ::_aligned_free(p);
#else
    std::free(p);
#endif
}

} // namespace counting_new_detail
} // namespace test_support

// The replaceable functions are not inline ([replacement.functions]): this
// header is included in one source file of a program.
void* operator new(std::size_t size) {
    return test_support::counting_new_detail::allocate_or_throw(size, 0);
}
void* operator new[](std::size_t size) {
    return test_support::counting_new_detail::allocate_or_throw(size, 0);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return test_support::counting_new_detail::allocate(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return test_support::counting_new_detail::allocate(size, 0);
}
void* operator new(std::size_t size, std::align_val_t align) {
    return test_support::counting_new_detail::allocate_or_throw(size,
                                                                static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
    return test_support::counting_new_detail::allocate_or_throw(size,
                                                                static_cast<std::size_t>(align));
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
    return test_support::counting_new_detail::allocate(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
    return test_support::counting_new_detail::allocate(size, static_cast<std::size_t>(align));
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    test_support::counting_new_detail::free_aligned(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    test_support::counting_new_detail::free_aligned(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    test_support::counting_new_detail::free_aligned(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    test_support::counting_new_detail::free_aligned(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    test_support::counting_new_detail::free_aligned(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    test_support::counting_new_detail::free_aligned(p);
}

#endif

// Channels: Rust's std::sync::mpsc, multi-producer single-consumer FIFO
// queues, the message passing Rust's thread documentation reaches for.
//
//   auto [tx, rx] = rthread::mpsc::channel<std::string>();  // unbounded
//   auto [stx, srx] = rthread::mpsc::sync_channel<int>(16); // bounded, 0: rendezvous
//
// Senders (sender<T>, sync_sender<T>) are copyable, each copy a producer;
// the receiver is move-only, one consumer. T needs only a move constructor.
// A channel is disconnected when its last sender or its receiver goes:
// send() then hands the value back in its error, and recv() fails once the
// values already sent are taken. Nothing is lost, duplicated or reordered
// per sender; values still queued are destroyed with the receiver.
//
// Every send happens-before the receive that takes its value. Blocked calls
// wait on private parkers (parker.hpp), never on the thread's own park()
// token. One thread at a time may use a receiver (Rust's Receiver is not
// Sync); senders may be used from any number of threads at once.
#ifndef RTHREAD_MPSC_HPP
#define RTHREAD_MPSC_HPP

#include <rthread/available_parallelism.hpp>
#include <rthread/detail/deadline.hpp>
#include <rthread/detail/mpsc_channel.hpp>
#include <rthread/sleep.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace rthread::mpsc {

// ---- errors: Rust's, with its Display text as what() -----------------------

/// Rust's SendError: the receiver is gone; the value comes back.
template <class T>
struct send_error {
    T value;

    send_error() = default; // boost::system::result::error() asks for it
    explicit send_error(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>)
        : value(std::move(v)) {}
    const char* what() const noexcept { return "sending on a closed channel"; }
};

/// Rust's TrySendError: Full or Disconnected; the value comes back.
template <class T>
struct try_send_error {
    enum kind_type { full, disconnected };
    kind_type kind = full;
    T value;

    try_send_error() = default; // boost::system::result::error() asks for it
    try_send_error(kind_type k, T&& v) noexcept(std::is_nothrow_move_constructible_v<T>)
        : kind(k), value(std::move(v)) {}
    const char* what() const noexcept {
        return kind == full ? "sending on a full channel" : "sending on a closed channel";
    }
};

/// Rust's RecvError: every sender is gone and the channel is empty.
struct recv_error {
    const char* what() const noexcept { return "receiving on a closed channel"; }
};

/// Rust's TryRecvError.
struct try_recv_error {
    enum kind_type { empty, disconnected };
    kind_type kind = empty;

    const char* what() const noexcept {
        return kind == empty ? "receiving on an empty channel"
                             : "receiving on an empty and disconnected channel";
    }
};

/// Rust's RecvTimeoutError.
struct recv_timeout_error {
    enum kind_type { timeout, disconnected };
    kind_type kind = timeout;

    const char* what() const noexcept {
        return kind == timeout ? "timed out waiting on channel"
                               : "channel is empty and sending half is closed";
    }
};

// .value() on a failed boost::system::result throws the error value itself
// (these overloads are what boost::system::result looks up). The value a
// send_error or try_send_error carries is copied into the exception when T
// is copyable; a move-only T is moved there, leaving the result's copy
// moved-from. Boost 1.81's result::error() returns a copy (and needs a
// default-constructible error): for a move-only T, take the value back by
// catching what value() throws.
namespace detail {
template <class E>
[[noreturn]] void throw_error_value(const E& e) {
    if constexpr (std::is_copy_constructible_v<E>) {
        throw e;
    } else {
        throw std::move(const_cast<E&>(e));
    }
}
} // namespace detail

template <class T>
[[noreturn]] void throw_exception_from_error(const send_error<T>& e,
                                             const boost::source_location&) {
    detail::throw_error_value(e);
}
template <class T>
[[noreturn]] void throw_exception_from_error(const try_send_error<T>& e,
                                             const boost::source_location&) {
    detail::throw_error_value(e);
}
[[noreturn]] inline void throw_exception_from_error(const recv_error& e,
                                                    const boost::source_location&) {
    throw e;
}
[[noreturn]] inline void throw_exception_from_error(const try_recv_error& e,
                                                    const boost::source_location&) {
    throw e;
}
[[noreturn]] inline void throw_exception_from_error(const recv_timeout_error& e,
                                                    const boost::source_location&) {
    throw e;
}

template <class T>
class receiver;
template <class T>
class sender;
template <class T>
class sync_sender;
template <class T>
std::pair<sender<T>, receiver<T>> channel();
template <class T>
std::pair<sync_sender<T>, receiver<T>> sync_channel(std::size_t bound);

namespace detail {

using rthread::detail::channel_state;

/// What sender and sync_sender share: one producer's hold on the channel.
template <class T>
class sender_handle {
public:
    sender_handle(const sender_handle& other) noexcept : state_(other.state_) {
        if (state_ != nullptr) {
            state_->retain_sender();
        }
    }
    sender_handle(sender_handle&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    sender_handle& operator=(sender_handle other) noexcept {
        std::swap(state_, other.state_);
        return *this;
    }
    ~sender_handle() {
        if (state_ != nullptr) {
            state_->release_sender();
        }
    }

protected:
    explicit sender_handle(channel_state<T>* state) noexcept : state_(state) {}

    /// Sends until d; a moved-from handle fails as a disconnected one.
    template <class R, class Fail>
    R send_until(T& v, rthread::detail::deadline d, Fail fail) const {
        if (state_ == nullptr) {
            return fail(v, rthread::detail::send_failure::disconnected);
        }
        return state_->template send<R>(v, d, fail);
    }

private:
    channel_state<T>* state_;
};

inline constexpr rthread::detail::deadline no_wait{rthread::detail::nanos::zero()};

} // namespace detail

/// The sending half of an unbounded channel: Rust's Sender. Copyable; each
/// copy is a producer, and the channel disconnects when the last one goes.
template <class T>
class sender : public detail::sender_handle<T> {
public:
    using result_type = boost::system::result<void, send_error<T>>;

    /// Queues v; never blocks (the channel is unbounded).
    ///
    /// # Errors
    /// send_error with v back when the receiver is gone.
    /// # Exceptions
    /// What T's move constructor throws (the channel stays usable and v
    /// is not sent), std::bad_alloc.
    result_type send(T v) const {
        return this->template send_until<result_type>(
            v, detail::no_wait, [](T& back, rthread::detail::send_failure) {
                return result_type(boost::system::in_place_error, std::move(back));
            });
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>();
    using detail::sender_handle<T>::sender_handle;
};

/// The sending half of a bounded channel: Rust's SyncSender. Copyable.
template <class T>
class sync_sender : public detail::sender_handle<T> {
public:
    using result_type = boost::system::result<void, send_error<T>>;
    using try_result_type = boost::system::result<void, try_send_error<T>>;

    /// Queues v, blocking while the channel is full; on a rendezvous
    /// channel (bound 0), until the receiver has taken v.
    ///
    /// # Errors
    /// send_error with v back when the receiver is gone (also when it goes
    /// while this call waits).
    result_type send(T v) const {
        return this->template send_until<result_type>(
            v, rthread::detail::deadline::never(), [](T& back, rthread::detail::send_failure) {
                return result_type(boost::system::in_place_error, std::move(back));
            });
    }

    /// Queues v if there is room now (rendezvous: if the receiver is
    /// waiting in recv), never blocks.
    ///
    /// # Errors
    /// try_send_error{full} or {disconnected}, with v back.
    try_result_type try_send(T v) const {
        return this->template send_until<try_result_type>(
            v, detail::no_wait, [](T& back, rthread::detail::send_failure why) {
                return try_result_type(boost::system::in_place_error,
                                       why == rthread::detail::send_failure::full
                                           ? try_send_error<T>::full
                                           : try_send_error<T>::disconnected,
                                       std::move(back));
            });
    }

private:
    friend std::pair<sync_sender<T>, receiver<T>> sync_channel<T>(std::size_t);
    using detail::sender_handle<T>::sender_handle;
};

/// The receiving half of a channel: Rust's Receiver. Move-only; one
/// thread at a time uses it. Iterable: `for (T v : rx)` receives until
/// the channel is disconnected.
template <class T>
class receiver {
public:
    using result_type = boost::system::result<T, recv_error>;
    using try_result_type = boost::system::result<T, try_recv_error>;
    using timeout_result_type = boost::system::result<T, recv_timeout_error>;

    receiver(receiver&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    receiver& operator=(receiver&& other) noexcept {
        receiver gone(std::move(*this));
        std::swap(state_, other.state_);
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    /// Disconnects: later sends fail, and the values still queued are
    /// destroyed here.
    ~receiver() {
        if (state_ != nullptr) {
            state_->release_receiver();
        }
    }

    /// Waits for a value.
    ///
    /// # Errors
    /// recv_error once every sender is gone and the channel is empty (a
    /// moved-from receiver: at once).
    /// # Exceptions
    /// What T's move constructor throws; the value stays first in line.
    result_type recv() {
        return receive<result_type>(rthread::detail::deadline::never(),
                                    [](rthread::detail::recv_failure) {
                                        return result_type(boost::system::in_place_error);
                                    });
    }

    /// Takes a value if one is there; never blocks.
    ///
    /// # Errors
    /// try_recv_error{empty}, or {disconnected} once every sender is gone
    /// and the channel is empty.
    try_result_type try_recv() {
        return receive<try_result_type>(detail::no_wait, [](rthread::detail::recv_failure why) {
            return try_result_type(boost::system::in_place_error,
                                   try_recv_error{why == rthread::detail::recv_failure::empty
                                                      ? try_recv_error::empty
                                                      : try_recv_error::disconnected});
        });
    }

    /// As recv(), waiting about d at the longest. The rules of
    /// rthread::park_timeout: zero, negative and NaN durations only look;
    /// duration::max() waits as recv() does.
    ///
    /// # Errors
    /// recv_timeout_error{timeout} or {disconnected}.
    template <class Rep, class Period>
    timeout_result_type recv_timeout(std::chrono::duration<Rep, Period> d) {
        const rthread::detail::nanos ns = rthread::detail::to_nanos(d);
        return receive<timeout_result_type>(
            ns == rthread::detail::nanos::zero() ? detail::no_wait
                                                 : rthread::detail::deadline::after(ns),
            [](rthread::detail::recv_failure why) {
                return timeout_result_type(
                    boost::system::in_place_error,
                    recv_timeout_error{why == rthread::detail::recv_failure::empty
                                           ? recv_timeout_error::timeout
                                           : recv_timeout_error::disconnected});
            });
    }

    /// As recv_timeout(), until the time point t of any clock; a time
    /// point already passed only looks, time_point::max() waits as recv().
    template <class Clock, class Duration>
    timeout_result_type recv_until(std::chrono::time_point<Clock, Duration> t) {
        return recv_timeout(rthread::detail::time_until(t));
    }

    /// An input iterator over received values: recv() or try_recv() on
    /// each step, the end once that fails.
    template <bool Wait>
    class basic_iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using pointer = T*;
        using reference = T&&;

        basic_iterator() noexcept = default;
        /// The value received; move it out (`for (T v : rx)` does).
        T&& operator*() noexcept { return std::move(*current_); }
        T* operator->() noexcept { return &*current_; }
        basic_iterator& operator++() {
            next();
            return *this;
        }
        void operator++(int) { next(); }
        friend bool operator==(const basic_iterator& a, const basic_iterator& b) noexcept {
            return a.rx_ == b.rx_;
        }
        friend bool operator!=(const basic_iterator& a, const basic_iterator& b) noexcept {
            return !(a == b);
        }

    private:
        friend class receiver;
        explicit basic_iterator(receiver* rx) : rx_(rx) { next(); }
        void next() {
            current_.reset();
            if constexpr (Wait) {
                auto r = rx_->recv();
                if (r) {
                    current_.emplace(std::move(*r));
                }
            } else {
                auto r = rx_->try_recv();
                if (r) {
                    current_.emplace(std::move(*r));
                }
            }
            if (!current_) {
                rx_ = nullptr;
            }
        }

        receiver* rx_ = nullptr;
        std::optional<T> current_;
    };
    using iterator = basic_iterator<true>;
    using try_iterator = basic_iterator<false>;

    /// Receives until the channel is disconnected (Rust's Receiver::iter).
    iterator begin() { return iterator(this); }
    iterator end() noexcept { return iterator(); }

    /// What try_iter() returns: takes the values there without waiting.
    class try_range {
    public:
        try_iterator begin() { return try_iterator(rx_); }
        try_iterator end() noexcept { return try_iterator(); }

    private:
        friend class receiver;
        explicit try_range(receiver* rx) noexcept : rx_(rx) {}
        receiver* rx_;
    };
    /// Rust's Receiver::try_iter: the values queued now, never waiting;
    /// ends at the first empty (or disconnected) look.
    try_range try_iter() noexcept { return try_range(this); }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>();
    friend std::pair<sync_sender<T>, receiver<T>> sync_channel<T>(std::size_t);
    explicit receiver(rthread::detail::channel_state<T>* state) noexcept : state_(state) {}

    template <class R, class Fail>
    R receive(rthread::detail::deadline d, Fail fail) {
        if (state_ == nullptr) {
            return fail(rthread::detail::recv_failure::disconnected);
        }
        return state_->template recv<R>(d, fail);
    }

    rthread::detail::channel_state<T>* state_;
};

/// A new unbounded channel: Rust's mpsc::channel().
///
/// # Exceptions
/// std::bad_alloc.
template <class T>
std::pair<sender<T>, receiver<T>> channel() {
    static_assert(std::is_move_constructible_v<T>, "a channel's T needs a move constructor");
    auto* state = new rthread::detail::channel_state<T>(std::nullopt);
    return {sender<T>(state), receiver<T>(state)};
}

/// A new bounded channel of bound values: Rust's mpsc::sync_channel().
/// bound 0 is a rendezvous: each send waits for the recv that takes it.
/// The bound's storage is allocated here, once.
///
/// # Exceptions
/// std::length_error when bound slots of T cannot be addressed;
/// std::bad_alloc.
template <class T>
std::pair<sync_sender<T>, receiver<T>> sync_channel(std::size_t bound) {
    static_assert(std::is_move_constructible_v<T>, "a channel's T needs a move constructor");
    // The ring's slots carry a stamp beside each value.
    using slot = typename rthread::detail::array_queue<T>::slot;
    if (bound > std::numeric_limits<std::ptrdiff_t>::max() / sizeof(slot)) {
        throw std::length_error("rthread::mpsc::sync_channel: a bound of " + std::to_string(bound) +
                                " values of " + std::to_string(sizeof(T)) +
                                " bytes cannot be allocated");
    }
    auto* state = new rthread::detail::channel_state<T>(bound);
    return {sync_sender<T>(state), receiver<T>(state)};
}

} // namespace rthread::mpsc

#endif

// A node's event queue: engine threads push, one host thread polls. An eventfd mirrors
// "events are waiting" so hosts can wait in epoll or asyncio instead of in poll().
//
// Bounded by back-pressure, never by loss: once `capacity` events wait, the queue reports
// pressure (the node then refuses new requests and holds committed entries back), and
// once polling brings it down to half, it reports relief. Events of work accepted before
// still arrive meanwhile, so the queue may briefly hold more than `capacity`.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "synod.h"
#include "synod/node/node_host.h"  // raft::Bytes, the payloads of the node's API

namespace synod::capi {

class EventQueue {
 public:
  // Throws std::system_error when no eventfd can be made.
  EventQueue();
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Called with true when the queue fills and false when it has drained to half; set
  // once, before any push.
  using PressureHandler = std::function<void(bool full)>;
  void bound(std::size_t capacity, PressureHandler on_pressure);
  // Whether new requests may add events (false while under pressure).
  bool has_room() const;

  // Queues `event`; its data/len are replaced by `payload`'s bytes when polled.
  void push(const synod_event& event, raft::Bytes payload = {});
  // After close(), poll() reports SYNOD_E_SHUTTING_DOWN once the queue is empty, and wakes
  // a poller waiting for more.
  void close();
  // As synod_node_poll.
  int poll(synod_event* events, std::size_t max, int timeout_ms);
  std::size_t pending() const;
  int fd() const { return fd_; }

 private:
  struct Queued {
    synod_event event;
    raft::Bytes payload;
  };
  // Under mu_: makes the eventfd readable or drains it, to match whether events wait.
  void signal_locked(bool readable);

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Queued> queue_;
  // Payloads lent to the host by the last poll.
  std::vector<raft::Bytes> lent_;
  bool closed_ = false;
  bool fd_readable_ = false;
  std::size_t capacity_ = SIZE_MAX;
  PressureHandler on_pressure_;
  bool under_pressure_ = false;
  int fd_ = -1;
};

}  // namespace synod::capi

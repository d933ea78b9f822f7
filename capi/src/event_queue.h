// A node's event queue: engine threads push, one host thread polls. An eventfd mirrors
// "events are waiting" so hosts can wait in epoll or asyncio instead of in poll().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
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
  int fd_ = -1;
};

}  // namespace synod::capi

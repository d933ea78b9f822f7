// The lifecycle of a network endpoint and the handlers it runs: whether it runs, which
// handlers are set, which of them run now (stop() waits for those), the inbound answers
// still being written, and stop() itself, which also works from inside a handler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "synod/transport/transport.h"

namespace synod::transport {

class EndpointState {
 public:
  EndpointState() = default;
  // Joins the thread that ran a teardown started from inside a handler.
  ~EndpointState();
  EndpointState(const EndpointState&) = delete;
  EndpointState& operator=(const EndpointState&) = delete;

  void set_receiver(Transport::Receiver receiver);
  void set_unreachable_handler(Transport::UnreachableHandler handler);
  void set_snapshot_status_handler(Transport::SnapshotStatusHandler handler);

  // True when this call started the endpoint (it was neither running nor stopped).
  bool start();
  bool running() const;

  // Ends the endpoint: no handler starts any more (except the snapshot statuses that
  // `tear_down` reports), `tear_down` runs once, and the call returns when it has and no
  // handler runs, unless called from inside a handler: then the teardown runs on a thread
  // of its own and the call returns at once.
  void stop(const std::function<void()>& tear_down);

  // Hands `batch` to the receiver, first calling `admitted` (both while running only);
  // false when the endpoint no longer runs.
  bool deliver(Batch&& batch, const std::function<void()>& admitted);
  // Runs the unreachable handler, unless the endpoint no longer runs.
  void report_unreachable(NodeId peer, std::vector<Envelope>&& lost);
  // Runs the snapshot status handler: while running, and during the teardown.
  void report_snapshot(NodeId peer, PartitionId partition, bool delivered);

  // Inbound answers (an acknowledgement, an HTTP response) that stop() lets finish before
  // it cuts the connections: begin_answer() is false when not running; otherwise it must
  // be paired with end_answer().
  bool begin_answer();
  void end_answer();
  // Waits until no answer is pending, at most `bound`.
  void await_answers(std::chrono::milliseconds bound);

 private:
  class Active;
  template <typename Call>
  void run_handler(std::unique_lock<std::mutex>& lock, Call&& call);

  mutable std::mutex mu_;
  bool running_ = false;
  bool stopped_ = false;
  bool teardown_started_ = false;
  bool torn_down_ = false;
  // Handlers running now.
  int active_ = 0;
  int answers_pending_ = 0;
  std::condition_variable changed_;
  std::shared_ptr<const Transport::Receiver> receiver_;
  std::shared_ptr<const Transport::UnreachableHandler> unreachable_;
  std::shared_ptr<const Transport::SnapshotStatusHandler> snapshot_status_;
  // Runs the teardown when stop() is called from inside a handler.
  std::thread reaper_;
};

}  // namespace synod::transport

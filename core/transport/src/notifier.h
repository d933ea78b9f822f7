// Runs the unreachable and snapshot status handlers of a network endpoint on a thread of
// its own, so that neither send() nor a peer's link ever waits for the runtime.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "endpoint_state.h"
#include "synod/transport/transport.h"

namespace synod::transport {

class Notifier {
 public:
  explicit Notifier(EndpointState& state) : state_(state) {}
  // finish() must have been called if start() was.
  ~Notifier() = default;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts the thread; no effect after finish().
  void start();
  // A batch to `batch.to` that will not arrive: when `unreachable`, its envelopes go to the
  // unreachable handler (while the endpoint runs); each InstallSnapshot in it is reported
  // not delivered.
  void lost(Batch&& batch, bool unreachable);
  // A batch the peer took: each InstallSnapshot in it is reported delivered.
  void delivered(const Batch& batch);
  // Runs the snapshot statuses still queued (the unreachable reports no longer matter)
  // and ends the thread. Call it once nothing queues any more.
  void finish();

 private:
  struct Report {
    NodeId peer = raft::kNoNode;
    // For the unreachable handler; empty when there is nothing to tell it.
    std::vector<Envelope> lost;
    // The partitions of the InstallSnapshot envelopes in the batch.
    std::vector<PartitionId> snapshots;
    bool delivered = false;
  };

  void push(Report&& report);
  void run();

  EndpointState& state_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Report> reports_;
  bool finishing_ = false;
  std::thread thread_;
};

}  // namespace synod::transport

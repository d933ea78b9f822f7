// An in-process network: several nodes' transports in one process, with per-link fault
// injection (loss, delay, jitter, duplication, partitions).
//
// Delivery runs on the env interfaces it is given, so the same code serves tests on real
// threads (ThreadPool + TimerThread) and deterministic simulation (SimulatedWorld, where
// one seed fixes every fault choice and every delivery).
//
// Semantics of one directed link from -> to:
// - Without jitter it is FIFO: batches arrive in the order they were sent, each after at
//   least the link's delay. With jitter, each batch gets its own extra delay and batches
//   may overtake each other.
// - At most `max_queued_batches` batches are undelivered at a time; more are dropped.
// - A batch whose destination is stopped or removed by the time it arrives is dropped,
//   counted by the sender, and reported to the sender's unreachable handler.
// - Snapshots: when a batch arrives, the file of each InstallSnapshot in it is copied from
//   the sender's SnapshotFiles to the receiver's, chunk by chunk (one task, whatever the
//   size: simulated time does not pass), and committed; an envelope whose copy fails
//   (no file, a read error, the receiver refuses or cannot store it) is taken out of the
//   batch, the rest is handed over. A sender without SnapshotFiles drops its snapshots in
//   send() (dropped_snapshot_unavailable).
// - Snapshot statuses (transport.h): delivered once the batch is handed to the receiver
//   (refused on arrival or a failed copy: not delivered); injected loss and cuts are not
//   delivered; the extra copy of a duplicated batch reports nothing. stop() reports the
//   snapshots still on their way as not delivered, on the thread that calls it.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "synod/env/clock.h"
#include "synod/env/random.h"
#include "synod/env/scheduler.h"
#include "synod/transport/transport.h"

namespace synod::transport {

// Faults of one directed link. The default is a healthy link with no delay.
struct LinkFaults {
  // Probability that a batch is silently lost.
  double drop = 0;
  // Probability that a batch is delivered twice (the copy gets its own delay).
  double duplicate = 0;
  // Fixed one-way delay.
  env::Duration delay{0};
  // Extra delay drawn uniformly from [0, jitter] per batch; reorders batches.
  env::Duration jitter{0};
  // The link is cut: every batch is dropped as if the peer were unreachable.
  bool cut = false;

  friend bool operator==(const LinkFaults&, const LinkFaults&) = default;
};

struct InMemoryNetworkOptions {
  // Bound on undelivered batches per directed link.
  std::size_t max_queued_batches = 1024;
  // Faults of every link that has no settings of its own.
  LinkFaults default_faults;
  // Size of the pieces a snapshot's file is copied in.
  std::size_t snapshot_chunk_bytes = 1 << 20;
};

namespace detail {
struct NetworkCore;
}

// The hub that InMemoryTransport endpoints register with. Must outlive its endpoints; the
// env objects must outlive the network and its endpoints. Fault choices draw from
// `random` under the network's lock only, so it must not be shared with other threads.
class InMemoryNetwork {
 public:
  InMemoryNetwork(env::Scheduler& scheduler, env::Executor& executor, env::Random& random,
                  InMemoryNetworkOptions options = {});
  ~InMemoryNetwork();
  InMemoryNetwork(const InMemoryNetwork&) = delete;
  InMemoryNetwork& operator=(const InMemoryNetwork&) = delete;

  // Faults of the directed link from -> to; they apply to batches sent from now on.
  void set_link(NodeId from, NodeId to, const LinkFaults& faults);
  LinkFaults link(NodeId from, NodeId to) const;
  // Faults of every link without settings of its own (see set_link).
  void set_default_faults(const LinkFaults& faults);

  // Cuts every link between nodes of different groups; a node in no group is cut off
  // from everyone. Replaces the previous partition.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  // Cuts every link to and from `node`, in addition to any partition.
  void isolate(NodeId node);
  // Removes the partition, every isolation and every per-link cut. Loss, delay and
  // duplication settings stay.
  void heal();

 private:
  friend class InMemoryTransport;
  std::shared_ptr<detail::NetworkCore> core_;
};

// One node's endpoint on an InMemoryNetwork. Registers the node on construction and
// removes it on destruction (which stops it first). It must not be destroyed from inside
// one of its own handlers.
class InMemoryTransport final : public Transport {
 public:
  // Throws std::invalid_argument when `self` is kNoNode or already registered.
  InMemoryTransport(InMemoryNetwork& network, ClusterId cluster, NodeId self);
  ~InMemoryTransport() override;
  InMemoryTransport(const InMemoryTransport&) = delete;
  InMemoryTransport& operator=(const InMemoryTransport&) = delete;

  void set_receiver(Receiver receiver) override;
  void set_unreachable_handler(UnreachableHandler handler) override;
  void set_snapshot_status_handler(SnapshotStatusHandler handler) override;
  void set_snapshot_files(SnapshotFiles* files) override;
  void start() override;
  void stop() override;
  void send(Batch batch) override;
  TransportStats stats() const override;

  NodeId self() const { return self_; }

 private:
  std::shared_ptr<detail::NetworkCore> core_;
  NodeId self_;
};

}  // namespace synod::transport

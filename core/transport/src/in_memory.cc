#include "synod/transport/in_memory.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "snapshot_partitions.h"

namespace synod::transport {
namespace detail {
namespace {

using LinkKey = std::pair<NodeId, NodeId>;  // (from, to)
using Counter = std::uint64_t TransportStats::*;

// One registered node. Everything here is guarded by NetworkCore::mu.
struct Endpoint {
  ClusterId cluster = 0;
  // Tells a re-registered node apart from its predecessor under the same id, so late
  // notifications meant for the old one are not handed to the new one.
  std::uint64_t incarnation = 0;
  bool running = false;
  bool stopped = false;
  std::shared_ptr<const Transport::Receiver> receiver;
  std::shared_ptr<const Transport::UnreachableHandler> unreachable;
  std::shared_ptr<const Transport::SnapshotStatusHandler> snapshot_status;
  SnapshotFiles* files = nullptr;
  // InstallSnapshot envelopes sent while running and not yet reported, as (peer,
  // partition): a report settles one, and stop() reports the rest as not delivered.
  std::multiset<std::pair<NodeId, PartitionId>> snapshots_unreported;
  TransportStats stats;
  // Handlers of this endpoint running right now; stop() waits for them.
  int active = 0;
};

// The endpoint whose handler the current thread is running, so that a handler calling
// stop() on its own endpoint does not wait for itself.
thread_local const Endpoint* t_running_handler_of = nullptr;

// Whether the snapshot statuses of a batch are to be reported: not for the extra copy
// that duplication makes.
struct Carried {
  Batch batch;
  bool reports = true;
};

struct InFlight {
  Carried carried;
  bool ripe = false;
  // Sent without jitter: may not overtake an earlier batch that was also sent without.
  bool ordered = true;
};

struct Link {
  std::optional<LinkFaults> faults;
  // Batches waiting for their delay, by send order.
  std::map<std::uint64_t, InFlight> in_flight;
  // Batches due, in delivery order; one drain task per link hands them over.
  std::deque<Carried> ready;
  bool draining = false;
  std::uint64_t next_id = 1;

  std::size_t undelivered() const { return in_flight.size() + ready.size(); }
};

env::Duration non_negative(env::Duration d) { return std::max(d, env::Duration::zero()); }

bool is_snapshot(const Envelope& e) { return e.message.type == raft::MessageType::InstallSnapshot; }

// Moves the envelopes of `batch` for which `take` holds into a batch of their own, both
// in their order. `take` sees each envelope once, in order.
template <typename Take>
Batch take_out(Batch& batch, Take&& take) {
  Batch taken{batch.cluster, batch.from, batch.to, {}};
  std::vector<Envelope> kept;
  for (Envelope& e : batch.envelopes) (take(e) ? taken.envelopes : kept).push_back(std::move(e));
  batch.envelopes = std::move(kept);
  return taken;
}

// How copying one snapshot's file went.
struct Copy {
  bool committed = false;
  // The receiver refused it or could not store it (else the sender could not read it).
  bool refused = false;
  std::uint64_t bytes = 0;
};

// Copies the file of `snapshot` from `from` to `to` in pieces of `chunk_bytes`.
Copy copy_file(SnapshotFiles& from, SnapshotFiles* to, const Envelope& snapshot,
               std::size_t chunk_bytes) {
  Copy copy;
  std::string why;
  const raft::SnapshotMeta& meta = snapshot.message.snapshot->meta;
  auto reader = from.open(snapshot.partition, meta, &why);
  if (!reader) return copy;
  copy.refused = true;
  auto writer = to ? to->receive(snapshot.partition, meta, reader->size(), &why) : nullptr;
  if (!writer) return copy;
  std::string piece(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, reader->size())),
                    '\0');
  for (std::uint64_t left = reader->size(); left > 0;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), left));
    std::size_t got = 0;
    if (!reader->read(piece.data(), want, &got, &why) || got == 0) {
      copy.refused = false;
      return copy;
    }
    if (!writer->write(piece.data(), got, &why)) return copy;
    left -= got;
    copy.bytes += got;
  }
  copy.committed = writer->commit(&why);
  return copy;
}

}  // namespace

struct NetworkCore : std::enable_shared_from_this<NetworkCore> {
  NetworkCore(env::Scheduler& scheduler, env::Executor& executor, env::Random& random,
              InMemoryNetworkOptions options)
      : scheduler(scheduler), executor(executor), random(random), options(options) {}

  env::Scheduler& scheduler;
  env::Executor& executor;
  env::Random& random;

  mutable std::mutex mu;
  // Signalled whenever an endpoint's last running handler returns.
  std::condition_variable handlers_done;
  InMemoryNetworkOptions options;
  std::map<NodeId, Endpoint> endpoints;
  std::map<LinkKey, Link> links;
  std::uint64_t next_incarnation = 1;
  // Partition: group index per node; a node missing from it is in a group of its own.
  std::optional<std::map<NodeId, std::size_t>> groups;
  std::set<NodeId> isolated;

  LinkFaults faults_of(const Link& link) const {
    return link.faults.value_or(options.default_faults);
  }

  bool is_cut(NodeId from, NodeId to, const LinkFaults& faults) const {
    if (faults.cut) return true;
    if (from == to) return false;
    if (isolated.contains(from) || isolated.contains(to)) return true;
    if (!groups) return false;
    auto a = groups->find(from);
    auto b = groups->find(to);
    return a == groups->end() || b == groups->end() || a->second != b->second;
  }

  Endpoint& endpoint(NodeId id) { return endpoints.at(id); }

  // Counts a lost batch against `sender` and, when the loss means the peer is
  // unreachable, tells the sender's handler (later, on the executor).
  void lose(NodeId sender_id, Endpoint& sender, Counter reason, Batch&& batch, bool report,
            bool reports_snapshots = true) {
    ++(sender.stats.*reason);
    sender.stats.messages_dropped += batch.envelopes.size();
    if (reports_snapshots) report_snapshots(sender_id, sender, batch, false);
    if (!report) return;
    executor.post([weak = weak_from_this(), sender_id, incarnation = sender.incarnation,
                   peer = batch.to, lost = std::move(batch.envelopes)]() mutable {
      if (auto core = weak.lock()) core->notify_unreachable(sender_id, incarnation, peer, lost);
    });
  }

  // Tells the sender's snapshot status handler, later on the executor, what became of the
  // InstallSnapshot envelopes of `batch`.
  void report_snapshots(NodeId sender_id, const Endpoint& sender, const Batch& batch,
                        bool delivered) {
    for (PartitionId partition : snapshot_partitions(batch)) {
      executor.post([weak = weak_from_this(), sender_id, incarnation = sender.incarnation,
                     peer = batch.to, partition, delivered] {
        if (auto core = weak.lock()) {
          core->notify_snapshot(sender_id, incarnation, peer, partition, delivered);
        }
      });
    }
  }

  void send(NodeId self, Batch&& batch) {
    std::lock_guard lock(mu);
    Endpoint& sender = endpoint(self);
    if (!sender.running) {
      // Not reported: no handler of a stopped endpoint runs.
      return lose(self, sender, &TransportStats::dropped_stopped, std::move(batch), false, false);
    }
    for (PartitionId partition : snapshot_partitions(batch)) {
      sender.snapshots_unreported.emplace(batch.to, partition);
    }
    if (!sender.files) {
      Batch snapshots = take_out(batch, is_snapshot);
      if (!snapshots.envelopes.empty()) {
        lose(self, sender, &TransportStats::dropped_snapshot_unavailable, std::move(snapshots),
             false);
        if (batch.envelopes.empty()) return;
      }
    }
    auto dest = endpoints.find(batch.to);
    if (dest == endpoints.end()) {
      return lose(self, sender, &TransportStats::dropped_peer_unknown, std::move(batch), true);
    }
    if (!dest->second.running) {
      return lose(self, sender, &TransportStats::dropped_peer_down, std::move(batch), true);
    }
    const LinkKey key{self, batch.to};
    Link& link = links[key];
    const LinkFaults faults = faults_of(link);
    if (is_cut(key.first, key.second, faults)) {
      return lose(self, sender, &TransportStats::dropped_link_cut, std::move(batch), true);
    }
    // Draw only for faults that are set: traffic on healthy links consumes no randomness,
    // so it cannot shift the fault choices of the links under test.
    if (faults.drop > 0 && random.chance(faults.drop)) {
      return lose(self, sender, &TransportStats::dropped_fault, std::move(batch), false);
    }
    if (link.undelivered() >= options.max_queued_batches) {
      return lose(self, sender, &TransportStats::dropped_queue_full, std::move(batch), true);
    }
    ++sender.stats.batches_sent;
    sender.stats.messages_sent += batch.envelopes.size();
    if (faults.duplicate > 0 && random.chance(faults.duplicate) &&
        link.undelivered() + 2 <= options.max_queued_batches) {
      ++sender.stats.batches_duplicated;
      enqueue(key, link, faults, Carried{batch, false});
    }
    enqueue(key, link, faults, Carried{std::move(batch), true});
  }

  void enqueue(const LinkKey& key, Link& link, const LinkFaults& faults, Carried&& batch) {
    env::Duration delay = non_negative(faults.delay);
    const env::Duration jitter = non_negative(faults.jitter);
    if (jitter > env::Duration::zero()) {
      delay += env::Duration(random.between(0, static_cast<std::uint64_t>(jitter.count())));
    }
    const std::uint64_t id = link.next_id++;
    const bool due_now = delay == env::Duration::zero();
    link.in_flight.emplace(id, InFlight{std::move(batch), due_now, jitter == jitter.zero()});
    if (due_now) {
      release(key, link);
    } else {
      scheduler.after(delay, [weak = weak_from_this(), key, id] {
        if (auto core = weak.lock()) core->ripen(key, id);
      });
    }
  }

  void ripen(const LinkKey& key, std::uint64_t id) {
    std::lock_guard lock(mu);
    Link& link = links[key];
    auto it = link.in_flight.find(id);
    if (it == link.in_flight.end()) return;
    it->second.ripe = true;
    release(key, link);
  }

  // Moves every batch that is due and not held back by an earlier ordered batch to the
  // ready queue, and makes sure a drain task is on its way.
  void release(const LinkKey& key, Link& link) {
    for (auto it = link.in_flight.begin(); it != link.in_flight.end();) {
      if (it->second.ripe) {
        link.ready.push_back(std::move(it->second.carried));
        it = link.in_flight.erase(it);
      } else if (it->second.ordered) {
        break;
      } else {
        ++it;
      }
    }
    if (!link.ready.empty() && !link.draining) {
      link.draining = true;
      post_drain(key);
    }
  }

  void post_drain(const LinkKey& key) {
    executor.post([weak = weak_from_this(), key] {
      if (auto core = weak.lock()) core->drain(key);
    });
  }

  // Hands the link's next ready batch to its destination. One batch per task keeps links
  // fair on a thread pool and gives the simulator the finest interleaving.
  void drain(const LinkKey& key) {
    std::unique_lock lock(mu);
    Link& link = links[key];
    if (link.ready.empty()) {
      link.draining = false;
      return;
    }
    Carried carried = std::move(link.ready.front());
    link.ready.pop_front();
    deliver(lock, key, std::move(carried));
    // Only now may the next batch go, so a link's batches are handed over one at a time.
    if (link.ready.empty()) {
      link.draining = false;
    } else {
      post_drain(key);
    }
  }

  void deliver(std::unique_lock<std::mutex>& lock, const LinkKey& key, Carried&& carried) {
    Batch& batch = carried.batch;
    auto sender = endpoints.find(key.first);
    auto dest = endpoints.find(key.second);
    if (dest == endpoints.end() || !dest->second.running) {
      if (sender != endpoints.end()) {
        lose(key.first, sender->second, &TransportStats::dropped_peer_down, std::move(batch), true,
             carried.reports);
      }
      return;
    }
    Endpoint& receiver = dest->second;
    const bool admitted = batch.cluster == receiver.cluster && endpoints.contains(batch.from);
    const bool reports = carried.reports && sender != endpoints.end();
    if (!admitted) {
      if (reports) report_snapshots(key.first, sender->second, batch, false);
      ++(batch.cluster != receiver.cluster ? receiver.stats.refused_foreign_cluster
                                           : receiver.stats.refused_unknown_sender);
      return;
    }
    if (std::any_of(batch.envelopes.begin(), batch.envelopes.end(), is_snapshot)) {
      const Batch failed = copy_snapshots(lock, sender, receiver, batch);
      if (reports) report_snapshots(key.first, sender->second, failed, false);
      // It may have stopped while the files were copied.
      if (!receiver.running) {
        if (sender != endpoints.end()) {
          lose(key.first, sender->second, &TransportStats::dropped_peer_down, std::move(batch),
               true, carried.reports);
        }
        return;
      }
      if (batch.envelopes.empty()) return;
    }
    if (reports) report_snapshots(key.first, sender->second, batch, true);
    ++receiver.stats.batches_received;
    receiver.stats.messages_received += batch.envelopes.size();
    if (auto handler = receiver.receiver) {
      run_handler(lock, receiver, [&] { (*handler)(std::move(batch)); });
    }
  }

  // Copies the file of each InstallSnapshot in `batch` from the sender's files to the
  // receiver's, without the lock (`batch` is the caller's alone): both endpoints count the
  // copy as a running handler, so that neither stop() returns (and lets its files go)
  // before it ends. Takes the envelopes whose copy failed out of `batch` and returns them.
  // A sender that is gone or stopped has no files to read any more.
  Batch copy_snapshots(std::unique_lock<std::mutex>& lock,
                       std::map<NodeId, Endpoint>::iterator sender, Endpoint& receiver,
                       Batch& batch) {
    std::vector<Copy> copies;
    const bool readable =
        sender != endpoints.end() && sender->second.running && sender->second.files;
    if (readable) {
      SnapshotFiles& from = *sender->second.files;
      SnapshotFiles* to = receiver.files;
      ++sender->second.active;
      ++receiver.active;
      lock.unlock();
      for (const Envelope& e : batch.envelopes) {
        if (is_snapshot(e)) copies.push_back(copy_file(from, to, e, options.snapshot_chunk_bytes));
      }
      lock.lock();
      for (Endpoint* e : {&sender->second, &receiver}) {
        if (--e->active == 0) handlers_done.notify_all();
      }
    }
    for (const Copy& copy : copies) {
      sender->second.stats.snapshot_bytes_sent += copy.bytes;
      sender->second.stats.snapshot_transfers_failed += copy.committed ? 0 : 1;
      receiver.stats.snapshot_bytes_received += copy.bytes;
      receiver.stats.snapshot_transfers_refused += copy.refused && !copy.committed ? 1 : 0;
    }
    std::size_t next = 0;
    return take_out(batch, [&](const Envelope& e) {
      return is_snapshot(e) && !(next < copies.size() && copies[next++].committed);
    });
  }

  void notify_unreachable(NodeId self, std::uint64_t incarnation, NodeId peer,
                          std::vector<Envelope>& lost) {
    std::unique_lock lock(mu);
    auto it = endpoints.find(self);
    if (it == endpoints.end() || it->second.incarnation != incarnation || !it->second.running) {
      return;
    }
    if (auto handler = it->second.unreachable) {
      run_handler(lock, it->second, [&] { (*handler)(peer, std::move(lost)); });
    }
  }

  void notify_snapshot(NodeId self, std::uint64_t incarnation, NodeId peer, PartitionId partition,
                       bool delivered) {
    std::unique_lock lock(mu);
    auto it = endpoints.find(self);
    if (it == endpoints.end() || it->second.incarnation != incarnation || !it->second.running) {
      return;
    }
    Endpoint& endpoint = it->second;
    // Already reported by stop() otherwise.
    auto unreported = endpoint.snapshots_unreported.find({peer, partition});
    if (unreported == endpoint.snapshots_unreported.end()) return;
    endpoint.snapshots_unreported.erase(unreported);
    if (auto handler = endpoint.snapshot_status) {
      run_handler(lock, endpoint, [&] { (*handler)(peer, partition, delivered); });
    }
  }

  // Reports the snapshots of a stopping endpoint that no report settled yet.
  void flush_snapshots(std::unique_lock<std::mutex>& lock, Endpoint& endpoint) {
    auto unreported = std::move(endpoint.snapshots_unreported);
    endpoint.snapshots_unreported.clear();
    auto handler = endpoint.snapshot_status;
    if (!handler) return;
    for (const auto& [peer, partition] : unreported) {
      run_handler(lock, endpoint, [&] { (*handler)(peer, partition, false); });
    }
  }

  // Runs a handler of `endpoint` without the lock, registered as active so stop() can
  // wait for it. `endpoint` stays valid meanwhile: it is only erased after stop().
  template <typename Call>
  void run_handler(std::unique_lock<std::mutex>& lock, Endpoint& endpoint, Call&& call) {
    struct Active {
      NetworkCore& core;
      std::unique_lock<std::mutex>& lock;
      Endpoint& endpoint;
      const Endpoint* outer;
      Active(NetworkCore& c, std::unique_lock<std::mutex>& l, Endpoint& e)
          : core(c), lock(l), endpoint(e), outer(t_running_handler_of) {
        ++endpoint.active;
        t_running_handler_of = &endpoint;
        lock.unlock();
      }
      // Also on an exception, so a throwing handler cannot leave stop() waiting forever.
      ~Active() {
        lock.lock();
        t_running_handler_of = outer;
        if (--endpoint.active == 0) core.handlers_done.notify_all();
      }
    } active(*this, lock, endpoint);
    call();
  }
};

}  // namespace detail

InMemoryNetwork::InMemoryNetwork(env::Scheduler& scheduler, env::Executor& executor,
                                 env::Random& random, InMemoryNetworkOptions options)
    : core_(std::make_shared<detail::NetworkCore>(scheduler, executor, random, options)) {}

// Tasks still queued in the env objects hold only weak references and do nothing once the
// core is gone.
InMemoryNetwork::~InMemoryNetwork() = default;

void InMemoryNetwork::set_link(NodeId from, NodeId to, const LinkFaults& faults) {
  std::lock_guard lock(core_->mu);
  core_->links[{from, to}].faults = faults;
}

LinkFaults InMemoryNetwork::link(NodeId from, NodeId to) const {
  std::lock_guard lock(core_->mu);
  auto it = core_->links.find({from, to});
  return it == core_->links.end() ? core_->options.default_faults : core_->faults_of(it->second);
}

void InMemoryNetwork::set_default_faults(const LinkFaults& faults) {
  std::lock_guard lock(core_->mu);
  core_->options.default_faults = faults;
}

void InMemoryNetwork::partition(const std::vector<std::vector<NodeId>>& groups) {
  std::map<NodeId, std::size_t> group_of;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    for (NodeId node : groups[i]) group_of[node] = i;
  }
  std::lock_guard lock(core_->mu);
  core_->groups = std::move(group_of);
}

void InMemoryNetwork::isolate(NodeId node) {
  std::lock_guard lock(core_->mu);
  core_->isolated.insert(node);
}

void InMemoryNetwork::heal() {
  std::lock_guard lock(core_->mu);
  core_->groups.reset();
  core_->isolated.clear();
  for (auto& [key, link] : core_->links) {
    if (link.faults) link.faults->cut = false;
  }
  core_->options.default_faults.cut = false;
}

InMemoryTransport::InMemoryTransport(InMemoryNetwork& network, ClusterId cluster, NodeId self)
    : core_(network.core_), self_(self) {
  if (self == raft::kNoNode) throw std::invalid_argument("in-memory transport: node id 0");
  std::lock_guard lock(core_->mu);
  auto [it, added] = core_->endpoints.try_emplace(self);
  if (!added) {
    throw std::invalid_argument("in-memory transport: node " + std::to_string(self) +
                                " is already registered");
  }
  it->second.cluster = cluster;
  it->second.incarnation = core_->next_incarnation++;
}

InMemoryTransport::~InMemoryTransport() {
  stop();
  std::lock_guard lock(core_->mu);
  core_->endpoints.erase(self_);
}

void InMemoryTransport::set_receiver(Receiver receiver) {
  auto shared = receiver ? std::make_shared<const Receiver>(std::move(receiver)) : nullptr;
  std::lock_guard lock(core_->mu);
  core_->endpoint(self_).receiver = std::move(shared);
}

void InMemoryTransport::set_unreachable_handler(UnreachableHandler handler) {
  auto shared = handler ? std::make_shared<const UnreachableHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(core_->mu);
  core_->endpoint(self_).unreachable = std::move(shared);
}

void InMemoryTransport::set_snapshot_status_handler(SnapshotStatusHandler handler) {
  auto shared = handler ? std::make_shared<const SnapshotStatusHandler>(std::move(handler)) : nullptr;
  std::lock_guard lock(core_->mu);
  core_->endpoint(self_).snapshot_status = std::move(shared);
}

void InMemoryTransport::set_snapshot_files(SnapshotFiles* files) {
  std::lock_guard lock(core_->mu);
  core_->endpoint(self_).files = files;
}

void InMemoryTransport::start() {
  std::lock_guard lock(core_->mu);
  auto& endpoint = core_->endpoint(self_);
  if (!endpoint.stopped) endpoint.running = true;
}

void InMemoryTransport::stop() {
  std::unique_lock lock(core_->mu);
  auto& endpoint = core_->endpoint(self_);
  endpoint.running = false;
  endpoint.stopped = true;
  // On the calling thread, before stop() returns, as the contract wants.
  core_->flush_snapshots(lock, endpoint);
  // A handler of this endpoint calling stop() must not wait for itself (nor for a sibling
  // handler, which might be waiting for it in turn).
  if (detail::t_running_handler_of == &endpoint) return;
  core_->handlers_done.wait(lock, [&] { return endpoint.active == 0; });
}

void InMemoryTransport::send(Batch batch) { core_->send(self_, std::move(batch)); }

TransportStats InMemoryTransport::stats() const {
  std::lock_guard lock(core_->mu);
  return core_->endpoint(self_).stats;
}

}  // namespace synod::transport

#include "synod/node/node_host.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace synod::node {
namespace {

Status from_raft(raft::RaftStatus status) {
  switch (status) {
    case raft::RaftStatus::Ok:
      return Status::Ok;
    case raft::RaftStatus::NotLeader:
      return Status::NotLeader;
    case raft::RaftStatus::NoLeader:
      return Status::NoLeader;
    case raft::RaftStatus::TransferInProgress:
      return Status::TransferInProgress;
    case raft::RaftStatus::UncommittedLimit:
      return Status::QueueFull;
    case raft::RaftStatus::ConfChangePending:
    case raft::RaftStatus::InvalidConfChange:
    case raft::RaftStatus::InvalidArgument:
      return Status::InvalidArgument;
  }
  return Status::InvalidArgument;
}

// Everything one partition needs. The inbox is filled by any thread under `mu`; the rest
// belongs to the worker cycle that has claimed the partition (`scheduled`).
struct Partition {
  struct QueuedProposal {
    std::uint32_t type;
    raft::Bytes payload;
    NodeHost::ReplicationCallback done;
    env::TimePoint deadline;
  };
  struct QueuedRead {
    NodeHost::ReadCallback done;
    env::TimePoint deadline;
  };
  struct WaitingProposal {
    Term term;
    NodeHost::ReplicationCallback done;
    env::TimePoint deadline;
  };
  struct WaitingRead {
    NodeHost::ReadCallback done;
    env::TimePoint deadline;
    std::optional<Index> read_index;
  };

  PartitionId id = 0;
  std::shared_ptr<raft::LogStorage> storage;
  std::unique_ptr<raft::RawNode> raft;

  mutable std::mutex mu;
  bool closed = false;  // stop() swept this partition; no new requests
  std::vector<raft::Message> messages;
  std::deque<QueuedProposal> proposals;
  std::deque<QueuedRead> reads;
  std::vector<NodeId> transfers;
  std::vector<NodeId> unreachable;
  std::optional<Index> applied_report;
  bool tick = false;
  raft::RaftState published;

  bool scheduled = false;  // guarded by the host's run_mu
  bool quiescent = false;  // guarded by the host's active_mu
  bool activity = false;   // in the inbox: work arrived that is more than a heartbeat
  int idle_ticks = 0;      // owned by the driving worker

  // A multimap: a node that leads again may propose at an index where its proposal of an
  // older term still waits (that entry may yet commit), and each must get its answer.
  std::multimap<Index, WaitingProposal> waiting;
  std::map<std::string, WaitingRead> reads_in_flight;
  Index applied = 0;
  NodeId leader = raft::kNoNode;
  std::atomic<NodeId> published_leader{raft::kNoNode};
  std::atomic<bool> published_is_leader{false};
  // The highest index handed to the host (or covered by a snapshot): the bound for
  // report_applied, which the apply handler itself may call for the entry it was given.
  std::atomic<Index> delivered{0};

  bool inbox_empty_locked() const {
    return messages.empty() && proposals.empty() && reads.empty() && transfers.empty() &&
           unreachable.empty() && !applied_report && !tick;
  }
};

// Heartbeats keep a partition's leadership alive; they are not work, so they neither wake
// a quiescent partition nor keep one from quiescing.
bool is_heartbeat(const raft::Message& m) {
  return m.type == raft::MessageType::Heartbeat || m.type == raft::MessageType::HeartbeatResp;
}

void complete(const NodeHost::ReplicationCallback& done, Status status, Index index = 0,
              Term term = 0, NodeId hint = raft::kNoNode) {
  if (done) done(ReplicationResult{status, index, term, hint});
}

void complete(const NodeHost::ReadCallback& done, Status status, Index index = 0,
              NodeId hint = raft::kNoNode) {
  if (done) done(ReadResult{status, index, hint});
}

}  // namespace

class NodeHost::Impl : public std::enable_shared_from_this<NodeHost::Impl> {
 public:
  explicit Impl(const NodeHostConfig& config) : config_(config) {}

  bool open(std::string& error);
  void start();
  void stop();
  void replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                 ReplicationCallback done);
  void replicate_batch(PartitionId partition, std::vector<BatchEntry> entries, BatchCallback done);
  void read_index(PartitionId partition, ReadCallback done);
  NodeId wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout);
  Status transfer_leadership(PartitionId partition, NodeId target);
  Status report_applied(PartitionId partition, Index index);
  bool is_leader(PartitionId partition) const;
  NodeId leader_of(PartitionId partition) const;
  std::vector<PartitionId> partition_ids() const;
  std::vector<PartitionStatus> status() const;
  NodeId id() const { return config_.node_id; }

  ApplyHandler apply_handler;
  LeaderHandler leader_handler;
  FailureHandler failure_handler;

 private:
  Partition* find(PartitionId id) const;
  // The status for a request to a partition this node does not run: StorageFailure for
  // one whose stored state is damaged, UnknownPartition otherwise.
  Status missing(PartitionId id) const;
  // Under p.mu: whether `count` more requests may queue (Ok, ShuttingDown or QueueFull).
  Status admission_locked(const Partition& p, std::size_t count) const;
  // Makes a partition with work runnable; posts a cycle if the pool has room.
  void schedule(Partition& p);
  void schedule_locked(Partition& p);
  void post_cycle_locked();
  // The partitions of one worker cycle and their Readys, from claiming to release.
  struct Work {
    Partition* p;
    raft::Ready rd;
  };
  struct Cycle {
    std::vector<Partition*> claimed;
    std::vector<Work> work;
  };
  void run_cycle();
  // Steps 3 to 5 of a cycle, once its storage write is durable (or failed).
  void finish_cycle(const std::shared_ptr<Cycle>& cycle, const storage::StorageStatus& written);
  // Sends one kind of message of every Ready of the cycle, one batch per destination.
  void send_messages(Cycle& cycle, std::vector<raft::Message> raft::Ready::*which);
  void drain_inbox(Partition& p, env::TimePoint now);
  void expire(Partition& p, env::TimePoint now);
  void apply_ready(Partition& p, raft::Ready& rd);
  void fail_storage(const std::string& why);
  void arm_tick();
  void on_tick();
  void on_batch(transport::Batch&& batch);
  void on_unreachable(NodeId peer, std::vector<transport::Envelope>&& lost);
  void close_partition(Partition& p, Status status);
  // Makes a quiescent partition tick again.
  void wake(Partition& p);
  void maybe_quiesce(Partition& p, const raft::RaftState& state);
  void exchange_liveness(env::TimePoint now);

  NodeHostConfig config_;
  std::map<PartitionId, std::unique_ptr<Partition>> partitions_;
  // Stored partitions not run because the store found their state damaged, with why.
  std::map<PartitionId, std::string> damaged_;

  std::mutex run_mu_;
  std::condition_variable idle_;
  std::deque<Partition*> run_queue_;
  std::size_t cycles_posted_ = 0;
  // Cycles and tick tasks running now; stop() waits for none.
  std::size_t tasks_executing_ = 0;
  bool running_ = false;
  bool stopped_ = false;
  // Set once stop() has finished with the store and transport (see stop()).
  bool stop_finished_ = false;
  std::thread::id stopping_thread_;
  Status stop_status_ = Status::ShuttingDown;
  // Why the store failed, when it did (stop_status_ is then StorageFailure).
  std::string failure_;
  env::TimerId tick_timer_ = 0;
  std::atomic<std::uint64_t> next_read_id_{1};
  int quiesce_after_ticks_ = 0;

  // Signalled whenever a cycle publishes a partition's leader.
  std::mutex leader_mu_;
  std::condition_variable leader_known_;

  // Partitions that tick; the others are quiescent. Ordered by id, not address, so that a
  // simulation seed replays the same way in every build.
  struct ById {
    bool operator()(const Partition* a, const Partition* b) const { return a->id < b->id; }
  };
  mutable std::mutex active_mu_;
  std::set<Partition*, ById> active_;

  // Per-node liveness, used only by the tick timer's task.
  std::vector<NodeId> peers_;
  std::map<NodeId, env::TimePoint> last_heard_;
  std::set<NodeId> silent_peers_;
  std::mutex heard_mu_;
  std::uint64_t ticks_ = 0;
};

bool NodeHost::Impl::open(std::string& error) {
  const auto& c = config_;
  if (c.node_id == raft::kNoNode) {
    error = "node id 0 is reserved";
    return false;
  }
  if (!c.store || !c.transport || !c.clock || !c.scheduler || !c.executor) {
    error = "store, transport, clock, scheduler and executor are all required";
    return false;
  }
  if (c.tick_interval.count() <= 0 || c.partitions_per_cycle == 0 || c.max_parallel_cycles == 0 ||
      c.max_queued_requests == 0) {
    error =
        "tick_interval, partitions_per_cycle, max_parallel_cycles and max_queued_requests "
        "must be positive";
    return false;
  }
  std::vector<PartitionId> ids = c.store->partitions();
  if (ids.empty()) {
    if (std::find(c.initial_members.begin(), c.initial_members.end(), c.node_id) ==
        c.initial_members.end()) {
      error = "a new cluster's initial_members must include this node";
      return false;
    }
    storage::WriteBatch batch;
    for (PartitionId id = 0; id <= c.user_partitions; ++id) {
      batch.add(storage::bootstrap_write(id, c.initial_members));
      ids.push_back(id);
    }
    if (auto st = c.store->write(batch, true); !st.ok()) {
      error = "bootstrap write failed: " + st.to_string();
      return false;
    }
  }
  for (PartitionId id : ids) {
    if (auto damage = c.store->partition_error(id); !damage.ok()) {
      damaged_.emplace(id, damage.to_string());
      continue;
    }
    auto p = std::make_unique<Partition>();
    p->id = id;
    p->storage = c.store->open_partition(id);
    raft::Config rc;
    rc.id = c.node_id;
    rc.election_ticks = c.election_ticks;
    rc.heartbeat_ticks = c.heartbeat_ticks;
    rc.seed = c.seed ^ (id * 0x9e3779b97f4a7c15ULL);
    rc.applied = c.store->applied_floor(id);
    std::string why;
    p->raft = raft::RawNode::create(rc, *p->storage, &why);
    if (!p->raft) {
      error = "partition " + std::to_string(id) + ": " + why;
      return false;
    }
    p->applied = p->raft->state().applied;
    p->delivered.store(p->applied);
    p->published = p->raft->state();
    active_.insert(p.get());
    partitions_.emplace(id, std::move(p));
  }
  quiesce_after_ticks_ = c.quiesce_after_ticks > 0 ? c.quiesce_after_ticks : 10 * c.election_ticks;
  for (const auto& [id, p] : partitions_) {
    for (NodeId peer : p->published.conf.voters) {
      if (peer != c.node_id && std::find(peers_.begin(), peers_.end(), peer) == peers_.end()) {
        peers_.push_back(peer);
      }
    }
  }
  return true;
}

void NodeHost::Impl::start() {
  std::weak_ptr<Impl> weak = weak_from_this();
  config_.transport->set_receiver([weak](transport::Batch&& batch) {
    if (auto self = weak.lock()) self->on_batch(std::move(batch));
  });
  config_.transport->set_unreachable_handler(
      [weak](NodeId peer, std::vector<transport::Envelope>&& lost) {
        if (auto self = weak.lock()) self->on_unreachable(peer, std::move(lost));
      });
  {
    std::lock_guard lock(run_mu_);
    if (running_ || stopped_) return;
    running_ = true;
  }
  config_.transport->start();
  arm_tick();
}

void NodeHost::Impl::arm_tick() {
  std::weak_ptr<Impl> weak = weak_from_this();
  std::lock_guard lock(run_mu_);
  if (!running_) return;
  tick_timer_ = config_.scheduler->after(config_.tick_interval, [weak] {
    if (auto self = weak.lock()) self->on_tick();
  });
}

void NodeHost::Impl::on_tick() {
  {
    // Counted like a cycle, so that stop() waits for it: it uses the transport.
    std::lock_guard lock(run_mu_);
    if (!running_) return;
    ++tasks_executing_;
  }
  std::vector<Partition*> ticking;
  {
    std::lock_guard lock(active_mu_);
    ticking.assign(active_.begin(), active_.end());
  }
  for (Partition* p : ticking) {
    {
      std::lock_guard lock(p->mu);
      p->tick = true;
    }
    schedule(*p);
  }
  if (config_.quiesce) exchange_liveness(config_.clock->now());
  arm_tick();
  std::lock_guard lock(run_mu_);
  --tasks_executing_;
  idle_.notify_all();
}

void NodeHost::Impl::exchange_liveness(env::TimePoint now) {
  if (++ticks_ % static_cast<std::uint64_t>(config_.heartbeat_ticks) == 0) {
    // One empty batch per peer stands in for the heartbeats of every quiescent partition.
    for (NodeId peer : peers_) {
      config_.transport->send(transport::Batch{config_.cluster_id, config_.node_id, peer, {}});
    }
  }
  const auto timeout = config_.tick_interval * config_.election_ticks;
  std::vector<NodeId> newly_silent;
  {
    std::lock_guard lock(heard_mu_);
    for (NodeId peer : peers_) {
      auto [it, fresh] = last_heard_.emplace(peer, now);
      if (fresh || now - it->second <= timeout) {
        silent_peers_.erase(peer);
      } else if (silent_peers_.insert(peer).second) {
        newly_silent.push_back(peer);
      }
    }
  }
  if (newly_silent.empty()) return;
  // Partitions led by the silent node must elect another leader, and partitions this node
  // leads must notice (check-quorum) if it is the one cut off.
  for (auto& [id, p] : partitions_) {
    const NodeId leader = p->published_leader.load();
    if (leader == raft::kNoNode || leader == config_.node_id ||
        std::find(newly_silent.begin(), newly_silent.end(), leader) != newly_silent.end()) {
      wake(*p);
    }
  }
}

void NodeHost::Impl::wake(Partition& p) {
  bool woke = false;
  {
    std::lock_guard lock(active_mu_);
    if (p.quiescent) {
      p.quiescent = false;
      active_.insert(&p);
      woke = true;
    }
  }
  if (woke) {
    std::lock_guard lock(p.mu);
    p.activity = true;
  }
}

void NodeHost::Impl::maybe_quiesce(Partition& p, const raft::RaftState& state) {
  if (!config_.quiesce || p.idle_ticks < quiesce_after_ticks_) return;
  const bool settled = state.soft_state.leader != raft::kNoNode && p.waiting.empty() &&
                       p.reads_in_flight.empty() && state.hard_state.commit == state.last_index &&
                       state.applied == state.hard_state.commit &&
                       state.transfer_target == raft::kNoNode;
  if (!settled) return;
  for (const auto& peer : state.peers) {
    if (peer.match != state.last_index) return;  // a follower still needs entries
  }
  std::lock_guard lock(active_mu_);
  {
    std::lock_guard inbox(p.mu);
    if (!p.inbox_empty_locked()) return;
  }
  p.quiescent = true;
  active_.erase(&p);
}

void NodeHost::Impl::stop() {
  {
    std::unique_lock lock(run_mu_);
    if (stopped_) {
      // A second caller (the host, while a storage failure stops the node on a worker)
      // returns only once the store and transport are no longer used, so that it may free
      // them. The stopping thread itself, re-entering from a completion, does not wait.
      if (stopping_thread_ != std::this_thread::get_id()) {
        idle_.wait(lock, [this] { return stop_finished_; });
      }
      return;
    }
    stopped_ = true;
    stopping_thread_ = std::this_thread::get_id();
    running_ = false;
    config_.scheduler->cancel(tick_timer_);
    run_queue_.clear();
    idle_.wait(lock, [this] { return tasks_executing_ == 0; });
  }
  config_.transport->stop();
  for (auto& [id, p] : partitions_) close_partition(*p, stop_status_);
  // Floors reported since the last cycle are kept by a clean stop, so a restart does not
  // deliver those entries again. Closed partitions accept no more reports.
  storage::WriteBatch floors;
  for (auto& [id, p] : partitions_) {
    std::lock_guard lock(p->mu);
    if (const auto floor = std::exchange(p->applied_report, std::nullopt)) {
      floors.add(id).applied_floor = *floor;
    }
  }
  if (!floors.empty()) (void)config_.store->write(floors, config_.sync);
  std::string failure;
  {
    std::lock_guard lock(run_mu_);
    if (stop_status_ == Status::StorageFailure) failure = failure_;
  }
  // Before any other stop() caller returns, so the host may still use what the handler
  // touches.
  if (!failure.empty() && failure_handler) failure_handler(failure);
  {
    std::lock_guard lock(run_mu_);
    stop_finished_ = true;
  }
  idle_.notify_all();
}

void NodeHost::Impl::close_partition(Partition& p, Status status) {
  std::deque<Partition::QueuedProposal> proposals;
  std::deque<Partition::QueuedRead> reads;
  {
    std::lock_guard lock(p.mu);
    p.closed = true;
    proposals.swap(p.proposals);
    reads.swap(p.reads);
  }
  for (auto& q : proposals) complete(q.done, status);
  for (auto& q : reads) complete(q.done, status);
  for (auto& [index, w] : std::exchange(p.waiting, {})) complete(w.done, status);
  for (auto& [ctx, r] : std::exchange(p.reads_in_flight, {})) complete(r.done, status);
}

Status NodeHost::Impl::admission_locked(const Partition& p, std::size_t count) const {
  if (p.closed) return Status::ShuttingDown;
  if (p.proposals.size() + p.reads.size() + count > config_.max_queued_requests) {
    return Status::QueueFull;
  }
  return Status::Ok;
}

Partition* NodeHost::Impl::find(PartitionId id) const {
  auto it = partitions_.find(id);
  return it == partitions_.end() ? nullptr : it->second.get();
}

Status NodeHost::Impl::missing(PartitionId id) const {
  return damaged_.count(id) ? Status::StorageFailure : Status::UnknownPartition;
}

void NodeHost::Impl::replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                               ReplicationCallback done) {
  Partition* p = find(partition);
  if (!p) return complete(done, missing(partition));
  if (type == 0) return complete(done, Status::InvalidArgument);
  if (payload.size() > config_.max_payload_bytes) return complete(done, Status::PayloadTooLarge);
  {
    std::unique_lock lock(p->mu);
    if (const Status admitted = admission_locked(*p, 1); admitted != Status::Ok) {
      lock.unlock();
      return complete(done, admitted);
    }
    p->proposals.push_back({type, std::move(payload), std::move(done),
                            config_.clock->now() + config_.request_timeout});
  }
  wake(*p);
  schedule(*p);
}

void NodeHost::Impl::replicate_batch(PartitionId partition, std::vector<BatchEntry> entries,
                                     BatchCallback done) {
  struct Gather {
    std::mutex mu;
    std::vector<ReplicationResult> results;
    std::size_t left;
    BatchCallback done;
  };
  auto fail_all = [&](Status status) {
    if (done) done(std::vector<ReplicationResult>(entries.size(), ReplicationResult{status}));
  };
  Partition* p = find(partition);
  if (!p) return fail_all(missing(partition));
  if (entries.empty()) return fail_all(Status::InvalidArgument);
  for (const auto& e : entries) {
    if (e.type == 0) return fail_all(Status::InvalidArgument);
    if (e.payload.size() > config_.max_payload_bytes) return fail_all(Status::PayloadTooLarge);
  }
  auto gather = std::make_shared<Gather>();
  gather->results.resize(entries.size());
  gather->left = entries.size();
  gather->done = std::move(done);
  {
    std::unique_lock lock(p->mu);
    if (const Status status = admission_locked(*p, entries.size()); status != Status::Ok) {
      lock.unlock();
      if (gather->done) {
        gather->done(std::vector<ReplicationResult>(entries.size(), ReplicationResult{status}));
      }
      return;
    }
    const env::TimePoint deadline = config_.clock->now() + config_.request_timeout;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      p->proposals.push_back({entries[i].type, std::move(entries[i].payload),
                              [gather, i](const ReplicationResult& r) {
                                BatchCallback finished;
                                {
                                  std::lock_guard guard(gather->mu);
                                  gather->results[i] = r;
                                  if (--gather->left == 0) finished = std::move(gather->done);
                                }
                                if (finished) finished(gather->results);
                              },
                              deadline});
    }
  }
  wake(*p);
  schedule(*p);
}

NodeId NodeHost::Impl::wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout) {
  Partition* p = find(partition);
  if (!p) return raft::kNoNode;
  std::unique_lock lock(leader_mu_);
  leader_known_.wait_for(lock, timeout,
                         [p] { return p->published_leader.load() != raft::kNoNode; });
  return p->published_leader.load();
}

void NodeHost::Impl::read_index(PartitionId partition, ReadCallback done) {
  Partition* p = find(partition);
  if (!p) return complete(done, missing(partition));
  {
    std::unique_lock lock(p->mu);
    if (const Status admitted = admission_locked(*p, 1); admitted != Status::Ok) {
      lock.unlock();
      return complete(done, admitted);
    }
    p->reads.push_back({std::move(done), config_.clock->now() + config_.request_timeout});
  }
  wake(*p);
  schedule(*p);
}

Status NodeHost::Impl::transfer_leadership(PartitionId partition, NodeId target) {
  Partition* p = find(partition);
  if (!p) return missing(partition);
  if (target == raft::kNoNode) return Status::InvalidArgument;
  if (!p->published_is_leader.load()) {
    return p->published_leader.load() == raft::kNoNode ? Status::NoLeader : Status::NotLeader;
  }
  {
    std::lock_guard lock(p->mu);
    if (p->closed) return Status::ShuttingDown;
    p->transfers.push_back(target);
  }
  wake(*p);
  schedule(*p);
  return Status::Ok;
}

Status NodeHost::Impl::report_applied(PartitionId partition, Index index) {
  Partition* p = find(partition);
  if (!p) return missing(partition);
  {
    std::lock_guard lock(p->mu);
    if (p->closed) return Status::ShuttingDown;
    if (index > p->delivered.load()) return Status::InvalidArgument;
    p->applied_report = std::max(p->applied_report.value_or(0), index);
  }
  schedule(*p);
  return Status::Ok;
}

bool NodeHost::Impl::is_leader(PartitionId partition) const {
  Partition* p = find(partition);
  return p && p->published_is_leader.load();
}

NodeId NodeHost::Impl::leader_of(PartitionId partition) const {
  Partition* p = find(partition);
  return p ? p->published_leader.load() : raft::kNoNode;
}

std::vector<PartitionId> NodeHost::Impl::partition_ids() const {
  std::vector<PartitionId> out;
  for (const auto& [id, p] : partitions_) out.push_back(id);
  return out;
}

std::vector<PartitionStatus> NodeHost::Impl::status() const {
  std::vector<PartitionStatus> out;
  std::lock_guard active(active_mu_);
  for (const auto& [id, p] : partitions_) {
    std::lock_guard lock(p->mu);
    out.push_back({id, p->published, p->quiescent, {}});
  }
  for (const auto& [id, why] : damaged_) {
    PartitionStatus damaged;
    damaged.partition = id;
    damaged.storage_error = why;
    out.push_back(std::move(damaged));
  }
  std::sort(out.begin(), out.end(), [](const PartitionStatus& a, const PartitionStatus& b) {
    return a.partition < b.partition;
  });
  return out;
}

void NodeHost::Impl::schedule(Partition& p) {
  std::lock_guard lock(run_mu_);
  schedule_locked(p);
}

void NodeHost::Impl::schedule_locked(Partition& p) {
  if (!running_ || p.scheduled) return;
  p.scheduled = true;
  run_queue_.push_back(&p);
  if (cycles_posted_ < config_.max_parallel_cycles) post_cycle_locked();
}

void NodeHost::Impl::post_cycle_locked() {
  ++cycles_posted_;
  std::weak_ptr<Impl> weak = weak_from_this();
  config_.executor->post([weak] {
    if (auto self = weak.lock()) self->run_cycle();
  });
}

void NodeHost::Impl::run_cycle() {
  std::vector<Partition*> claimed;
  {
    std::lock_guard lock(run_mu_);
    --cycles_posted_;
    if (!running_) return;
    ++tasks_executing_;
    // Round-robin: a partition that still has work goes to the back of the queue.
    while (!run_queue_.empty() && claimed.size() < config_.partitions_per_cycle) {
      claimed.push_back(run_queue_.front());
      run_queue_.pop_front();
    }
    // More runnable partitions than one cycle takes: let another worker start on them.
    if (!run_queue_.empty() && cycles_posted_ < config_.max_parallel_cycles) {
      post_cycle_locked();
    }
  }

  const env::TimePoint now = config_.clock->now();
  auto cycle = std::make_shared<Cycle>();
  cycle->claimed = std::move(claimed);
  // A Ready is large: growing the vector would move every one of them.
  cycle->work.reserve(cycle->claimed.size());
  storage::WriteBatch batch;
  bool must_sync = false;
  for (Partition* p : cycle->claimed) {
    std::optional<Index> floor = std::nullopt;
    drain_inbox(*p, now);
    {
      std::lock_guard lock(p->mu);
      floor = std::exchange(p->applied_report, std::nullopt);
    }
    if (floor) batch.add(p->id).applied_floor = *floor;
    if (p->raft->has_ready()) cycle->work.push_back({p, p->raft->ready()});
  }

  // 1. Messages that do not wait for the disk, one batch per destination.
  for (auto& w : cycle->work) {
    for (const auto& m : w.rd.messages) {
      // The transport reports losses it sees; a silent loss is recovered by probing.
      if (m.type == raft::MessageType::InstallSnapshot) w.p->raft->report_snapshot(m.to, true);
    }
  }
  send_messages(*cycle, &raft::Ready::messages);

  // 2. One storage batch, one sync, for every partition of this cycle.
  for (auto& w : cycle->work) {
    if (!w.rd.snapshot && w.rd.entries.empty() && !w.rd.hard_state) continue;
    auto& pw = batch.add(w.p->id);
    pw.hard_state = w.rd.hard_state;
    pw.snapshot = w.rd.snapshot;
    pw.entries = w.rd.entries;
    must_sync |= w.rd.must_sync;
  }
  const bool sync = config_.sync && must_sync;
  if (batch.empty()) return finish_cycle(cycle, {});
  if (!sync || !config_.sync_executor) {
    return finish_cycle(cycle, config_.store->write(batch, sync));
  }
  // The write goes to the store in this cycle's order; the sync, which blocks for the
  // disk, runs on the sync executor and so does the rest of the cycle, while this worker
  // moves on. The claimed partitions stay claimed until then.
  if (auto st = config_.store->write(batch, false); !st.ok()) return finish_cycle(cycle, st);
  std::shared_ptr<Impl> self = shared_from_this();
  config_.sync_executor->post(
      [self, cycle] { self->finish_cycle(cycle, self->config_.store->sync()); });
}

void NodeHost::Impl::send_messages(Cycle& cycle, std::vector<raft::Message> raft::Ready::*which) {
  std::map<NodeId, transport::Batch> out;
  for (auto& w : cycle.work) {
    for (auto& m : w.rd.*which) {
      auto& b = out[m.to];
      b.envelopes.push_back({w.p->id, std::move(m)});
    }
    (w.rd.*which).clear();
  }
  for (auto& [to, b] : out) {
    b.cluster = config_.cluster_id;
    b.from = config_.node_id;
    b.to = to;
    config_.transport->send(std::move(b));
  }
}

void NodeHost::Impl::finish_cycle(const std::shared_ptr<Cycle>& cycle,
                                  const storage::StorageStatus& written) {
  const std::vector<Partition*>& claimed = cycle->claimed;
  if (!written.ok()) {
    {
      std::lock_guard lock(run_mu_);
      for (Partition* p : claimed) p->scheduled = false;
      --tasks_executing_;
      idle_.notify_all();
    }
    fail_storage(written.to_string());
    return;
  }

  // 3. Messages that vouch for what is now durable.
  send_messages(*cycle, &raft::Ready::messages_after_persist);

  // 4. Apply, answer, advance.
  for (auto& w : cycle->work) {
    if (!w.rd.entries.empty() || !w.rd.committed_entries.empty() || w.rd.soft_state) {
      w.p->idle_ticks = 0;
    }
    apply_ready(*w.p, w.rd);
    w.p->raft->advance();
  }
  for (Partition* p : claimed) {
    auto state = p->raft->state();
    const bool leads = state.soft_state.role == raft::Role::Leader;
    p->published_is_leader.store(leads);
    if (p->published_leader.exchange(state.soft_state.leader) != state.soft_state.leader) {
      std::lock_guard lock(leader_mu_);
      leader_known_.notify_all();
    }
    maybe_quiesce(*p, state);
    std::lock_guard lock(p->mu);
    p->published = std::move(state);
  }

  std::vector<bool> more(claimed.size());
  for (std::size_t i = 0; i < claimed.size(); ++i) more[i] = claimed[i]->raft->has_ready();
  std::lock_guard lock(run_mu_);
  for (std::size_t i = 0; i < claimed.size(); ++i) {
    Partition& p = *claimed[i];
    p.scheduled = false;
    bool pending = more[i];
    if (!pending) {
      std::lock_guard inbox(p.mu);
      pending = !p.inbox_empty_locked();
    }
    if (pending) schedule_locked(p);
  }
  --tasks_executing_;
  if (!run_queue_.empty() && cycles_posted_ < config_.max_parallel_cycles && running_) {
    post_cycle_locked();
  }
  idle_.notify_all();
}

void NodeHost::Impl::drain_inbox(Partition& p, env::TimePoint now) {
  std::vector<raft::Message> messages;
  std::deque<Partition::QueuedProposal> proposals;
  std::deque<Partition::QueuedRead> reads;
  std::vector<NodeId> transfers;
  std::vector<NodeId> unreachable;
  bool tick = false;
  {
    std::lock_guard lock(p.mu);
    messages.swap(p.messages);
    proposals.swap(p.proposals);
    reads.swap(p.reads);
    transfers.swap(p.transfers);
    unreachable.swap(p.unreachable);
    tick = std::exchange(p.tick, false);
    if (std::exchange(p.activity, false) || !proposals.empty() || !reads.empty() ||
        !transfers.empty()) {
      p.idle_ticks = 0;
    }
  }
  for (const auto& m : messages) {
    if (!is_heartbeat(m)) p.idle_ticks = 0;
  }
  for (const auto& m : messages) p.raft->step(m);
  for (NodeId peer : unreachable) p.raft->report_unreachable(peer);
  if (tick) {
    ++p.idle_ticks;
    p.raft->tick();
    expire(p, now);
  }
  if (!proposals.empty()) {
    std::vector<raft::Proposal> batch;
    batch.reserve(proposals.size());
    for (const auto& q : proposals) batch.push_back({q.type, q.payload});
    const raft::ProposeResult r = p.raft->propose(batch);
    if (r.status == raft::RaftStatus::Ok) {
      for (std::size_t i = 0; i < proposals.size(); ++i) {
        p.waiting.emplace(r.first_index + i,
                          Partition::WaitingProposal{r.term, std::move(proposals[i].done),
                                                     proposals[i].deadline});
      }
    } else {
      for (auto& q : proposals) complete(q.done, from_raft(r.status), 0, 0, r.leader_hint);
    }
  }
  for (auto& q : reads) {
    const std::string context = std::to_string(next_read_id_.fetch_add(1));
    const raft::ProposeResult r = p.raft->read_index(context);
    if (r.status != raft::RaftStatus::Ok) {
      complete(q.done, from_raft(r.status), 0, r.leader_hint);
      continue;
    }
    p.reads_in_flight.emplace(context,
                              Partition::WaitingRead{std::move(q.done), q.deadline, std::nullopt});
  }
  for (NodeId target : transfers) p.raft->transfer_leadership(target);
}

void NodeHost::Impl::expire(Partition& p, env::TimePoint now) {
  for (auto it = p.waiting.begin(); it != p.waiting.end();) {
    if (it->second.deadline <= now) {
      complete(it->second.done, Status::Timeout, it->first, it->second.term);
      it = p.waiting.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = p.reads_in_flight.begin(); it != p.reads_in_flight.end();) {
    if (it->second.deadline <= now) {
      complete(it->second.done, Status::Timeout);
      it = p.reads_in_flight.erase(it);
    } else {
      ++it;
    }
  }
}

void NodeHost::Impl::apply_ready(Partition& p, raft::Ready& rd) {
  if (rd.snapshot) {
    p.applied = std::max(p.applied, rd.snapshot->meta.index);
    p.delivered.store(p.applied);
  }
  for (const auto& e : rd.committed_entries) {
    p.delivered.store(e.index);
    if (e.type == raft::EntryType::Normal && e.tag != 0 && apply_handler) {
      apply_handler(CommittedEntry{p.id, e.index, e.term, e.tag, e.data});
    }
    p.applied = e.index;
    // Everything at or below a committed index is decided: this entry's proposal
    // succeeded if the terms match; any older waiter lost its slot to a new leader.
    while (!p.waiting.empty() && p.waiting.begin()->first <= e.index) {
      auto node = p.waiting.extract(p.waiting.begin());
      const bool mine = node.key() == e.index && node.mapped().term == e.term;
      complete(node.mapped().done, mine ? Status::Ok : Status::Dropped, node.key(),
               node.mapped().term);
    }
  }
  for (const auto& rs : rd.read_states) {
    auto it = p.reads_in_flight.find(rs.context);
    if (it != p.reads_in_flight.end()) it->second.read_index = rs.index;
  }
  for (auto it = p.reads_in_flight.begin(); it != p.reads_in_flight.end();) {
    if (it->second.read_index && *it->second.read_index <= p.applied) {
      complete(it->second.done, Status::Ok, p.applied);
      it = p.reads_in_flight.erase(it);
    } else {
      ++it;
    }
  }
  if (rd.soft_state && rd.soft_state->leader != p.leader) {
    p.leader = rd.soft_state->leader;
    if (leader_handler) leader_handler(LeaderChange{p.id, p.leader, p.raft->term()});
  }
}

void NodeHost::Impl::fail_storage(const std::string& why) {
  {
    std::lock_guard lock(run_mu_);
    if (stop_status_ != Status::StorageFailure) {
      stop_status_ = Status::StorageFailure;
      failure_ = "node " + std::to_string(config_.node_id) +
                 " stopped: its log store failed: " + (why.empty() ? "unknown error" : why);
    }
  }
  // Nothing more may be acknowledged once the disk refused a write.
  std::weak_ptr<Impl> weak = weak_from_this();
  config_.executor->post([weak] {
    if (auto self = weak.lock()) self->stop();
  });
  std::lock_guard lock(run_mu_);
  running_ = false;
}

void NodeHost::Impl::on_batch(transport::Batch&& batch) {
  {
    std::lock_guard lock(heard_mu_);
    last_heard_[batch.from] = config_.clock->now();
  }
  std::vector<Partition*> touched;
  for (auto& envelope : batch.envelopes) {
    Partition* p = find(envelope.partition);
    // A message for a partition this node does not host is dropped alone.
    if (!p) continue;
    const bool work = !is_heartbeat(envelope.message);
    {
      std::lock_guard lock(p->mu);
      p->messages.push_back(std::move(envelope.message));
    }
    if (work) wake(*p);
    touched.push_back(p);
  }
  for (Partition* p : touched) schedule(*p);
}

void NodeHost::Impl::on_unreachable(NodeId peer, std::vector<transport::Envelope>&& lost) {
  std::vector<Partition*> touched;
  for (const auto& envelope : lost) {
    Partition* p = find(envelope.partition);
    if (!p) continue;
    {
      std::lock_guard lock(p->mu);
      p->unreachable.push_back(peer);
    }
    touched.push_back(p);
  }
  for (Partition* p : touched) schedule(*p);
}

// --- NodeHost -------------------------------------------------------------------

std::unique_ptr<NodeHost> NodeHost::create(const NodeHostConfig& config, std::string* error) {
  auto impl = std::make_shared<Impl>(config);
  std::string why;
  if (!impl->open(why)) {
    if (error) *error = why;
    return nullptr;
  }
  return std::unique_ptr<NodeHost>(new NodeHost(std::move(impl)));
}

NodeHost::NodeHost(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeHost::~NodeHost() { impl_->stop(); }

void NodeHost::set_apply_handler(ApplyHandler handler) {
  impl_->apply_handler = std::move(handler);
}
void NodeHost::set_leader_handler(LeaderHandler handler) {
  impl_->leader_handler = std::move(handler);
}
void NodeHost::set_failure_handler(FailureHandler handler) {
  impl_->failure_handler = std::move(handler);
}
void NodeHost::start() { impl_->start(); }
void NodeHost::stop() { impl_->stop(); }

void NodeHost::replicate(PartitionId partition, std::uint32_t type, raft::Bytes payload,
                         ReplicationCallback done) {
  impl_->replicate(partition, type, std::move(payload), std::move(done));
}

std::future<ReplicationResult> NodeHost::replicate(PartitionId partition, std::uint32_t type,
                                                   raft::Bytes payload) {
  auto promise = std::make_shared<std::promise<ReplicationResult>>();
  auto future = promise->get_future();
  impl_->replicate(partition, type, std::move(payload),
                   [promise](const ReplicationResult& r) { promise->set_value(r); });
  return future;
}

void NodeHost::replicate_batch(PartitionId partition, std::vector<BatchEntry> entries,
                               BatchCallback done) {
  impl_->replicate_batch(partition, std::move(entries), std::move(done));
}
NodeId NodeHost::wait_for_leader(PartitionId partition, std::chrono::milliseconds timeout) {
  return impl_->wait_for_leader(partition, timeout);
}
void NodeHost::read_index(PartitionId partition, ReadCallback done) {
  impl_->read_index(partition, std::move(done));
}
Status NodeHost::transfer_leadership(PartitionId partition, NodeId target) {
  return impl_->transfer_leadership(partition, target);
}
Status NodeHost::report_applied(PartitionId partition, Index index) {
  return impl_->report_applied(partition, index);
}
bool NodeHost::is_leader(PartitionId partition) const { return impl_->is_leader(partition); }
NodeId NodeHost::leader_of(PartitionId partition) const { return impl_->leader_of(partition); }
std::vector<PartitionId> NodeHost::partitions() const { return impl_->partition_ids(); }
std::vector<PartitionStatus> NodeHost::status() const { return impl_->status(); }
NodeId NodeHost::id() const { return impl_->id(); }

}  // namespace synod::node

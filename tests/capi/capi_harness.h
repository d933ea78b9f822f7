// Helpers for the C ABI tests: owning wrappers around the handles and a poller that
// collects a node's events until a condition holds.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "synod.h"

namespace synod::capi_test {

// Generous bound for anything that needs an election or a round trip.
inline constexpr std::chrono::seconds kPatience{20};

struct ConfigDeleter {
  void operator()(synod_config* c) const { synod_config_free(c); }
};
struct NetworkDeleter {
  void operator()(synod_network* n) const { synod_network_free(n); }
};
struct NodeDeleter {
  void operator()(synod_node* n) const { synod_node_free(n); }
};
using ConfigPtr = std::unique_ptr<synod_config, ConfigDeleter>;
using NetworkPtr = std::unique_ptr<synod_network, NetworkDeleter>;
using NodePtr = std::unique_ptr<synod_node, NodeDeleter>;

// An event with its payload copied out of the node's buffer.
struct Event {
  synod_event raw{};
  std::string data;
};

ConfigPtr new_config();
NetworkPtr new_network();
// A fast-ticking configuration for node `id` of a cluster of `members`.
ConfigPtr fast_config(std::uint64_t id, const std::vector<std::uint64_t>& members);

// One node and every event polled from it so far.
class PolledNode {
 public:
  explicit PolledNode(NodePtr node) : node_(std::move(node)) {}
  synod_node* get() const { return node_.get(); }
  void reset() { node_.reset(); }

  // Polls until `done(events())` holds; false when kPatience passes first.
  bool poll_until(const std::function<bool(const std::vector<Event>&)>& done);
  // Polls what is queued now, without waiting.
  void drain();
  // One poll that waits up to `timeout_ms` for events; what synod_node_poll returned.
  int poll_once(int timeout_ms);
  const std::vector<Event>& events() const { return events_; }
  // The events of `type`, in order.
  std::vector<Event> of_type(int type) const;
  // The result event carrying `tag`, if one arrived.
  const Event* result(std::uint64_t tag) const;

 private:
  NodePtr node_;
  std::vector<Event> events_;
};

// Makes a node from `config`, failing the test if it cannot.
NodePtr make_node(const synod_config* config);

// The leader of `partition` once every node of `nodes` names it and it leads by its own
// account; 0 when kPatience passes first.
std::uint64_t await_leader(const std::vector<synod_node*>& nodes, std::uint64_t partition);

// Three nodes (ids 1..3) on one in-process network.
struct Cluster {
  // Settings a test adds to every node's configuration.
  using Configure = std::function<void(synod_config*)>;
  explicit Cluster(std::uint32_t partitions = 1, Configure configure = {});
  // Frees node `id` and makes it again with an empty memory store: a node that lost its
  // data and rejoins.
  PolledNode& restart_empty(std::uint64_t id);
  // The leader of `partition` once every node agrees on it; 0 on timeout.
  std::uint64_t await_leader(std::uint64_t partition);
  PolledNode& node(std::uint64_t id) { return *nodes.at(id - 1); }

  NetworkPtr network;
  std::vector<std::unique_ptr<PolledNode>> nodes;
  std::uint32_t partitions;
  Configure configure;

 private:
  NodePtr make(std::uint64_t id) const;
};

}  // namespace synod::capi_test

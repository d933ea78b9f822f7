#include "capi_harness.h"

#include <thread>

namespace synod::capi_test {

ConfigPtr new_config() {
  synod_config* c = nullptr;
  EXPECT_EQ(synod_config_new(&c), SYNOD_OK);
  return ConfigPtr(c);
}

NetworkPtr new_network() {
  synod_network* n = nullptr;
  EXPECT_EQ(synod_network_new(&n), SYNOD_OK);
  return NetworkPtr(n);
}

ConfigPtr fast_config(std::uint64_t id, const std::vector<std::uint64_t>& members) {
  ConfigPtr c = new_config();
  EXPECT_EQ(synod_config_set_node_id(c.get(), id), SYNOD_OK);
  for (auto m : members) EXPECT_EQ(synod_config_add_member(c.get(), m), SYNOD_OK);
  EXPECT_EQ(synod_config_set_tick_interval_ms(c.get(), 5), SYNOD_OK);
  EXPECT_EQ(synod_config_set_worker_threads(c.get(), 1), SYNOD_OK);
  EXPECT_EQ(synod_config_set_seed(c.get(), id * 7919), SYNOD_OK);
  return c;
}

NodePtr make_node(const synod_config* config) {
  synod_node* n = nullptr;
  const int status = synod_node_new(config, &n);
  EXPECT_EQ(status, SYNOD_OK) << synod_last_error();
  return NodePtr(n);
}

bool PolledNode::poll_until(const std::function<bool(const std::vector<Event>&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!done(events_)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (poll_once(50) < 0) return done(events_);
  }
  return true;
}

void PolledNode::drain() {
  while (poll_once(0) > 0) {
  }
}

int PolledNode::poll_once(int timeout_ms) {
  synod_event batch[64];
  const int n = synod_node_poll(node_.get(), batch, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    Event e;
    e.raw = batch[i];
    if (batch[i].len) e.data.assign(reinterpret_cast<const char*>(batch[i].data), batch[i].len);
    e.raw.data = nullptr;
    events_.push_back(std::move(e));
  }
  return n;
}

std::vector<Event> PolledNode::of_type(int type) const {
  std::vector<Event> out;
  for (const auto& e : events_) {
    if (e.raw.type == type) out.push_back(e);
  }
  return out;
}

const Event* PolledNode::result(std::uint64_t tag) const {
  for (const auto& e : events_) {
    if ((e.raw.type == SYNOD_EVENT_REPLICATED || e.raw.type == SYNOD_EVENT_READ_INDEX) &&
        e.raw.tag == tag) {
      return &e;
    }
  }
  return nullptr;
}

Cluster::Cluster(std::uint32_t partitions, Configure configure)
    : network(new_network()), partitions(partitions), configure(std::move(configure)) {
  for (std::uint64_t id = 1; id <= 3; ++id) nodes.push_back(std::make_unique<PolledNode>(make(id)));
}

NodePtr Cluster::make(std::uint64_t id) const {
  ConfigPtr c = fast_config(id, {1, 2, 3});
  EXPECT_EQ(synod_config_set_network(c.get(), network.get()), SYNOD_OK);
  EXPECT_EQ(synod_config_set_user_partitions(c.get(), partitions), SYNOD_OK);
  if (configure) configure(c.get());
  return make_node(c.get());
}

PolledNode& Cluster::restart_empty(std::uint64_t id) {
  // Freed first: the network takes one endpoint per node id.
  nodes.at(id - 1)->reset();
  nodes.at(id - 1) = std::make_unique<PolledNode>(make(id));
  return node(id);
}

std::uint64_t await_leader(const std::vector<synod_node*>& nodes, std::uint64_t partition) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint64_t agreed = 0;
    bool all = true;
    for (synod_node* n : nodes) {
      std::uint64_t leader = 0;
      if (synod_node_wait_for_leader(n, partition, 100, &leader) != SYNOD_OK ||
          (agreed != 0 && leader != agreed)) {
        all = false;
        break;
      }
      agreed = leader;
    }
    if (all && agreed != 0) {
      int is_leader = 0;
      for (synod_node* n : nodes) {
        std::uint64_t id = 0;
        if (synod_node_id(n, &id) == SYNOD_OK && id == agreed) {
          synod_node_is_leader(n, partition, &is_leader);
        }
      }
      if (is_leader) return agreed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 0;
}

std::uint64_t Cluster::await_leader(std::uint64_t partition) {
  std::vector<synod_node*> running;
  for (auto& n : nodes) {
    if (n->get()) running.push_back(n->get());
  }
  return capi_test::await_leader(running, partition);
}

}  // namespace synod::capi_test

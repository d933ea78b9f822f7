// A three-node cluster driven through the C ABI alone: proposals, entries, reads,
// leadership, events and the event fd.
#include <poll.h>

#include <cstring>
#include <string>
#include <thread>

#include "capi_harness.h"

namespace synod::capi_test {
namespace {

const std::uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

bool fd_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

std::uint64_t follower_of(std::uint64_t leader) { return leader == 1 ? 2 : 1; }

TEST(CapiCluster, ReplicatesAndDeliversEntriesInOrderOnEveryNode) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& l = cluster.node(leader);
  for (std::uint64_t tag = 1; tag <= 20; ++tag) {
    const std::string payload = "value-" + std::to_string(tag);
    ASSERT_EQ(synod_node_replicate(l.get(), 1, 7, bytes(payload), payload.size(), tag), SYNOD_OK)
        << synod_last_error();
  }
  ASSERT_TRUE(l.poll_until([&](const auto&) {
    for (std::uint64_t tag = 1; tag <= 20; ++tag) {
      if (!l.result(tag)) return false;
    }
    return true;
  }));
  std::uint64_t last_index = 0;
  for (std::uint64_t tag = 1; tag <= 20; ++tag) {
    const Event* r = l.result(tag);
    EXPECT_EQ(r->raw.status, SYNOD_OK);
    EXPECT_EQ(r->raw.partition, 1u);
    EXPECT_GT(r->raw.index, last_index);
    EXPECT_GT(r->raw.term, 0u);
    last_index = r->raw.index;
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    PolledNode& n = cluster.node(id);
    ASSERT_TRUE(n.poll_until([](const auto& events) {
      int entries = 0;
      for (const auto& e : events) entries += e.raw.type == SYNOD_EVENT_ENTRY;
      return entries == 20;
    })) << "node " << id;
    const auto entries = n.of_type(SYNOD_EVENT_ENTRY);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(entries[i].data, "value-" + std::to_string(i + 1));
      EXPECT_EQ(entries[i].raw.entry_type, 7u);
      EXPECT_EQ(entries[i].raw.partition, 1u);
      EXPECT_EQ(entries[i].raw.index, l.result(i + 1)->raw.index);
    }
  }
}

TEST(CapiCluster, BatchYieldsOneResultPerEntryInOrder) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& l = cluster.node(leader);
  const std::string a = "a", b = "bb", c;
  const synod_entry entries[] = {{1, bytes(a), a.size()}, {2, bytes(b), b.size()}, {3, nullptr, 0}};
  ASSERT_EQ(synod_node_replicate_batch(l.get(), 1, entries, 3, 99), SYNOD_OK) << synod_last_error();
  ASSERT_TRUE(l.poll_until([](const auto& events) {
    int results = 0;
    for (const auto& e : events) results += e.raw.type == SYNOD_EVENT_REPLICATED && e.raw.tag == 99;
    return results == 3;
  }));
  const auto results = l.of_type(SYNOD_EVENT_REPLICATED);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i].raw.status, SYNOD_OK);
    EXPECT_EQ(results[i].raw.batch_position, i);
    if (i > 0) {
      EXPECT_EQ(results[i].raw.index, results[i - 1].raw.index + 1);
    }
  }
  ASSERT_TRUE(l.poll_until([](const auto& events) {
    int entries = 0;
    for (const auto& e : events) entries += e.raw.type == SYNOD_EVENT_ENTRY;
    return entries == 3;
  }));
  const auto delivered = l.of_type(SYNOD_EVENT_ENTRY);
  EXPECT_EQ(delivered[0].data, "a");
  EXPECT_EQ(delivered[1].data, "bb");
  EXPECT_EQ(delivered[2].data, "");
  EXPECT_EQ(delivered[2].raw.entry_type, 3u);
}

TEST(CapiCluster, BlockingFormsAnswerWithoutEvents) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& l = cluster.node(leader);
  const std::string payload = "blocking";
  synod_result result{};
  ASSERT_EQ(synod_node_replicate_wait(l.get(), 1, 1, bytes(payload), payload.size(), &result),
            SYNOD_OK)
      << synod_last_error();
  EXPECT_EQ(result.status, SYNOD_OK);
  EXPECT_GT(result.index, 0u);
  EXPECT_GT(result.term, 0u);
  synod_result read{};
  ASSERT_EQ(synod_node_read_index_wait(l.get(), 1, &read), SYNOD_OK) << synod_last_error();
  EXPECT_GE(read.index, result.index);

  // A follower answers not-leader with the leader's id.
  PolledNode& f = cluster.node(follower_of(leader));
  synod_result refused{};
  EXPECT_EQ(synod_node_replicate_wait(f.get(), 1, 1, bytes(payload), payload.size(), &refused),
            SYNOD_E_NOT_LEADER);
  EXPECT_EQ(refused.status, SYNOD_E_NOT_LEADER);
  EXPECT_EQ(refused.leader_hint, leader);
  EXPECT_NE(std::string(synod_last_error()).find("not leader"), std::string::npos);
  l.drain();
  EXPECT_EQ(l.of_type(SYNOD_EVENT_REPLICATED).size(), 0u);
  EXPECT_EQ(l.of_type(SYNOD_EVENT_READ_INDEX).size(), 0u);
}

TEST(CapiCluster, FollowerProposalIsAnsweredNotLeaderWithHint) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& f = cluster.node(follower_of(leader));
  const std::string payload = "x";
  const int status = synod_node_replicate(f.get(), 1, 1, bytes(payload), 1, 5);
  if (status == SYNOD_OK) {
    ASSERT_TRUE(f.poll_until([&](const auto&) { return f.result(5) != nullptr; }));
    EXPECT_EQ(f.result(5)->raw.status, SYNOD_E_NOT_LEADER);
    EXPECT_EQ(f.result(5)->raw.leader_hint, leader);
  } else {
    EXPECT_EQ(status, SYNOD_E_NOT_LEADER);
  }
}

TEST(CapiCluster, ReadIndexEventFollowsItsRequest) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& l = cluster.node(leader);
  ASSERT_EQ(synod_node_read_index(l.get(), 1, 42), SYNOD_OK) << synod_last_error();
  ASSERT_TRUE(l.poll_until([&](const auto&) { return l.result(42) != nullptr; }));
  EXPECT_EQ(l.result(42)->raw.type, SYNOD_EVENT_READ_INDEX);
  EXPECT_EQ(l.result(42)->raw.status, SYNOD_OK);
  EXPECT_GT(l.result(42)->raw.index, 0u);
}

TEST(CapiCluster, LeaderChangesArriveAsEvents) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    PolledNode& n = cluster.node(id);
    ASSERT_TRUE(n.poll_until([&](const auto& events) {
      for (const auto& e : events) {
        if (e.raw.type == SYNOD_EVENT_LEADER_CHANGED && e.raw.partition == 1 &&
            e.raw.leader_hint == leader) {
          return e.raw.term > 0;
        }
      }
      return false;
    })) << "node " << id;
  }
}

TEST(CapiCluster, TransferMovesLeadership) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  const std::uint64_t target = follower_of(leader);
  // The target must hold the leader's log before it can take over; a committed write
  // on every node makes that likely, and the transfer is retried until it happens.
  synod_result result{};
  const std::string payload = "before transfer";
  ASSERT_EQ(synod_node_replicate_wait(cluster.node(leader).get(), 1, 1, bytes(payload),
                                      payload.size(), &result),
            SYNOD_OK);
  PolledNode& t = cluster.node(target);
  ASSERT_TRUE(t.poll_until([&](const auto&) {
    const int status = synod_node_transfer_leadership(cluster.node(leader).get(), 1, target);
    EXPECT_TRUE(status == SYNOD_OK || status == SYNOD_E_TRANSFER_IN_PROGRESS ||
                status == SYNOD_E_NOT_LEADER || status == SYNOD_E_NO_LEADER)
        << synod_errstr(status);
    int is_leader = 0;
    synod_node_is_leader(t.get(), 1, &is_leader);
    return is_leader == 1;
  }));
}

TEST(CapiCluster, IsolatedLeaderIsReplacedAndWritesContinue) {
  Cluster cluster;
  const std::uint64_t old_leader = cluster.await_leader(1);
  ASSERT_NE(old_leader, 0u);
  ASSERT_EQ(synod_network_isolate(cluster.network.get(), old_leader), SYNOD_OK);
  const std::uint64_t survivor = follower_of(old_leader);
  PolledNode& s = cluster.node(survivor);
  std::uint64_t new_leader = 0;
  ASSERT_TRUE(s.poll_until([&](const auto&) {
    return synod_node_leader(s.get(), 1, &new_leader) == SYNOD_OK && new_leader != 0 &&
           new_leader != old_leader;
  }));
  const std::string payload = "after failover";
  synod_result result{};
  ASSERT_TRUE(s.poll_until([&](const auto&) {
    return synod_node_replicate_wait(cluster.node(new_leader).get(), 1, 1, bytes(payload),
                                     payload.size(), &result) == SYNOD_OK;
  }));
  ASSERT_EQ(synod_network_heal(cluster.network.get()), SYNOD_OK);
  PolledNode& o = cluster.node(old_leader);
  ASSERT_TRUE(o.poll_until([&](const auto& events) {
    for (const auto& e : events) {
      if (e.raw.type == SYNOD_EVENT_ENTRY && e.data == payload) return true;
    }
    return false;
  }));
}

TEST(CapiCluster, EventFdIsReadableExactlyWhileEventsWait) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& l = cluster.node(leader);
  int fd = -1;
  ASSERT_EQ(synod_node_event_fd(l.get(), &fd), SYNOD_OK);
  ASSERT_GE(fd, 0);
  l.drain();
  const std::string payload = "fd";
  synod_result result{};
  ASSERT_EQ(synod_node_replicate_wait(l.get(), 1, 1, bytes(payload), 2, &result), SYNOD_OK);
  // The entry event is queued once the leader applies it.
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, static_cast<int>(kPatience.count() * 1000)), 1);
  size_t pending = 0;
  ASSERT_EQ(synod_node_pending_events(l.get(), &pending), SYNOD_OK);
  EXPECT_GT(pending, 0u);
  EXPECT_TRUE(fd_readable(fd));
  l.drain();
  ASSERT_EQ(synod_node_pending_events(l.get(), &pending), SYNOD_OK);
  if (pending == 0) {
    EXPECT_FALSE(fd_readable(fd));
  }
}

TEST(CapiCluster, StopAnswersLaterCallsAndEndsThePollLoop) {
  Cluster cluster;
  const std::uint64_t leader = cluster.await_leader(1);
  ASSERT_NE(leader, 0u);
  PolledNode& l = cluster.node(leader);
  ASSERT_EQ(synod_node_stop(l.get()), SYNOD_OK);
  ASSERT_EQ(synod_node_stop(l.get()), SYNOD_OK);
  const std::string payload = "late";
  EXPECT_EQ(synod_node_replicate(l.get(), 1, 1, bytes(payload), 4, 1), SYNOD_E_SHUTTING_DOWN);
  EXPECT_EQ(synod_node_read_index(l.get(), 1, 2), SYNOD_E_SHUTTING_DOWN);
  synod_result result{};
  EXPECT_EQ(synod_node_replicate_wait(l.get(), 1, 1, bytes(payload), 4, &result),
            SYNOD_E_SHUTTING_DOWN);
  EXPECT_EQ(result.status, SYNOD_E_SHUTTING_DOWN);
  EXPECT_EQ(synod_node_report_applied(l.get(), 1, 0), SYNOD_E_SHUTTING_DOWN);
  // Queries still answer; the poll loop drains what is left, then learns of the stop.
  int is_leader = 1;
  EXPECT_EQ(synod_node_is_leader(l.get(), 1, &is_leader), SYNOD_OK);
  synod_event events[16];
  int n = 0;
  int rounds = 0;
  while ((n = synod_node_poll(l.get(), events, 16, -1)) > 0) ASSERT_LT(++rounds, 100000);
  EXPECT_EQ(n, SYNOD_E_SHUTTING_DOWN);
  EXPECT_EQ(synod_node_poll(l.get(), events, 16, 0), SYNOD_E_SHUTTING_DOWN);
}

TEST(CapiCluster, StatusJsonDescribesEveryPartition) {
  Cluster cluster(3);
  const std::uint64_t leader = cluster.await_leader(2);
  ASSERT_NE(leader, 0u);
  char* json = nullptr;
  size_t len = 0;
  ASSERT_EQ(synod_node_status_json(cluster.node(leader).get(), &json, &len), SYNOD_OK);
  ASSERT_NE(json, nullptr);
  const std::string text(json, len);
  EXPECT_EQ(std::strlen(json), len);
  synod_free(json);
  EXPECT_EQ(text.front(), '{');
  EXPECT_EQ(text.back(), '}');
  EXPECT_NE(text.find("\"node\":" + std::to_string(leader)), std::string::npos) << text;
  for (int p = 0; p <= 3; ++p) {
    EXPECT_NE(text.find("\"partition\":" + std::to_string(p)), std::string::npos) << text;
  }
  EXPECT_NE(text.find("\"role\":\"leader\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"transport\":{\"batches_sent\":"), std::string::npos) << text;

  uint64_t ids[8] = {};
  size_t count = 0;
  ASSERT_EQ(synod_node_partitions(cluster.node(leader).get(), nullptr, 0, &count), SYNOD_OK);
  EXPECT_EQ(count, 4u);
  ASSERT_EQ(synod_node_partitions(cluster.node(leader).get(), ids, 2, &count), SYNOD_OK);
  EXPECT_EQ(count, 4u);
  EXPECT_EQ(ids[0], 0u);
  EXPECT_EQ(ids[1], 1u);
  EXPECT_EQ(ids[2], 0u);
}

}  // namespace
}  // namespace synod::capi_test

namespace synod::capi_test {
namespace {

TEST(CapiLifecycle, StopWakesAThreadWaitingForALeader) {
  // One member of three, alone: no leader can ever be elected.
  NetworkPtr network = new_network();
  ConfigPtr c = fast_config(1, {1, 2, 3});
  ASSERT_EQ(synod_config_set_network(c.get(), network.get()), SYNOD_OK);
  NodePtr node = make_node(c.get());
  std::uint64_t leader = 99;
  int status = SYNOD_OK;
  std::thread waiter([&] { status = synod_node_wait_for_leader(node.get(), 1, -1, &leader); });
  std::uint64_t meanwhile = 0;
  EXPECT_EQ(synod_node_wait_for_leader(node.get(), 1, 50, &meanwhile), SYNOD_E_TIMEOUT);
  ASSERT_EQ(synod_node_stop(node.get()), SYNOD_OK);
  waiter.join();
  EXPECT_EQ(status, SYNOD_E_SHUTTING_DOWN);
  EXPECT_EQ(leader, 0u);
}

// A host that stops polling is pushed back, not flooded: once max_pending_events wait,
// requests are refused with QUEUE_FULL; nothing is lost, and polling brings room back.
TEST(CapiCluster, AHostThatStopsPollingGetsQueueFullAndLosesNoEvent) {
  ConfigPtr config = fast_config(1, {1});
  ASSERT_EQ(synod_config_set_max_pending_events(config.get(), 16), SYNOD_OK);
  PolledNode n(make_node(config.get()));
  ASSERT_TRUE(n.poll_until([&](const auto& events) {
    for (const auto& e : events) {
      if (e.raw.type == SYNOD_EVENT_LEADER_CHANGED && e.raw.partition == 1 && e.raw.leader_hint == 1) {
        return true;
      }
    }
    return false;
  }));
  const auto before = n.of_type(SYNOD_EVENT_ENTRY).size();
  std::uint64_t accepted = 0;
  int refused = SYNOD_OK;
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  const std::string payload = "p";
  while (refused == SYNOD_OK && std::chrono::steady_clock::now() < deadline) {
    refused = synod_node_replicate(n.get(), 1, 1, bytes(payload), 1, accepted + 1);
    if (refused == SYNOD_OK) ++accepted;
  }
  ASSERT_EQ(refused, SYNOD_E_QUEUE_FULL) << synod_last_error();
  EXPECT_EQ(synod_node_read_index(n.get(), 1, 0), SYNOD_E_QUEUE_FULL);

  // Every accepted proposal is answered and its entry delivered, in log order.
  ASSERT_TRUE(n.poll_until([&](const auto&) {
    return n.of_type(SYNOD_EVENT_REPLICATED).size() == accepted &&
           n.of_type(SYNOD_EVENT_ENTRY).size() == before + accepted;
  }));
  const auto entries = n.of_type(SYNOD_EVENT_ENTRY);
  for (std::size_t i = 1; i < entries.size(); ++i) {
    ASSERT_EQ(entries[i].raw.index, entries[i - 1].raw.index + 1);
  }
  for (const auto& r : n.of_type(SYNOD_EVENT_REPLICATED)) EXPECT_EQ(r.raw.status, SYNOD_OK);
  EXPECT_EQ(synod_node_replicate(n.get(), 1, 1, bytes(payload), 1, 0), SYNOD_OK);
}

}  // namespace
}  // namespace synod::capi_test

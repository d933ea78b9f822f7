package io.synod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LifecycleTest {
  static boolean threadsAlive(long nodeId) {
    return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive()
        && (t.getName().equals("synod-poll-" + nodeId) || t.getName().equals("synod-events-" + nodeId)));
  }

  @Test
  void lonelyNodeTimesOutWaitingForALeaderAndRefusesRequests() {
    try (InMemoryNetwork network = new InMemoryNetwork();
         RaftNode lonely = RaftNode.start(TestCluster.fast(RaftConfig.builder(1))
             .members(1, 2, 3).network(network).build())) {
      RequestTimeoutException e = assertThrows(RequestTimeoutException.class,
          () -> lonely.waitForLeader(1, Duration.ofMillis(100)));
      assertEquals(Status.TIMEOUT, e.status());
      assertInstanceOf(NoLeaderException.class, BadInputTest.failure(lonely.replicate(1, 1, new byte[1])));
      assertTrue(lonely.leader(1).isEmpty());
      assertFalse(lonely.isLeader(1));
    }
  }

  @Test
  void requestsOfAnIsolatedLeaderTimeOutAndCancelledOnesAreForgotten() throws Exception {
    // The isolated leader steps down after an election timeout (check quorum): that is
    // made longer than the request timeout, so the requests are accepted and time out.
    try (TestCluster cluster = new TestCluster(3,
        b -> b.requestTimeout(Duration.ofMillis(300)).electionTicks(200))) {
      RaftNode leader = cluster.leader(1);
      cluster.network.isolate(leader.id());
      CompletableFuture<Replicated> cancelled = leader.replicate(1, 1, new byte[] {1});
      CompletableFuture<Replicated> timedOut = leader.replicate(1, 1, new byte[] {2});
      assertTrue(cancelled.cancel(true));
      Throwable failure = BadInputTest.failure(timedOut);
      assertInstanceOf(RequestTimeoutException.class, failure);
      assertTrue(cancelled.isCancelled());
      // The cancelled request's own result still arrives, and finds no one waiting.
      TestCluster.eventually("no request pending", () -> leader.pendingRequests() == 0);
      cluster.network.heal();
      RaftNode next = cluster.leader(1);
      next.replicate(1, 1, new byte[] {3}).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void closeWithNothingPendingEndsTheNodesThreads() {
    TestCluster cluster = new TestCluster(3);
    cluster.leader(1);
    for (long id : cluster.nodes.keySet()) {
      assertTrue(threadsAlive(id));
    }
    cluster.close();
    for (long id : cluster.nodes.keySet()) {
      assertFalse(threadsAlive(id), "threads of node " + id + " ended");
      cluster.node(id).close();  // again: nothing happens
    }
  }

  @Test
  void closeWithRequestsPendingCompletesEveryFuture() {
    TestCluster cluster = new TestCluster(3,
        b -> b.requestTimeout(Duration.ofSeconds(30)).electionTicks(400));
    RaftNode leader = cluster.leader(1);
    cluster.network.isolate(leader.id());  // it stays leader for a while, committing nothing
    List<CompletableFuture<?>> futures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      futures.add(leader.replicate(1, 1, new byte[] {(byte) i}));
      futures.add(leader.readIndex(1));
    }
    futures.add(leader.replicateBatch(1, List.of(new Proposal(1, new byte[1]), new Proposal(2, new byte[2]))));
    leader.close();
    for (CompletableFuture<?> f : futures) {
      assertInstanceOf(ShuttingDownException.class, BadInputTest.failure(f));
    }
    assertEquals(0, leader.pendingRequests());
    assertFalse(threadsAlive(leader.id()));
    cluster.close();
  }

  @Test
  void closeFromTheNodesOwnListenerDoesNotWaitForItself() throws Exception {
    RaftNode[] self = new RaftNode[1];
    CountDownLatch closedInListener = new CountDownLatch(1);
    try (InMemoryNetwork network = new InMemoryNetwork()) {
      self[0] = RaftNode.start(TestCluster.fast(RaftConfig.builder(1)).members(1).network(network)
          .onEntry(e -> {
            self[0].close();
            closedInListener.countDown();
          }).build());
      self[0].waitForLeader(1, TestCluster.WAIT);
      self[0].replicate(1, 1, new byte[1]);
      assertTrue(closedInListener.await(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS));
      self[0].close();  // from here: waits for the threads
      assertFalse(threadsAlive(1));
      assertTrue(self[0].isClosed());
    }
  }

  @Test
  void closeWakesAWaitForALeader() throws Exception {
    try (InMemoryNetwork network = new InMemoryNetwork()) {
      RaftNode lonely = RaftNode.start(TestCluster.fast(RaftConfig.builder(1)).members(1, 2, 3)
          .network(network).build());
      CompletableFuture<Throwable> waiter = CompletableFuture.supplyAsync(() -> {
        try {
          lonely.waitForLeader(1, Duration.ofMinutes(5));
          return null;
        } catch (SynodException e) {
          return e;
        }
      });
      TestCluster.eventually("the waiter to block", () -> waitingForLeader());
      lonely.close();
      assertInstanceOf(ShuttingDownException.class,
                       waiter.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS));
    }
  }

  private static boolean waitingForLeader() {
    return Thread.getAllStackTraces().values().stream().anyMatch(stack -> stack.length > 0
        && stack[0].isNativeMethod() && stack[0].getMethodName().equals("synod_node_wait_for_leader"));
  }
}

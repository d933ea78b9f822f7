package io.synod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class BadInputTest {
  /** The cause a future failed with. */
  static Throwable failure(CompletableFuture<?> future) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> future.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void unknownPartitionsAreRefused() {
    try (TestCluster cluster = new TestCluster(1)) {
      RaftNode node = cluster.leader(1);
      UnknownPartitionException e = assertInstanceOf(UnknownPartitionException.class,
          failure(node.replicate(99, 1, new byte[] {1})));
      assertTrue(e.getMessage().contains("99"), e.getMessage());
      assertInstanceOf(UnknownPartitionException.class, failure(node.readIndex(99)));
      assertThrows(UnknownPartitionException.class, () -> node.isLeader(99));
      assertThrows(UnknownPartitionException.class, () -> node.reportApplied(99, 1));
      assertEquals(0, node.pendingRequests());
    }
  }

  @Test
  void oversizedPayloadsAreRefusedAndTheLimitItselfFits() throws Exception {
    try (TestCluster cluster = new TestCluster(1, b -> b.maxPayloadBytes(1024))) {
      RaftNode node = cluster.leader(1);
      node.replicate(1, 1, new byte[1024]).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      PayloadTooLargeException e = assertInstanceOf(PayloadTooLargeException.class,
          failure(node.replicate(1, 1, new byte[1025])));
      assertEquals(Status.PAYLOAD_TOO_LARGE, e.status());
      assertInstanceOf(PayloadTooLargeException.class, failure(node.replicateBatch(1,
          List.of(new Proposal(1, new byte[1]), new Proposal(1, new byte[4096])))));
    }
  }

  @Test
  void invalidLogTypesAndEmptyBatchesAreRefused() {
    try (TestCluster cluster = new TestCluster(1)) {
      RaftNode node = cluster.leader(1);
      assertThrows(IllegalArgumentException.class, () -> node.replicate(1, 0, new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> node.replicate(1, 0x80000000L, new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> node.replicate(1, "", new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> new Proposal("\ud800", new byte[1]));
      assertThrows(IllegalArgumentException.class, () -> node.replicateBatch(1, List.of()));
      assertThrows(NullPointerException.class, () -> node.replicate(1, 1, null));
    }
  }

  @Test
  void aClosedNodeRefusesEveryCallAndClosesTwice() {
    TestCluster cluster = new TestCluster(1);
    RaftNode node = cluster.node(1);
    cluster.close();
    node.close();
    assertTrue(node.isClosed());
    List<Executable> calls = List.of(
        () -> node.isLeader(1), () -> node.leader(1), () -> node.waitForLeader(1, Duration.ofSeconds(1)),
        () -> node.transferLeadership(1, 2), () -> node.reportApplied(1, 1), node::partitions,
        node::listenPort, () -> node.setPeerAddress(2, "127.0.0.1:1"), node::statusJson);
    for (Executable call : calls) {
      assertThrows(ShuttingDownException.class, call);
    }
    assertInstanceOf(ShuttingDownException.class, failure(node.replicate(1, 1, new byte[1])));
    assertInstanceOf(ShuttingDownException.class, failure(node.readIndex(1)));
    assertInstanceOf(ShuttingDownException.class,
        failure(node.replicateBatch(1, List.of(new Proposal(1, new byte[1])))));
    assertThrows(IllegalStateException.class, () -> cluster.network.isolate(1));
  }

  @Test
  void badSettingsFailAtBuildAndBadConfigurationsAtStart() {
    InvalidArgumentException tooLarge = assertThrows(InvalidArgumentException.class,
        () -> RaftConfig.builder(1).maxPayloadBytes(1L << 40).build());
    assertTrue(tooLarge.getMessage().contains("maxPayloadBytes"), tooLarge.getMessage());
    assertThrows(InvalidArgumentException.class, () -> RaftConfig.builder(0).build());
    assertThrows(InvalidArgumentException.class,
        () -> RaftConfig.builder(1).sharedSecret(new byte[4]).build());
    assertThrows(IllegalArgumentException.class, () -> RaftConfig.builder(1).userPartitions(-1));
    // Not one of the members; election not above the heartbeat.
    assertThrows(ConfigException.class,
        () -> RaftNode.start(RaftConfig.builder(4).members(1, 2, 3).build()));
    assertThrows(ConfigException.class, () -> RaftNode.start(
        RaftConfig.builder(1).members(1).electionTicks(2).heartbeatTicks(2).build()));
    try (InMemoryNetwork network = new InMemoryNetwork();
         RaftNode node = RaftNode.start(RaftConfig.builder(1).members(1).network(network).build())) {
      assertThrows(SynodException.class, node::listenPort);  // no network transport
    }
  }
}

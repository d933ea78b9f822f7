package io.synod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The partition map on a three-node cluster: create, remove, read, route. */
class PartitionMapTest {
  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static Throwable failure(CompletableFuture<?> future) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> future.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void bootstrapMapAndRouting() {
    try (TestCluster cluster = new TestCluster(3, b -> b.userPartitions(2))) {
      RaftNode leader = cluster.leader(0);
      PartitionMap map = leader.partitionMap();
      assertEquals(1, map.version());
      assertEquals(3, map.nextId());
      assertEquals(List.of(
          new PartitionMap.Partition(1, PartitionMap.State.ACTIVE, PartitionMap.Mode.HASH_RANGE,
                                     0, Long.MAX_VALUE, 1, 0),
          new PartitionMap.Partition(2, PartitionMap.State.ACTIVE, PartitionMap.Mode.HASH_RANGE,
                                     Long.MIN_VALUE, -1L, 1, 0)), map.partitions());
      // bindings/routing_vectors.json: "" hashes to ef46db3751d8e999, "ab" to 65f708ca92d04a61.
      Route empty = leader.route(new byte[0]).orElseThrow();
      assertEquals(new Route(2, 1, PartitionMap.State.ACTIVE), empty);
      assertEquals(empty, leader.routeHash(Long.parseUnsignedLong("ef46db3751d8e999", 16)).orElseThrow());
      assertEquals(1, leader.route("ab").orElseThrow().partition());
      assertEquals(1, leader.route("ab".getBytes(StandardCharsets.UTF_8)).orElseThrow().partition());
    }
  }

  @Test
  void createAndRemoveAnUnroutedPartition() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(0);
      long version = leader.partitionMap().version();
      PartitionMapChange created =
          await(leader.createPartition(PartitionMap.Mode.UNROUTED, 0, 0, version));
      assertEquals(2, created.partition());
      assertEquals(version + 1, created.mapVersion());
      assertTrue(created.index() > 0);
      for (RaftNode node : cluster.nodes.values()) {
        TestCluster.eventually("the node runs partition 2", () -> node.partitions().contains(2L)
            && node.partitionMap().version() == version + 1);
      }
      RaftNode partitionLeader = cluster.leader(2);
      assertTrue(await(partitionLeader.replicate(2, "Note", new byte[] {1})).index() > 0);

      Throwable stale = failure(leader.removePartition(2, version));
      assertInstanceOf(StaleMapVersionException.class, stale);
      assertTrue(stale.getMessage().contains("stale map version"), stale.getMessage());

      PartitionMapChange removed = await(leader.removePartition(2, version + 1));
      assertEquals(version + 2, removed.mapVersion());
      for (RaftNode node : cluster.nodes.values()) {
        TestCluster.eventually("the node stopped partition 2", () -> !node.partitions().contains(2L));
      }
      assertEquals(PartitionMap.State.REMOVED, leader.partitionMap().find(2).orElseThrow().state());
      assertEquals(3, await(leader.createPartition()).partition());
    }
  }

  @Test
  void refusalsFailWithTheirStatus() {
    try (TestCluster cluster = new TestCluster(3, b -> b.userPartitions(2))) {
      RaftNode leader = cluster.leader(0);
      Throwable overlap = failure(leader.createPartition(PartitionMap.Mode.HASH_RANGE, 10, 20, 0));
      assertInstanceOf(MapConflictException.class, overlap);
      assertTrue(overlap.getMessage().contains("overlapping ranges"), overlap.getMessage());
      assertInstanceOf(MapConflictException.class, failure(leader.removePartition(1, 0)));
      assertInstanceOf(UnknownPartitionException.class, failure(leader.removePartition(99, 0)));
      assertInstanceOf(SystemPartitionException.class, failure(leader.removePartition(0, 0)));
      assertInstanceOf(InvalidArgumentException.class,
          failure(leader.createPartition(PartitionMap.Mode.HASH_RANGE, 5, 4, 0)));
      RaftNode follower = cluster.nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
      Throwable notLeader = failure(follower.createPartition());
      assertInstanceOf(NotLeaderException.class, notLeader);
      assertEquals(leader.id(), ((NotLeaderException) notLeader).leaderHint().orElse(0));
      assertEquals(1, leader.partitionMap().version());
      assertFalse(leader.partitionMap().find(3).isPresent());
    }
  }
}

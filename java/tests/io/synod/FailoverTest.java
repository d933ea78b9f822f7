package io.synod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FailoverTest {
  @Test
  void aStoppedLeaderIsReplacedAndFollowersNameTheNewOne() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode old = cluster.leader(1);
      List<Long> acknowledged = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        acknowledged.add(old.replicate(1, 1, new byte[] {(byte) i})
            .get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS).index());
      }
      old.close();
      List<Long> survivors = new ArrayList<>(cluster.nodes.keySet());
      survivors.remove(old.id());
      RaftNode leader = cluster.leader(1, survivors, old.id());
      assertNotEquals(old.id(), leader.id());

      RaftNode follower = cluster.node(survivors.get(0) == leader.id() ? survivors.get(1) : survivors.get(0));
      ExecutionException refused = assertThrows(ExecutionException.class,
          () -> follower.replicate(1, 1, new byte[] {1}).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS));
      NotLeaderException notLeader = assertInstanceOf(NotLeaderException.class, refused.getCause());
      assertEquals(Status.NOT_LEADER, notLeader.status());
      assertEquals(leader.id(), notLeader.leaderHint().orElseThrow());
      assertThrows(ShuttingDownException.class, () -> old.isLeader(1));

      // The new leader goes on, and nothing acknowledged before the failover is lost.
      long next = leader.replicate(1, 2, new byte[] {42}).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS).index();
      List<Entry> seen = cluster.awaitEntries(follower.id(), 11);
      for (int i = 0; i < 10; i++) {
        assertEquals(acknowledged.get(i), seen.get(i).index());
        assertEquals(i, seen.get(i).data()[0]);
      }
      assertEquals(next, seen.get(10).index());
    }
  }

  @Test
  void anIsolatedLeaderIsReplacedAndCatchesUpWhenHealed() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode old = cluster.leader(1);
      cluster.network.isolate(old.id());
      List<Long> others = new ArrayList<>(cluster.nodes.keySet());
      others.remove(old.id());
      RaftNode leader = cluster.leader(1, others, old.id());
      long index = leader.replicate(1, 3, new byte[] {3}).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS).index();
      cluster.network.heal();
      cluster.await("the old leader to apply the new entry",
          () -> cluster.entriesOf(old.id()).stream().anyMatch(e -> e.index() == index && e.type().equals(LogType.of(3))));
    }
  }
}

package io.synod;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ClusterTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void threeNodesDeliverEveryEntryInOrderOnEveryNode() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(1);
      List<CompletableFuture<Replicated>> futures = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        futures.add(leader.replicate(1, 1 + i % 3, bytes("entry-" + i)));
      }
      long lastIndex = 0;
      for (CompletableFuture<Replicated> f : futures) {
        Replicated r = f.get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(r.index() > lastIndex, "indexes grow in proposal order");
        lastIndex = r.index();
      }
      for (long id : cluster.nodes.keySet()) {
        List<Entry> seen = cluster.awaitEntries(id, 50);
        assertEquals(50, seen.size());
        for (int i = 0; i < 50; i++) {
          Entry e = seen.get(i);
          assertEquals(1, e.partition());
          assertEquals(1 + i % 3, e.type());
          assertArrayEquals(bytes("entry-" + i), e.data());
          assertEquals(futures.get(i).get().index(), e.index());
        }
      }
    }
  }
}

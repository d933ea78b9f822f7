package io.synod;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NetworkTransportTest {
  private static final byte[] SECRET = "a shared secret of 32 bytes.....".getBytes(StandardCharsets.UTF_8);

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "rest", "grpc+secret"})
  void threeNodesOnLoopbackReplicate(String transport) throws Exception {
    LogCapture log = new LogCapture();
    List<RaftNode> nodes = new ArrayList<>();
    List<byte[]> seen = new CopyOnWriteArrayList<>();
    UnaryOperator<RaftConfig.Builder> kind = b -> transport.startsWith("rest") ? b.rest("127.0.0.1:0")
        : transport.endsWith("secret") ? b.grpc("127.0.0.1:0").sharedSecret(SECRET) : b.grpc("127.0.0.1:0");
    try {
      for (long id = 1; id <= 3; id++) {
        RaftConfig.Builder b = TestCluster.fast(RaftConfig.builder(id)).members(1, 2, 3).seed(id);
        if (id == 1) {
          b.onEntry(e -> seen.add(e.data()));
        }
        nodes.add(RaftNode.start(kind.apply(b).build()));
      }
      // Ports are known once the nodes listen: tell every node where the others are.
      for (RaftNode node : nodes) {
        for (RaftNode peer : nodes) {
          if (peer != node) {
            node.setPeerAddress(peer.id(), "127.0.0.1:" + peer.listenPort());
          }
        }
      }
      long leaderId = nodes.get(0).waitForLeader(1, TestCluster.WAIT);
      RaftNode leader = nodes.get((int) leaderId - 1);
      leader.replicate(1, 5, "over the wire".getBytes(StandardCharsets.UTF_8))
          .get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      TestCluster.eventually("node 1 to apply the entry", () -> !seen.isEmpty());
      assertArrayEquals("over the wire".getBytes(StandardCharsets.UTF_8), seen.get(0));
      // The library's own messages reach java.util.logging: plain text is warned about.
      // It concerns the whole node: parameters node, text, and no partition or term.
      boolean warned = log.records.stream().anyMatch(r -> r.getLevel() == Level.WARNING
          && r.getParameters() != null && r.getParameters().length == 4
          && "1".equals(r.getParameters()[0])
          && String.valueOf(r.getParameters()[1]).contains("in plain text")
          && r.getParameters()[2] == null && r.getParameters()[3] == null);
      assertTrue(warned == !transport.endsWith("secret"), "plain-text warning logged: " + warned);
    } finally {
      for (RaftNode node : nodes) {
        node.close();
      }
      log.close();
    }
  }
}

// A Java program compiled with javac against the installed synod.jar alone and run with
// only that jar and itself on the class path (tests/install/check_install.sh): the jar
// must bring and load its native libraries. One node alone in its cluster commits one
// entry of a string log type, which its listener reads back.
import io.synod.Entry;
import io.synod.RaftConfig;
import io.synod.RaftNode;
import io.synod.Replicated;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

public final class Consumer {
  private Consumer() {}

  public static void main(String[] args) throws Exception {
    CompletableFuture<Entry> applied = new CompletableFuture<>();
    RaftConfig config = RaftConfig.builder(1).members(1).tickInterval(Duration.ofMillis(5))
        .onEntry(applied::complete).build();
    try (RaftNode node = RaftNode.start(config)) {
      node.waitForLeader(1, Duration.ofSeconds(20));
      byte[] data = "installed".getBytes(StandardCharsets.UTF_8);
      Replicated result = node.replicate(1, "Installed", data).get(20, TimeUnit.SECONDS);
      Entry entry = applied.get(20, TimeUnit.SECONDS);
      if (entry.index() != result.index() || !entry.type().isString()
          || !entry.type().name().equals("Installed")
          || !new String(entry.data(), StandardCharsets.UTF_8).equals("installed")) {
        System.err.println("java consumer: read back " + entry);
        System.exit(1);
      }
      System.out.println("java consumer: synod " + RaftNode.libraryVersion()
          + " committed entry " + result.index());
    }
  }
}

// The Java node of the four-language cluster (tests/polyglot/README.md has the protocol).
//
//   java -cp synod.jar:<classes> PolyglotNode <node id> <members, comma-separated>
//        <tick ms> <election ticks>
//
// Starts a node on gRPC 127.0.0.1:0 and prints "ready <port>". Commands arrive on stdin,
// one a line, each answered by one line on stdout; the node's event thread prints the
// committed entries and the leader changes of partition 1 as they come. Log types are the
// binding's LogType, a string or a number (bindings/LOG_TYPES.md).

import io.synod.Entry;
import io.synod.LeaderChange;
import io.synod.LogType;
import io.synod.RaftConfig;
import io.synod.RaftNode;
import io.synod.Replicated;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.CompletionException;

public final class PolyglotNode {
  private static final long PARTITION = 1;
  private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);
  private static final HexFormat HEX = HexFormat.of();

  private PolyglotNode() {}

  private static void emit(String line) {
    synchronized (OUT) {
      OUT.print(line + "\n");
      OUT.flush();
    }
  }

  private static String toHex(byte[] data) {
    return data.length == 0 ? "-" : HEX.formatHex(data);
  }

  private static byte[] fromHex(String text) {
    return text.equals("-") ? new byte[0] : HEX.parseHex(text);
  }

  private static void onEntry(Entry entry) {
    if (entry.partition() != PARTITION) {
      return;
    }
    LogType type = entry.type();
    String kind = type.isString()
        ? "s " + toHex(type.name().getBytes(StandardCharsets.UTF_8))
        : "n " + type.number();
    emit("entry " + entry.index() + " " + entry.term() + " " + kind + " " + toHex(entry.data()));
  }

  private static void onLeaderChange(LeaderChange change) {
    if (change.partition() == PARTITION) {
      emit("leader " + change.leaderId());
    }
  }

  private static void execute(RaftNode node, String[] words) {
    if (words[0].equals("peer") && words.length == 3) {
      node.setPeerAddress(Long.parseLong(words[1]), words[2]);
      emit("ok");
    } else if (words[0].equals("transfer") && words.length == 2) {
      node.transferLeadership(PARTITION, Long.parseLong(words[1]));
      emit("ok");
    } else if (words[0].equals("write") && words.length == 4) {
      LogType type = words[1].equals("s")
          ? LogType.of(new String(fromHex(words[2]), StandardCharsets.UTF_8))
          : LogType.of(Long.parseLong(words[2]));
      Replicated result = node.replicate(PARTITION, type, fromHex(words[3])).join();
      emit("ok " + result.index());
    } else {
      emit("error unknown command");
    }
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 4) {
      System.err.println("usage: PolyglotNode <node id> <members> <tick ms> <election ticks>");
      System.exit(2);
    }
    long[] members = Arrays.stream(args[1].split(",")).mapToLong(Long::parseLong).toArray();
    RaftConfig config = RaftConfig.builder(Long.parseLong(args[0]))
        .members(members)
        .tickInterval(Duration.ofMillis(Long.parseLong(args[2])))
        .electionTicks(Integer.parseInt(args[3]))
        .grpc("127.0.0.1:0")
        .onEntry(PolyglotNode::onEntry)
        .onLeaderChange(PolyglotNode::onLeaderChange)
        .build();
    try (RaftNode node = RaftNode.start(config)) {
      emit("ready " + node.listenPort());
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] words = line.trim().split(" +");
        if (words[0].isEmpty()) {
          continue;
        }
        if (words[0].equals("quit")) {
          break;
        }
        try {
          execute(node, words);
        } catch (CompletionException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          emit("error " + cause.getClass().getSimpleName() + ": " + oneLine(cause.getMessage()));
        } catch (RuntimeException e) {
          emit("error " + e.getClass().getSimpleName() + ": " + oneLine(e.getMessage()));
        }
      }
    }
    emit("ok");
  }

  private static String oneLine(String text) {
    return text == null ? "" : text.replace('\n', ' ');
  }
}

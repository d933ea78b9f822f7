package io.synod;

import static io.synod.internal.SynodNativeConstants.*;

import io.synod.internal.SynodNative;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The two threads of one node. The poll thread ("synod-poll-N") is the node's only caller
 * of synod_node_poll: it copies each event out of the library, records results in
 * {@link PendingRequests} (whose futures complete on the executor), logs the library's
 * messages, and queues entries and leader changes for the event thread ("synod-events-N"),
 * which calls the listeners one at a time in engine order. The queue between them is
 * bounded: a slow listener stops the polling, and the library then pushes back on new
 * requests (max pending events) instead of memory growing. When the node has stopped and
 * every event is taken, the poll thread fails what is left pending and ends the queue; the
 * event thread then runs `onFinished` (which frees the node) and ends.
 */
final class EventPump {
  private static final Logger LOG = Logger.getLogger("io.synod");
  private static final int POLL_BATCH = 64;
  // Bounded, so that the loop never waits in native code for long, whatever happens.
  private static final int POLL_TIMEOUT_MS = 500;
  private static final int QUEUE_CAPACITY = 1024;
  private static final Runnable END = () -> {};

  private final long node;
  private final long nodeId;
  private final PendingRequests pending;
  private final List<Consumer<Entry>> entryListeners;
  private final List<Consumer<LeaderChange>> leaderListeners;
  private final Runnable onFinished;
  private final BlockingQueue<Runnable> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
  private final Thread pollThread;
  private final Thread eventThread;

  EventPump(long node, long nodeId, PendingRequests pending, RaftConfig config,
            Runnable onFinished) {
    this.node = node;
    this.nodeId = nodeId;
    this.pending = pending;
    this.entryListeners = config.entryListeners();
    this.leaderListeners = config.leaderListeners();
    this.onFinished = onFinished;
    this.pollThread = new Thread(this::pollLoop, "synod-poll-" + nodeId);
    this.eventThread = new Thread(this::eventLoop, "synod-events-" + nodeId);
    pollThread.setDaemon(true);
    eventThread.setDaemon(true);
  }

  void start() {
    eventThread.start();
    pollThread.start();
  }

  boolean onEventThread() {
    return Thread.currentThread() == eventThread;
  }

  /** Waits until both threads have ended (the node is freed by then). */
  void join() throws InterruptedException {
    pollThread.join();
    eventThread.join();
  }

  private void pollLoop() {
    long events = SynodNative.synod_j_events_new(POLL_BATCH);
    long[] fields = new long[POLL_BATCH * SYNOD_J_EVENT_FIELDS];
    String why = "the node was closed before the result arrived";
    try {
      if (events == 0) {
        throw new OutOfMemoryError("no memory for the event buffer");
      }
      while (true) {
        int count = SynodNative.synod_j_poll(node, events, POLL_BATCH, POLL_TIMEOUT_MS, fields);
        if (count == Status.SHUTTING_DOWN.code()) {
          break;
        }
        if (count < 0) {
          SynodException failure = SynodException.fromCall(count, "synod_node_poll");
          LOG.severe(() -> "node " + nodeId + ": polling failed, stopping the node: " + failure.getMessage());
          why = "polling failed: " + failure.getMessage();
          SynodNative.synod_node_stop(node);
          break;
        }
        for (int i = 0; i < count; i++) {
          try {
            handle(events, i, fields, i * SYNOD_J_EVENT_FIELDS);
          } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "node " + nodeId + ": an event could not be handled", e);
          }
        }
      }
    } catch (Throwable t) {
      LOG.log(Level.SEVERE, "node " + nodeId + ": the poll thread failed; stopping the node", t);
      why = "the poll thread failed: " + t;
      SynodNative.synod_node_stop(node);
    } finally {
      pending.failAll(why);
      SynodNative.synod_j_events_free(events);
      enqueue(END);
    }
  }

  private void handle(long events, int i, long[] f, int at) {
    int type = (int) f[at + SYNOD_J_TYPE];
    int status = (int) f[at + SYNOD_J_STATUS];
    long partition = f[at + SYNOD_J_PARTITION];
    switch (type) {
      case SYNOD_EVENT_ENTRY: {
        LogType.Decoded decoded = LogType.decode((int) f[at + SYNOD_J_ENTRY_TYPE],
                                                 payload(events, i, f[at + SYNOD_J_LEN]));
        Entry entry = new Entry(partition, f[at + SYNOD_J_INDEX], f[at + SYNOD_J_TERM],
                                decoded.type(), decoded.data());
        enqueue(() -> deliver(entryListeners, entry));
        break;
      }
      case SYNOD_EVENT_REPLICATED:
      case SYNOD_EVENT_READ_INDEX: {
        Runnable done = pending.onResult(f[at + SYNOD_J_TAG], (int) f[at + SYNOD_J_BATCH_POSITION],
                                         status, partition, f[at + SYNOD_J_INDEX], f[at + SYNOD_J_TERM],
                                         f[at + SYNOD_J_LEADER_HINT]);
        if (done == null) {
          break;
        }
        if (type == SYNOD_EVENT_READ_INDEX) {
          // Behind the entries queued before it: when the future completes, the listeners
          // have seen every entry through the read index.
          enqueue(() -> pending.complete(done));
        } else {
          pending.complete(done);
        }
        break;
      }
      case SYNOD_EVENT_PARTITION_MAP: {
        long length = f[at + SYNOD_J_LEN];
        String reason = length == 0 ? null
            : new String(payload(events, i, length), StandardCharsets.UTF_8);
        Runnable done = pending.onMapResult(f[at + SYNOD_J_TAG], status, partition,
                                            f[at + SYNOD_J_INDEX], f[at + SYNOD_J_TERM],
                                            f[at + SYNOD_J_LEADER_HINT], reason);
        if (done != null) {
          pending.complete(done);
        }
        break;
      }
      case SYNOD_EVENT_LEADER_CHANGED: {
        LeaderChange change = new LeaderChange(partition, f[at + SYNOD_J_LEADER_HINT], f[at + SYNOD_J_TERM]);
        if (LOG.isLoggable(Level.FINE)) {
          // Node, partition, leader and term as parameters, for handlers and bridges (SLF4J).
          LOG.log(Level.FINE, "node {0}: partition {1}: leader {2} in term {3}",
                  new Object[] {Long.toUnsignedString(nodeId),
                                Long.toUnsignedString(change.partition()),
                                Long.toUnsignedString(change.leaderId()),
                                Long.toUnsignedString(change.term())});
        }
        enqueue(() -> deliver(leaderListeners, change));
        break;
      }
      case SYNOD_EVENT_LOG: {
        if (LOG.isLoggable(logLevel(status))) {
          String text = new String(payload(events, i, f[at + SYNOD_J_LEN]), StandardCharsets.UTF_8);
          LOG.log(engineLogRecord(nodeId, status, text, (int) f[at + SYNOD_J_ENTRY_TYPE], partition,
                                  f[at + SYNOD_J_TERM]));
        }
        break;
      }
      default:
        // The ABI may add event types; this binding skips those it does not know.
        break;
    }
  }

  /** The java.util.logging level of a synod_log_level. */
  static Level logLevel(int status) {
    return status == SYNOD_LOG_DEBUG ? Level.FINE
        : status == SYNOD_LOG_INFO ? Level.INFO
        : status == SYNOD_LOG_WARNING ? Level.WARNING : Level.SEVERE;
  }

  /**
   * An engine log line as a record of the "io.synod" logger: "node {0}: {1}" with the
   * parameters node, text, partition and term (unsigned decimal strings), the last two null
   * unless the line concerns a partition ({@code flags}, synod_log_flags) and its term is
   * known, so that handlers and bridges (SLF4J's, which maps them to arguments) see them as
   * data.
   */
  static LogRecord engineLogRecord(long nodeId, int status, String text, int flags, long partition,
                                   long term) {
    boolean scoped = (flags & SYNOD_LOG_HAS_PARTITION) != 0;
    LogRecord record = new LogRecord(logLevel(status), "node {0}: {1}");
    record.setLoggerName(LOG.getName());
    record.setParameters(new Object[] {
        Long.toUnsignedString(nodeId), text,
        scoped ? Long.toUnsignedString(partition) : null,
        scoped && (flags & SYNOD_LOG_HAS_TERM) != 0 ? Long.toUnsignedString(term) : null});
    return record;
  }

  /** A copy of event i's payload, lent by the library only until the next poll. */
  private static byte[] payload(long events, int i, long length) {
    byte[] data = new byte[Math.toIntExact(length)];
    SynodException.check(SynodNative.synod_j_event_data(events, i, data), "synod_j_event_data");
    return data;
  }

  private <T> void deliver(List<Consumer<T>> listeners, T event) {
    for (Consumer<T> listener : listeners) {
      try {
        listener.accept(event);
      } catch (Throwable e) {
        // One failing listener must not stop the delivery of everything after it.
        LOG.log(Level.SEVERE, "node " + nodeId + ": a listener failed on " + event, e);
      }
    }
  }

  private void enqueue(Runnable item) {
    boolean interrupted = false;
    while (true) {
      try {
        queue.put(item);
        break;
      } catch (InterruptedException e) {
        interrupted = true;  // nothing may be lost: keep trying, then restore the flag
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void eventLoop() {
    try {
      while (true) {
        Runnable item;
        try {
          item = queue.take();
        } catch (InterruptedException e) {
          continue;  // only END ends this loop: the node must still be freed
        }
        if (item == END) {
          break;
        }
        try {
          item.run();
        } catch (Throwable e) {
          // Nothing ends this loop but END: the poll thread may be waiting for room.
          LOG.log(Level.SEVERE, "node " + nodeId + ": event handling failed", e);
        }
      }
    } finally {
      onFinished.run();
    }
  }
}

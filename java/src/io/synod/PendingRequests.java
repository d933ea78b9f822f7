package io.synod;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The requests of one node waiting for their result events, by tag. A request is
 * registered before the native call (its result may be polled before the call returns);
 * the poll thread records results and hands each finished request's completion to the
 * executor, so no caller's continuation ever runs on the poll thread.
 */
final class PendingRequests {
  private static final Logger LOG = Logger.getLogger("io.synod");

  /** One request: `count` result events (a batch has one per entry) make its value. */
  static final class Request<T> {
    final long tag;
    final CompletableFuture<T> future = new CompletableFuture<>();
    private final String operation;
    private final Function<List<Replicated>, T> value;
    private final List<Replicated> results;
    private int remaining;
    private SynodException error;

    private Request(long tag, String operation, int count, Function<List<Replicated>, T> value) {
      this.tag = tag;
      this.operation = operation;
      this.value = value;
      this.results = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        results.add(null);
      }
      this.remaining = count;
    }

    private void finish() {
      if (error != null) {
        future.completeExceptionally(error);
      } else {
        future.complete(value.apply(List.copyOf(results)));
      }
    }
  }

  private final long nodeId;
  private final Executor executor;
  private final AtomicLong nextTag = new AtomicLong();
  private final ConcurrentHashMap<Long, Request<?>> byTag = new ConcurrentHashMap<>();

  PendingRequests(long nodeId, Executor executor) {
    this.nodeId = nodeId;
    this.executor = executor;
  }

  /** A new request expecting `count` results, whose value `value` makes from them. */
  <T> Request<T> register(String operation, int count, Function<List<Replicated>, T> value) {
    Request<T> request = new Request<>(nextTag.incrementAndGet(), operation, count, value);
    byTag.put(request.tag, request);
    return request;
  }

  /** The native call refused `request`: it will get no result event. */
  void forget(Request<?> request) {
    byTag.remove(request.tag);
  }

  /**
   * Records one result event (poll thread). Returns the completion of the request when
   * this was its last result, else null; the caller runs it with {@link #complete}.
   */
  Runnable onResult(long tag, int position, int status, long partition, long index, long term,
                    long leaderHint) {
    Request<?> request = byTag.get(tag);
    if (request == null) {
      LOG.warning(() -> "node " + nodeId + ": a result for unknown tag " + tag);
      return null;
    }
    if (status == Status.OK.code()) {
      request.results.set(position, new Replicated(index, term));
    } else if (request.error == null) {
      request.error = StatusExceptions.of(status, "node " + nodeId + ", partition "
          + Long.toUnsignedString(partition) + ": " + request.operation + ": "
          + Status.fromCode(status).map(Status::text).orElse("status " + status), leaderHint);
    }
    if (--request.remaining > 0) {
      return null;
    }
    byTag.remove(tag);
    return request::finish;
  }

  /**
   * Records the result of a partition map change (poll thread): completes the request with
   * a {@link PartitionMapChange}, or fails it with the status's exception, whose message
   * carries the map's reason. Returns the completion, or null for an unknown tag.
   */
  @SuppressWarnings("unchecked")
  Runnable onMapResult(long tag, int status, long partition, long index, long mapVersion,
                       long leaderHint, String reason) {
    Request<?> request = byTag.remove(tag);
    if (request == null) {
      LOG.warning(() -> "node " + nodeId + ": a result for unknown tag " + tag);
      return null;
    }
    CompletableFuture<PartitionMapChange> future =
        ((Request<PartitionMapChange>) request).future;
    if (status == Status.OK.code()) {
      PartitionMapChange change = new PartitionMapChange(partition, mapVersion, index);
      return () -> future.complete(change);
    }
    SynodException error = StatusExceptions.of(status, "node " + nodeId + ": "
        + request.operation + ": " + Status.fromCode(status).map(Status::text).orElse("status " + status)
        + (reason == null ? "" : " (" + reason + "; map version "
                                 + Long.toUnsignedString(mapVersion) + ")"), leaderHint);
    return () -> future.completeExceptionally(error);
  }

  /** Runs a completion on the executor; inline only if the executor refuses it. */
  void complete(Runnable completion) {
    try {
      executor.execute(completion);
    } catch (RejectedExecutionException e) {
      LOG.log(Level.WARNING, "node " + nodeId + ": the executor refused a completion; "
          + "completing it on the event thread", e);
      completion.run();
    }
  }

  /** Fails every request still waiting (the node has stopped and will send no result). */
  void failAll(String why) {
    for (Long tag : byTag.keySet()) {
      Request<?> request = byTag.remove(tag);
      if (request != null) {
        request.error = new ShuttingDownException("node " + nodeId + ": " + request.operation
                                                  + ": " + why);
        complete(request::finish);
      }
    }
  }

  /** Requests waiting for a result. */
  int size() {
    return byTag.size();
  }
}

package io.synod;

import io.synod.internal.SynodNative;

/**
 * An in-process network connecting nodes of one process without sockets (tests,
 * simulations, examples), with fault injection. Nodes made with it keep it running, so it
 * may be closed before them; after {@link #close()} it can no longer be given to a new
 * configuration nor cut or healed.
 */
public final class InMemoryNetwork implements AutoCloseable {
  private long handle;

  /** Makes a network. */
  public InMemoryNetwork() {
    long[] out = new long[1];
    SynodException.check(SynodNative.synod_network_new(out), "synod_network_new");
    handle = out[0];
  }

  /** Cuts every link to and from `nodeId`; the node keeps running, unable to reach anyone. */
  public synchronized void isolate(long nodeId) {
    SynodException.check(SynodNative.synod_network_isolate(open("isolate"), nodeId),
                         "synod_network_isolate");
  }

  /** Restores every link cut by {@link #isolate}. */
  public synchronized void heal() {
    SynodException.check(SynodNative.synod_network_heal(open("heal")), "synod_network_heal");
  }

  /** Releases this reference; nodes using the network keep it alive. Idempotent. */
  @Override
  public synchronized void close() {
    SynodNative.synod_network_free(handle);
    handle = 0;
  }

  /** Runs `call` with the native handle held (so close() cannot free it meanwhile). */
  synchronized int withHandle(java.util.function.LongToIntFunction call) {
    return call.applyAsInt(open("be used by a configuration"));
  }

  private long open(String what) {
    if (handle == 0) {
      throw new IllegalStateException("the network is closed and cannot " + what);
    }
    return handle;
  }
}

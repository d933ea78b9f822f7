package io.synod;

import io.synod.internal.SynodNative;

/**
 * A failure the engine reported. Each status has its own subclass, generated from the
 * status table (for example {@link NotLeaderException}, {@link UnknownPartitionException},
 * {@link RequestTimeoutException}), so callers catch what they can handle.
 */
public class SynodException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int code;
  private final Status status;

  SynodException(Status status, String message) {
    super(message);
    this.code = status.code();
    this.status = status;
  }

  /** A code this binding does not know (a newer library); {@link #status()} is INTERNAL. */
  SynodException(int code, String message) {
    super(message);
    this.code = code;
    this.status = Status.fromCode(code).orElse(Status.INTERNAL);
  }

  /** The status, {@link Status#INTERNAL} for a code this binding does not know. */
  public Status status() {
    return status;
  }

  /** The C ABI's status code, as the library reported it. */
  public int code() {
    return code;
  }

  /**
   * The exception for a C ABI call that returned `code`, explained by the library's
   * thread-local last error; read it before any other synod_ call on this thread.
   */
  static SynodException fromCall(int code, String call) {
    String detail = SynodNative.synod_last_error();
    String text = SynodNative.synod_errstr(code);
    return StatusExceptions.of(code, detail.isEmpty() ? call + ": " + text : detail, 0);
  }

  /** Throws {@link #fromCall} unless `code` is success. */
  static void check(int code, String call) {
    if (code != Status.OK.code()) {
      throw fromCall(code, call);
    }
  }
}

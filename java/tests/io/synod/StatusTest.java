package io.synod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.synod.internal.SynodNative;
import org.junit.jupiter.api.Test;

class StatusTest {
  @Test
  void everyStatusHasTheLibrarysTextAndItsOwnException() {
    for (Status status : Status.values()) {
      assertEquals(SynodNative.synod_errstr(status.code()), status.text(), status.name());
      assertEquals(status, Status.fromCode(status.code()).orElseThrow());
      if (status == Status.OK) {
        continue;
      }
      SynodException e = StatusExceptions.of(status.code(), "why", 7);
      assertEquals(status, e.status());
      assertEquals(status.code(), e.code());
      assertEquals("why", e.getMessage());
      assertTrue(e.getClass() != SynodException.class, status + " has a class of its own");
    }
    NotLeaderException notLeader = assertInstanceOf(NotLeaderException.class,
        StatusExceptions.of(Status.NOT_LEADER.code(), "elsewhere", 3));
    assertEquals(3, notLeader.leaderHint().orElseThrow());
    assertTrue(((NotLeaderException) StatusExceptions.of(Status.NOT_LEADER.code(), "", 0))
        .leaderHint().isEmpty());
  }

  @Test
  void aCodeOfANewerLibraryIsReportedAsItIs() {
    SynodException e = StatusExceptions.of(-999, "from the future", 0);
    assertEquals(SynodException.class, e.getClass());
    assertEquals(-999, e.code());
    assertEquals(Status.INTERNAL, e.status());
    assertTrue(Status.fromCode(-999).isEmpty());
  }
}

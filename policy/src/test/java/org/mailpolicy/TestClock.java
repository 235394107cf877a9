package org.mailpolicy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock a test sets and moves, in UTC; safe to read from other threads. */
public class TestClock extends Clock {
    private volatile Instant now;

    public TestClock(Instant start) {
        now = start;
    }

    /** Moves the clock on by {@code d} and returns the new time. */
    public Instant step(Duration d) {
        now = now.plus(d);
        return now;
    }

    public void set(Instant instant) {
        now = instant;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }
}

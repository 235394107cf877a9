package org.mailpolicy.destination;

import com.google.common.base.Preconditions;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the mail a decision makes wait (a retry later, a held destination, a rate limit) spends its
 * wait: the policy file's {@code waits:} block.
 * <ul>
 *   <li>{@link Place#QUEUE}: back on James's outgoing queue with a delay, as stock RemoteDelivery does.
 *   Right for queues that honour delays (James's memory and ActiveMQ/JMS queues).</li>
 *   <li>{@link Place#PARKED}: in the plugin's own schedule: the content in a James mail repository
 *   ({@link #repository()}, a URL such as {@code file://var/mail/policy-parked/}), due time and destination
 *   in the plugin's store, and a releaser puts it back on the queue without delay when due. Needed where
 *   the queue ignores delays (James's distributed server: RabbitMQ).</li>
 * </ul>
 */
public final class WaitSettings {
    public enum Place { QUEUE, PARKED }

    private static final WaitSettings QUEUE = new WaitSettings(Place.QUEUE, Optional.empty());

    private final Place place;
    private final Optional<String> repository;

    private WaitSettings(Place place, Optional<String> repository) {
        this.place = place;
        this.repository = repository;
    }

    /** Today's behaviour and the default: the queue's own delay. */
    public static WaitSettings inQueue() {
        return QUEUE;
    }

    /** Parked in the plugin's schedule, content in the James mail repository at {@code repositoryUrl}. */
    public static WaitSettings parked(String repositoryUrl) {
        Preconditions.checkArgument(repositoryUrl != null && repositoryUrl.contains("://"),
                "a mail repository URL such as file://var/mail/policy-parked/, got '%s'", repositoryUrl);
        return new WaitSettings(Place.PARKED, Optional.of(repositoryUrl.trim()));
    }

    public Place place() {
        return place;
    }

    public boolean isParked() {
        return place == Place.PARKED;
    }

    /** The repository URL of parked content; present exactly when {@link #isParked()}. */
    public Optional<String> repository() {
        return repository;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WaitSettings && ((WaitSettings) o).place == place && ((WaitSettings) o).repository.equals(repository);
    }

    @Override
    public int hashCode() {
        return Objects.hash(place, repository);
    }

    @Override
    public String toString() {
        return "waits in " + place.name().toLowerCase(java.util.Locale.ROOT) + repository.map(r -> " (" + r + ")").orElse("");
    }
}

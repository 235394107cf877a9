package org.mailpolicy.reply;

import com.google.common.base.Preconditions;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An RFC 3463 enhanced status code, {@code class.subject.detail}, such as {@code 5.1.1}. */
public final class EnhancedStatus {
    private static final Pattern FORM = Pattern.compile("([245])\\.(\\d{1,3})\\.(\\d{1,3})");

    private final int statusClass;
    private final int subject;
    private final int detail;

    private EnhancedStatus(int statusClass, int subject, int detail) {
        this.statusClass = statusClass;
        this.subject = subject;
        this.detail = detail;
    }

    public static EnhancedStatus of(int statusClass, int subject, int detail) {
        Preconditions.checkArgument(statusClass == 2 || statusClass == 4 || statusClass == 5,
                "class must be 2, 4 or 5: %s", statusClass);
        Preconditions.checkArgument(subject >= 0 && subject <= 999, "subject out of range: %s", subject);
        Preconditions.checkArgument(detail >= 0 && detail <= 999, "detail out of range: %s", detail);
        return new EnhancedStatus(statusClass, subject, detail);
    }

    /** Parses exactly {@code x.y.z}; empty for anything else. */
    public static Optional<EnhancedStatus> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new EnhancedStatus(Integer.parseInt(m.group(1)),
                Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))));
    }

    public int statusClass() {
        return statusClass;
    }

    public int subject() {
        return subject;
    }

    public int detail() {
        return detail;
    }

    public boolean isPermanent() {
        return statusClass == 5;
    }

    /** The same subject and detail in another class, e.g. 5.1.1 to 4.1.1. */
    public EnhancedStatus withClass(int newClass) {
        return of(newClass, subject, detail);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof EnhancedStatus)) {
            return false;
        }
        EnhancedStatus that = (EnhancedStatus) o;
        return statusClass == that.statusClass && subject == that.subject && detail == that.detail;
    }

    @Override
    public int hashCode() {
        return Objects.hash(statusClass, subject, detail);
    }

    @Override
    public String toString() {
        return statusClass + "." + subject + "." + detail;
    }
}

package org.mailpolicy.james.parking;

import com.google.common.base.Preconditions;
import java.util.Optional;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;

/**
 * Marks a copy the releaser put on the outgoing queue: {@code "ID TOKEN"}, the parked mail's id and
 * the release token it was claimed with. A plain string, so it survives every queue James uses. The
 * delivery thread asks the store whether this copy is the current release's before delivering it.
 */
public final class ParkedAttribute {
    public static final AttributeName NAME = AttributeName.of("org.mailpolicy.parked");

    /** What a released copy carries. */
    public static final class Copy {
        private final String id;
        private final String token;

        Copy(String id, String token) {
            this.id = id;
            this.token = token;
        }

        public String id() {
            return id;
        }

        public String token() {
            return token;
        }
    }

    private ParkedAttribute() {
    }

    static Attribute of(String id, String token) {
        Preconditions.checkArgument(id.indexOf(' ') < 0 && token.indexOf(' ') < 0, "id and token hold no spaces");
        return new Attribute(NAME, AttributeValue.of(id + " " + token));
    }

    /** The release this copy belongs to; empty for mail that was never parked (or an unreadable mark, which is ignored). */
    public static Optional<Copy> read(Mail mail) {
        return mail.getAttribute(NAME).flatMap(a -> {
            Object v = a.getValue().value();
            if (!(v instanceof String)) {
                return Optional.empty();
            }
            String[] parts = ((String) v).split(" ");
            return parts.length == 2 ? Optional.of(new Copy(parts[0], parts[1])) : Optional.empty();
        });
    }

    /** Copies made from a released mail (a retry, a split) are new mails: they must not carry its release. */
    public static void remove(Mail mail) {
        mail.removeAttribute(NAME);
    }
}

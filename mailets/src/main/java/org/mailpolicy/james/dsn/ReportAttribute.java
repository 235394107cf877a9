package org.mailpolicy.james.dsn;

import com.google.common.base.Preconditions;
import java.util.Optional;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.mailpolicy.report.DeliveryReport;

/**
 * The mail attribute that carries a {@link DeliveryReport} (as its JSON text) from the mailet that
 * decided an outcome to {@link PolicyDsnBounce}. A String, so that it survives every mail queue and
 * repository James serialises mails to.
 */
public final class ReportAttribute {
    public static final AttributeName NAME = AttributeName.of("org.mailpolicy.report");

    private ReportAttribute() {
    }

    public static Attribute of(DeliveryReport report) {
        Preconditions.checkNotNull(report, "report");
        return new Attribute(NAME, AttributeValue.of(report.toJson()));
    }

    /** Whether the mail carries the attribute at all, readable or not. */
    static boolean isPresent(Mail mail) {
        return mail.getAttribute(NAME).isPresent();
    }

    /**
     * The report, if the mail carries one.
     *
     * @throws IllegalArgumentException naming the problem when the attribute is there but is not a valid report
     */
    static Optional<DeliveryReport> read(Mail mail) {
        Optional<Attribute> attribute = mail.getAttribute(NAME);
        if (!attribute.isPresent()) {
            return Optional.empty();
        }
        Object value = attribute.get().getValue().value();
        if (!(value instanceof String)) {
            throw new IllegalArgumentException("attribute " + NAME.asString() + " must hold a String (the report's JSON), got "
                    + (value == null ? "null" : value.getClass().getName()));
        }
        return Optional.of(DeliveryReport.fromJson((String) value));
    }
}

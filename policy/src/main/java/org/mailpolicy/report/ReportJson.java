package org.mailpolicy.report;

/** The JSON codec of {@link DeliveryReport}, on jackson-core's streaming API. */
final class ReportJson {
    private ReportJson() {
    }

    static String write(DeliveryReport report) {
        throw new UnsupportedOperationException("not yet written");
    }

    static DeliveryReport read(String json) {
        throw new UnsupportedOperationException("not yet written");
    }
}

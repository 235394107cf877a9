package org.mailpolicy.it;

import java.io.IOException;
import java.util.List;

import org.mailpolicy.james.testing.FixedDns;

/** The test user and the test delivery policy (short timings so that every behaviour plays out in seconds). */
final class TestPolicy {
    static final String DOMAIN = "sandbox.test";
    static final String ALICE = "alice@sandbox.test";
    static final String ALICE_PASSWORD = "secret";
    static final FixedDns DNS = FixedDns.loopbackMx(List.of("aol.com", "aim.com", "verizon.net"));

    private TestPolicy() {
    }

    /** it-policy.yaml with the fake AOL's port as the aol destination's route; {@code overrides} replace whole lines. */
    static String forFakeAol(int fakeAolPort) throws IOException {
        return StockJamesBaselineTest.resource("it-policy.yaml").replace("@FAKE_AOL_PORT@", String.valueOf(fakeAolPort));
    }
}

package org.mailpolicy.fakeaol;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the fake AOL in the foreground until interrupted:
 * {@code java org.mailpolicy.fakeaol.FakeAolMain --smtp-port 2526 --control-port 2580}.
 */
public final class FakeAolMain {
    private static final String USAGE = "usage: FakeAolMain [--smtp-port N] [--control-port N] [--no-starttls]"
            + "   (0 = any free port; STARTTLS is offered with a self-signed certificate unless --no-starttls)";

    private FakeAolMain() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        int smtpPort = 2526;
        int controlPort = 2580;
        boolean startTls = true;
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                System.out.println(USAGE);
                return;
            }
            if (option.equals("--no-starttls")) {
                startTls = false;
                continue;
            }
            if (i + 1 >= args.length) {
                fail(option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--smtp-port":
                    smtpPort = port(option, value);
                    break;
                case "--control-port":
                    controlPort = port(option, value);
                    break;
                default:
                    fail("unknown option " + option);
            }
        }

        FakeAolSettings settings = FakeAolSettings.ports(smtpPort, controlPort);
        String tls = "no STARTTLS";
        if (startTls) {
            settings = settings.withSelfSignedStartTls();
            tls = "STARTTLS with a self-signed certificate for " + AolReplies.RELAY_HOST;
        }
        FakeAol aol = FakeAol.start(settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            aol.close();
            stopped.countDown();
        }, "fake-aol-shutdown"));
        String control = "http://127.0.0.1:" + aol.controlPort();
        System.out.println("Fake AOL listening:");
        System.out.println("  SMTP     127.0.0.1:" + aol.smtpPort() + " (" + tls + ")");
        System.out.println("  control  " + control);
        System.out.println("Examples:");
        System.out.println("  curl -X PUT " + control + "/mode -d '{\"mode\": \"DYN_T1\", \"seconds\": 20}'");
        System.out.println("  curl " + control + "/transactions");
        System.out.println("  curl " + control + "/messages");
        System.out.println("Modes: NORMAL DYN_T1 RLY_NW RATE_LIMIT RTR_BB CON_B1 DOWN DROP_IN_DATA SLOW CHAOS (\"seed\": N)");
        System.out.println("Recipients by local part: ok* unknown* rejected* full* hvu* flaky* (anything else: 250)");
        System.out.println("Ctrl-C to stop.");
        stopped.await();
    }

    private static int port(String option, String value) {
        try {
            int port = Integer.parseInt(value);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        fail(option + " must be a port number between 0 and 65535, was '" + value + "'");
        return -1;
    }

    private static void fail(String message) {
        System.err.println("FakeAolMain: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }
}

package org.mailpolicy.fakeaol;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A bare SMTP client for tests that need to read the exact reply lines, see the server hang up, or send what JavaMail
 * cannot (per-recipient NOTIFY and ORCPT): the fake AOL's tests, the Postfix receiver's, the DSN parameters'.
 */
public final class RawSmtpClient implements AutoCloseable {
    /** What {@link #readReply()} returns when the server has closed the connection. */
    public static final String CLOSED = "(closed)";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawSmtpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    public static RawSmtpClient connect(int port) throws IOException {
        return connect(port, 5_000);
    }

    public static RawSmtpClient connect(int port, int readTimeoutMillis) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(readTimeoutMillis);
        return new RawSmtpClient(socket);
    }

    /** A connection from {@code localAddress} (another loopback address, as a second sending IP), read timeout 5 s. */
    public static RawSmtpClient connectFrom(String localAddress, int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port, InetAddress.getByName(localAddress), 0);
        socket.setSoTimeout(5_000);
        return new RawSmtpClient(socket);
    }

    /** Reads one reply, all its lines joined with {@code \n}, or {@link #CLOSED} at end of stream. */
    public String readReply() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                return lines.isEmpty() ? CLOSED : String.join("\n", lines) + "\n" + CLOSED;
            }
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return String.join("\n", lines);
            }
        }
    }

    public String send(String command) throws IOException {
        write(command + "\r\n");
        return readReply();
    }

    public void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    public void write(byte[] bytes, int length) throws IOException {
        out.write(bytes, 0, length);
    }

    /** Greeting, EHLO, MAIL FROM; fails the test if any of them is not positive. */
    public void startMail(String from) throws IOException {
        expectPositive(readReply());
        expectPositive(send("EHLO client.example"));
        expectPositive(send("MAIL FROM:<" + from + ">"));
    }

    /** Sends DATA and, after the 354, the message and its terminating dot; returns the end-of-data reply. */
    public String data(String message) throws IOException {
        String startReply = send("DATA");
        if (!startReply.startsWith("354")) {
            throw new AssertionError("expected 354 after DATA, got " + startReply);
        }
        String stuffed = (message.startsWith(".") ? "." : "") + message.replace("\r\n.", "\r\n..");
        write(stuffed + (stuffed.endsWith("\r\n") ? "" : "\r\n") + ".\r\n");
        return readReply();
    }

    private static void expectPositive(String reply) {
        if (!reply.startsWith("2")) {
            throw new AssertionError("expected a positive reply, got " + reply);
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

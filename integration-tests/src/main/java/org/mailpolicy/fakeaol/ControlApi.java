package org.mailpolicy.fakeaol;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.mail.MessagingException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The fake's HTTP control API, on the JDK's own server (no extra dependency), bound to 127.0.0.1.
 *
 * <pre>
 * PUT    /mode          {"mode": "DYN_T1", "seconds": 20}  (optional "perMinute" for RLY_NW and RATE_LIMIT,
 *                                                            "delayMillis" for SLOW, "seed" for CHAOS; REPLY
 *                                                            needs "reply" and "stage": CONNECT, MAIL, RCPT, DATA,
 *                                                            and takes "times": that many replies, then NORMAL's;
 *                                                            any mode takes "client": "127.0.0.2", the one client
 *                                                            IP it answers, every other getting NORMAL's replies)
 * GET    /mode
 * GET    /transactions  JSON array, oldest first
 * DELETE /transactions
 * GET    /messages      accepted messages: envelope, size and a few headers
 * GET    /messages/{n}  the n-th accepted message (0 = oldest) as received, message/rfc822
 * DELETE /messages
 * POST   /bounces       {"to", "finalRecipient", "smtpHost", "smtpPort", "originalMessageId"?, "envelopeFrom"?}
 * POST   /reset         NORMAL mode, no transactions or messages, flaky recipients deferred afresh
 * </pre>
 *
 * Bad requests get 400 with {"error": "..."} naming the field or the position in the JSON.
 */
final class ControlApi implements AutoCloseable {
    private static final int MAX_BODY_BYTES = 64 * 1024;
    private static final Set<String> MODE_FIELDS = Set.of("mode", "seconds", "perMinute", "delayMillis", "seed", "reply",
            "stage", "times", "client");
    private static final Set<String> BOUNCE_FIELDS = Set.of("to", "finalRecipient", "smtpHost", "smtpPort",
            "originalMessageId", "envelopeFrom");

    private final FakeAol fake;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpServer server;
    private final ExecutorService executor;

    private ControlApi(FakeAol fake, HttpServer server, ExecutorService executor) {
        this.fake = fake;
        this.server = server;
        this.executor = executor;
    }

    static ControlApi start(FakeAol fake, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        // Two threads: a bounce being sent over SMTP must not block a test reading /transactions.
        ExecutorService executor = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "fake-aol-control");
            thread.setDaemon(true);
            return thread;
        });
        ControlApi api = new ControlApi(fake, server, executor);
        server.createContext("/", api::handle);
        server.setExecutor(executor);
        server.start();
        return api;
    }

    int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Response response;
            try {
                response = route(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), exchange);
            } catch (BadRequest e) {
                response = Response.error(e.status, e.getMessage());
            } catch (RuntimeException e) {
                response = Response.error(500, "internal error: " + e);
            }
            send(exchange, response);
        }
    }

    private Response route(String method, String path, HttpExchange exchange) throws IOException, BadRequest {
        switch (path) {
            case "/mode":
                if (method.equals("GET")) {
                    return Response.ok(modeJson(fake.mode()));
                }
                if (method.equals("PUT")) {
                    fake.setMode(modeSetting(readObject(exchange)));
                    return Response.ok(modeJson(fake.mode()));
                }
                return Response.methodNotAllowed("GET, PUT");
            case "/transactions":
                if (method.equals("GET")) {
                    return Response.ok(transactionsJson(fake.transactions()));
                }
                if (method.equals("DELETE")) {
                    fake.clearTransactions();
                    return Response.noContent();
                }
                return Response.methodNotAllowed("GET, DELETE");
            case "/connections":
                if (method.equals("GET")) {
                    return Response.ok(connectionsJson(fake.connections()));
                }
                return Response.methodNotAllowed("GET");
            case "/connections/drop-idle":
                if (method.equals("POST")) {
                    ObjectNode body = json.createObjectNode();
                    body.put("dropped", fake.dropIdleConnections());
                    return Response.ok(body);
                }
                return Response.methodNotAllowed("POST");
            case "/messages":
                if (method.equals("GET")) {
                    return Response.ok(messagesJson(fake.messages()));
                }
                if (method.equals("DELETE")) {
                    fake.clearMessages();
                    return Response.noContent();
                }
                return Response.methodNotAllowed("GET, DELETE");
            case "/bounces":
                if (method.equals("POST")) {
                    return sendBounce(bounce(readObject(exchange)));
                }
                return Response.methodNotAllowed("POST");
            case "/reset":
                if (method.equals("POST")) {
                    fake.reset();
                    return Response.noContent();
                }
                return Response.methodNotAllowed("POST");
            default:
                if (path.startsWith("/messages/")) {
                    if (!method.equals("GET")) {
                        return Response.methodNotAllowed("GET");
                    }
                    return rawMessage(path.substring("/messages/".length()));
                }
                return Response.error(404, "no such resource: " + path
                        + " (try /mode, /transactions, /connections, /messages, /bounces, /reset)");
        }
    }

    private Response rawMessage(String index) {
        List<ReceivedMessage> messages = fake.messages();
        int n;
        try {
            n = Integer.parseInt(index);
        } catch (NumberFormatException e) {
            return Response.error(404, "no such message: '" + index + "'; use an index from 0 to " + (messages.size() - 1));
        }
        if (n < 0 || n >= messages.size()) {
            return Response.error(404, "no such message: " + n + "; the fake holds " + messages.size());
        }
        return Response.raw(messages.get(n).raw(), "message/rfc822");
    }

    private Response sendBounce(AolBounce bounce) {
        try {
            String messageId = fake.sendBounce(bounce);
            ObjectNode body = json.createObjectNode();
            body.put("sent", true);
            body.put("messageId", messageId);
            return Response.ok(body);
        } catch (MessagingException e) {
            return Response.error(502, "could not send the bounce to " + bounce.smtpHost() + ":" + bounce.smtpPort()
                    + ": " + e);
        }
    }

    private ObjectNode readObject(HttpExchange exchange) throws IOException, BadRequest {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (body.length > MAX_BODY_BYTES) {
            throw new BadRequest(413, "request body larger than " + MAX_BODY_BYTES + " bytes");
        }
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new BadRequest(400, "malformed JSON" + (at == null ? "" : " at line " + at.getLineNr()
                    + ", column " + at.getColumnNr()) + ": " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw new BadRequest(400, "empty request body; expected a JSON object");
        }
        if (!node.isObject()) {
            throw new BadRequest(400, "expected a JSON object, got " + node.getNodeType().toString().toLowerCase(
                    Locale.ROOT));
        }
        return (ObjectNode) node;
    }

    private static ModeSetting modeSetting(ObjectNode request) throws BadRequest {
        rejectUnknownFields(request, MODE_FIELDS);
        String name = requiredText(request, "mode");
        Mode mode;
        try {
            mode = Mode.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadRequest(400, "mode: unknown mode '" + name + "'; expected one of "
                    + List.of(Mode.values()));
        }
        try {
            ModeSetting setting = mode == Mode.REPLY ? replying(request) : ModeSetting.of(mode);
            if (request.has("perMinute")) {
                setting = setting.perMinute(intField(request, "perMinute"));
            }
            if (request.has("delayMillis")) {
                setting = setting.delay(Duration.ofMillis(intField(request, "delayMillis")));
            }
            if (request.has("times")) {
                setting = setting.times(intField(request, "times"));
            }
            if (request.has("seed")) {
                setting = setting.seed(longField(request, "seed"));
            }
            if (request.has("client")) {
                setting = setting.onlyForClient(requiredText(request, "client"));
            }
            if (request.has("seconds") && !request.get("seconds").isNull()) {
                JsonNode seconds = request.get("seconds");
                if (!seconds.isNumber() || seconds.asDouble() <= 0 || seconds.asDouble() > 86_400 * 365) {
                    throw new BadRequest(400, "seconds: expected a positive number of seconds, got " + seconds);
                }
                setting = setting.lasting(Duration.ofMillis(Math.round(seconds.asDouble() * 1000)));
            }
            return setting;
        } catch (IllegalArgumentException e) {
            throw new BadRequest(400, e.getMessage());
        }
    }

    private static AolBounce bounce(ObjectNode request) throws BadRequest {
        rejectUnknownFields(request, BOUNCE_FIELDS);
        String to = requiredText(request, "to");
        String finalRecipient = requiredText(request, "finalRecipient");
        String smtpHost = requiredText(request, "smtpHost");
        int smtpPort = intField(request, "smtpPort");
        Optional<String> originalMessageId = optionalText(request, "originalMessageId");
        String envelopeFrom = optionalText(request, "envelopeFrom").orElse("");
        try {
            return new AolBounce(to, finalRecipient, smtpHost, smtpPort, originalMessageId, envelopeFrom);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(400, e.getMessage());
        }
    }

    private static void rejectUnknownFields(ObjectNode request, Set<String> known) throws BadRequest {
        for (Iterator<String> names = request.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new BadRequest(400, "unknown field '" + name + "'; expected " + known.stream().sorted().toList());
            }
        }
    }

    private static String requiredText(ObjectNode request, String field) throws BadRequest {
        return optionalText(request, field)
                .orElseThrow(() -> new BadRequest(400, field + ": required string field is missing"));
    }

    private static Optional<String> optionalText(ObjectNode request, String field) throws BadRequest {
        JsonNode value = request.get(field);
        if (value == null || value.isNull()) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw new BadRequest(400, field + ": expected a string, got " + value);
        }
        return Optional.of(value.textValue());
    }

    private static int intField(ObjectNode request, String field) throws BadRequest {
        JsonNode value = request.get(field);
        if (value == null || value.isNull()) {
            throw new BadRequest(400, field + ": required integer field is missing");
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new BadRequest(400, field + ": expected an integer, got " + value);
        }
        return value.intValue();
    }

    private static long longField(ObjectNode request, String field) throws BadRequest {
        JsonNode value = request.get(field);
        if (value == null || value.isNull()) {
            throw new BadRequest(400, field + ": required integer field is missing");
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new BadRequest(400, field + ": expected an integer, got " + value);
        }
        return value.longValue();
    }

    private static ModeSetting replying(ObjectNode request) throws BadRequest {
        String stage = requiredText(request, "stage");
        try {
            return ModeSetting.replying(requiredText(request, "reply"),
                    ReplyStage.valueOf(stage.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new BadRequest(400, e.getMessage().startsWith("reply") ? "reply: " + e.getMessage()
                    : "stage: unknown stage '" + stage + "'; expected one of " + List.of(ReplyStage.values()));
        }
    }

    private ObjectNode modeJson(ModeStatus status) {
        ObjectNode node = json.createObjectNode();
        ModeSetting setting = status.setting();
        node.put("mode", setting.mode().name());
        if (status.until().isPresent()) {
            Instant until = status.until().get();
            node.put("until", until.toString());
            long remainingMillis = Math.max(0, Duration.between(fake.now(), until).toMillis());
            node.put("remainingSeconds", remainingMillis / 1000.0);
        } else {
            node.putNull("until");
            node.putNull("remainingSeconds");
        }
        if (setting.mode().isRateLimited()) {
            node.put("perMinute", setting.perMinute());
        }
        if (setting.mode() == Mode.SLOW) {
            node.put("delayMillis", setting.delay().toMillis());
        }
        if (setting.mode() == Mode.CHAOS) {
            node.put("seed", setting.seed());
        }
        if (setting.mode() == Mode.REPLY) {
            node.put("reply", setting.reply().get());
            node.put("stage", setting.stage().name());
        }
        setting.client().ifPresent(client -> node.put("client", client));
        return node;
    }

    private ArrayNode transactionsJson(List<Transaction> transactions) {
        ArrayNode array = json.createArrayNode();
        for (Transaction transaction : transactions) {
            ObjectNode node = array.addObject();
            node.put("connection", transaction.connection());
            node.put("time", transaction.time().toString());
            node.put("client", transaction.client());
            node.put("connectReply", transaction.connectReply());
            node.put("mailFrom", transaction.mailFrom().orElse(null));
            node.put("mailFromReply", transaction.mailFromReply().orElse(null));
            ArrayNode recipients = node.putArray("recipients");
            for (RecipientReply recipient : transaction.recipients()) {
                ObjectNode rcpt = recipients.addObject().put("address", recipient.address()).put("reply", recipient.reply());
                if (!recipient.parameters().isEmpty()) {
                    rcpt.put("parameters", recipient.parameters());
                }
            }
            node.put("dataReply", transaction.dataReply().orElse(null));
        }
        return array;
    }

    private ArrayNode connectionsJson(List<ConnectionSummary> connections) {
        ArrayNode array = json.createArrayNode();
        for (ConnectionSummary connection : connections) {
            array.addObject().put("connection", connection.connection()).put("client", connection.client())
                    .put("openedAt", connection.openedAt().toString()).put("transactions", connection.transactions())
                    .put("open", connection.open());
        }
        return array;
    }

    private ArrayNode messagesJson(List<ReceivedMessage> messages) {
        ArrayNode array = json.createArrayNode();
        for (ReceivedMessage message : messages) {
            ObjectNode node = array.addObject();
            node.put("receivedAt", message.receivedAt().toString());
            node.put("client", message.client());
            node.put("mailFrom", message.mailFrom());
            ArrayNode recipients = node.putArray("recipients");
            message.recipients().forEach(recipients::add);
            node.put("size", message.size());
            for (String header : List.of("Subject", "Message-ID", "From", "To", "Date", "Content-Type",
                    "Auto-Submitted")) {
                node.put(jsonName(header), message.header(header).orElse(null));
            }
        }
        return array;
    }

    private static String jsonName(String header) {
        String name = header.replace("-", "");
        return Character.toLowerCase(name.charAt(0)) + name.substring(1).replace("ID", "Id");
    }

    private void send(HttpExchange exchange, Response response) throws IOException {
        if (response.allow != null) {
            exchange.getResponseHeaders().set("Allow", response.allow);
        }
        if (response.body == null && response.raw == null) {
            exchange.sendResponseHeaders(response.status, -1);
            return;
        }
        byte[] bytes;
        if (response.raw != null) {
            bytes = response.raw;
            exchange.getResponseHeaders().set("Content-Type", response.rawContentType);
        } else {
            bytes = json.writerWithDefaultPrettyPrinter().writeValueAsBytes(response.body);
            exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        }
        exchange.sendResponseHeaders(response.status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static final class Response {
        final int status;
        final JsonNode body;
        final String allow;
        final byte[] raw;
        final String rawContentType;

        private Response(int status, JsonNode body, String allow) {
            this(status, body, allow, null, null);
        }

        private Response(int status, JsonNode body, String allow, byte[] raw, String rawContentType) {
            this.status = status;
            this.body = body;
            this.allow = allow;
            this.raw = raw;
            this.rawContentType = rawContentType;
        }

        static Response raw(byte[] bytes, String contentType) {
            return new Response(200, null, null, bytes, contentType);
        }

        static Response ok(JsonNode body) {
            return new Response(200, body, null);
        }

        static Response noContent() {
            return new Response(204, null, null);
        }

        static Response error(int status, String message) {
            return new Response(status, JsonNodeFactory.instance.objectNode().put("error", message), null);
        }

        static Response methodNotAllowed(String allow) {
            Response error = error(405, "method not allowed; use " + allow);
            return new Response(405, error.body, allow);
        }
    }

    private static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }
}

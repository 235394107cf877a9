package org.mailpolicy.suppression;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The 32-bit fingerprints ({@link AddressKey#fingerprint}) of the listed addresses, in an
 * open-addressing table of ints: 4 bytes a slot, at most 70% full, so 6 to 11 bytes per address
 * (64 MB for 10 million). A look-up is one or two cache lines; a fingerprint not found means the
 * address is certainly not listed. One found may belong to another address (about one look-up in a
 * hundred million at 10 million addresses), so a hit is always confirmed by the table.
 *
 * <p>Removals leave their fingerprint (another address may share it): a stale one costs a read of
 * the table, never a wrong answer; a rebuild from the table drops them.
 *
 * <p>Thread-safe: one writer at a time (synchronized), readers without a lock. A reader reads
 * {@link #slots} (volatile) first, and a writer writes it again after each put, so a look-up that
 * starts after an add returned sees the add.
 */
final class AddressFingerprints {
    private static final int MIN_CAPACITY = 1 << 16;
    private static final double MAX_LOAD = 0.7;
    private static final long FILE_MAGIC = 0x4450_5346_5031_0001L; // "DPSFP1", version 1
    private static final int HEADER_BYTES = 8 + 8 + 4 + 4;

    private volatile int[] slots;
    private int size;

    AddressFingerprints() {
        this(MIN_CAPACITY);
    }

    private AddressFingerprints(int capacity) {
        this.slots = new int[capacity];
    }

    /** False only if no listed address has this fingerprint. */
    boolean mightContain(int fingerprint) {
        int[] s = slots;
        int mask = s.length - 1;
        for (int i = fingerprint & mask; ; i = (i + 1) & mask) {
            int f = s[i];
            if (f == fingerprint) {
                return true;
            }
            if (f == 0) {
                return false;
            }
        }
    }

    synchronized void add(int fingerprint) {
        int[] s = slots;
        if (size + 1 > s.length * MAX_LOAD) {
            s = grown(s, s.length * 2);
        }
        if (put(s, fingerprint)) {
            size++;
        }
        slots = s; // publishes the put (and a grown table) to readers
    }

    /** How many distinct fingerprints it holds. */
    synchronized int size() {
        return size;
    }

    private static boolean put(int[] s, int fingerprint) {
        int mask = s.length - 1;
        for (int i = fingerprint & mask; ; i = (i + 1) & mask) {
            int f = s[i];
            if (f == fingerprint) {
                return false;
            }
            if (f == 0) {
                s[i] = fingerprint;
                return true;
            }
        }
    }

    private static int[] grown(int[] from, int capacity) {
        int[] to = new int[capacity];
        for (int f : from) {
            if (f != 0) {
                put(to, f);
            }
        }
        return to;
    }

    /**
     * Writes the table to {@code file} (through a temporary file beside it, then renamed, so a crash
     * leaves the old file or the new one), marked with {@code stamp}.
     */
    synchronized void save(Path file, long stamp) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        int[] s = slots;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putLong(FILE_MAGIC).putLong(stamp).putInt(s.length).putInt(size).flip();
            writeFully(ch, header);
            ByteBuffer body = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int from = 0; from < s.length; from += body.capacity() / 4) {
                body.clear();
                body.asIntBuffer().put(s, from, Math.min(body.capacity() / 4, s.length - from));
                body.limit(Math.min(body.capacity(), (s.length - from) * 4));
                writeFully(ch, body);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The table {@link #save} wrote with {@code stamp}; empty if the file is missing, of another stamp, or damaged. */
    static Optional<AddressFingerprints> load(Path file, long stamp) throws IOException {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, header);
            header.flip();
            if (header.remaining() < HEADER_BYTES || header.getLong() != FILE_MAGIC || header.getLong() != stamp) {
                return Optional.empty();
            }
            int capacity = header.getInt();
            int size = header.getInt();
            if (capacity < MIN_CAPACITY || Integer.bitCount(capacity) != 1 || size < 0 || size > capacity
                    || ch.size() != HEADER_BYTES + 4L * capacity) {
                return Optional.empty();
            }
            AddressFingerprints index = new AddressFingerprints(capacity);
            int[] s = index.slots;
            ByteBuffer body = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            int at = 0;
            while (at < capacity) {
                body.clear();
                body.limit((int) Math.min(body.capacity(), 4L * (capacity - at)));
                readFully(ch, body);
                body.flip();
                int n = body.remaining() / 4;
                body.asIntBuffer().get(s, at, n);
                at += n;
            }
            index.size = size;
            index.slots = s;
            return Optional.of(index);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return;
            }
        }
    }
}

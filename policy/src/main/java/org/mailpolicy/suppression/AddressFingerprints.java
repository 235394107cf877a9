package org.mailpolicy.suppression;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The 32-bit fingerprints ({@link AddressKey#fingerprint}) of the listed addresses, in an
 * open-addressing table of ints: 4 bytes a slot, at most 70% full, so 6 to 11 bytes per address
 * in memory (64 MB for 10 million). A look-up is one or two cache lines; a fingerprint not found
 * means the address is certainly not listed. One found may belong to another address (about one
 * look-up in a hundred million at 10 million addresses), so a hit is always confirmed by the table.
 *
 * <p>A fingerprint's slot is taken from its <em>top</em> bits, so the table holds its fingerprints
 * in ascending (unsigned) order, wrapping aside: the file keeps them as that sorted list, each as
 * the varint of its distance from the one before (about 1.8 bytes an address at 10 million,
 * instead of the table's 6.7), and reading it back fills the table front to back, with no random
 * memory access.
 *
 * <p>Removals leave their fingerprint (another address may share it): a stale one costs a read of
 * the table, never a wrong answer; a rebuild from the table drops them.
 *
 * <p>Thread-safe: one writer at a time (synchronized), readers without a lock. A reader reads
 * {@link #slots} (volatile) first, and a writer writes it again after each put, so a look-up that
 * starts after an add returned sees the add.
 */
final class AddressFingerprints {
    private static final int MIN_BITS = 16;
    private static final double MAX_LOAD = 0.7;
    // "DPSFP2", version 3: sorted varint gaps of the fingerprints of 56-bit keys (version 2's were of 64-bit keys,
    // so its file is read as missing and the index built from the table).
    private static final long FILE_MAGIC = 0x4450_5346_5032_0003L;
    private static final int HEADER_BYTES = 8 + 8 + 4;

    private volatile int[] slots;
    private int size;

    AddressFingerprints() {
        this(MIN_BITS);
    }

    private AddressFingerprints(int bits) {
        this.slots = new int[1 << bits];
    }

    /** False only if no listed address has this fingerprint. */
    boolean mightContain(int fingerprint) {
        int[] s = slots;
        int mask = s.length - 1;
        // The slot is the top bits: shifted by the number of leading zeros of the mask, 32 minus the table's bits.
        for (int i = fingerprint >>> Integer.numberOfLeadingZeros(mask); ; i = (i + 1) & mask) {
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
            s = grown(s, Integer.numberOfTrailingZeros(s.length) + 1);
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
        for (int i = fingerprint >>> Integer.numberOfLeadingZeros(mask); ; i = (i + 1) & mask) {
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

    private static int[] grown(int[] from, int bits) {
        int[] to = new int[1 << bits];
        for (int f : from) {
            if (f != 0) {
                put(to, f);
            }
        }
        return to;
    }

    /** The table's bits for {@code size} fingerprints at most {@link #MAX_LOAD} full. */
    private static int bitsFor(long size) {
        int bits = MIN_BITS;
        while (size > (1L << bits) * MAX_LOAD) {
            bits++;
        }
        return bits;
    }

    /**
     * Writes the fingerprints to {@code file} (through a temporary file beside it, forced to disk, then
     * renamed, so a crash leaves the old file or the new one), marked with {@code stamp}: a header, the
     * sorted fingerprints as varint gaps, and a CRC-32 of all before it.
     */
    synchronized void save(Path file, long stamp) throws IOException {
        int[] sorted = new int[size];
        int n = 0;
        for (int f : slots) {
            if (f != 0) {
                sorted[n++] = f ^ Integer.MIN_VALUE; // unsigned order, sorted as signed
            }
        }
        Arrays.sort(sorted, 0, n);
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + 5 * n + 4);
        out.putLong(FILE_MAGIC).putLong(stamp).putInt(n);
        long previous = 0;
        for (int i = 0; i < n; i++) {
            long value = Integer.toUnsignedLong(sorted[i] ^ Integer.MIN_VALUE);
            for (long gap = value - previous; ; gap >>>= 7) {
                if (gap < 0x80) {
                    out.put((byte) gap);
                    break;
                }
                out.put((byte) (gap | 0x80));
            }
            previous = value;
        }
        CRC32 crc = new CRC32();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        out.flip();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The fingerprints {@link #save} wrote with {@code stamp}; empty if the file is missing, of another
     * stamp or version, or damaged (its checksum, count or order do not hold).
     */
    static Optional<AddressFingerprints> load(Path file, long stamp) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) < HEADER_BYTES + 4 || Files.size(file) > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        if (in.getLong() != FILE_MAGIC || in.getLong() != stamp) {
            return Optional.empty();
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if (ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt() != (int) crc.getValue()) {
            return Optional.empty();
        }
        int n = in.getInt();
        if (n < 0 || n > bytes.length) {
            return Optional.empty();
        }
        AddressFingerprints index = new AddressFingerprints(bitsFor(n));
        int[] s = index.slots;
        int end = bytes.length - 4;
        int at = in.position();
        long value = 0;
        for (int i = 0; i < n; i++) {
            long gap = 0;
            for (int shift = 0; ; shift += 7) {
                if (at >= end || shift > 35) {
                    return Optional.empty();
                }
                byte b = bytes[at++];
                gap |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    break;
                }
            }
            value += gap;
            if ((gap == 0 && i > 0) || value == 0 || value > 0xffff_ffffL) {
                return Optional.empty();
            }
            put(s, (int) value);
        }
        if (at != end) {
            return Optional.empty();
        }
        index.size = n;
        index.slots = s;
        return Optional.of(index);
    }
}

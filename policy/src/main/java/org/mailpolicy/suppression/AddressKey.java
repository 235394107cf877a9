package org.mailpolicy.suppression;

/**
 * Where an address lives in the suppression table, and its fingerprint in memory: pure functions of
 * the normalised address.
 *
 * <p>The table's primary key is a number, not the address: H2 then keeps each row under that
 * number alone (no second index from address to row) and a look-up is one descent of one B-tree.
 * It has {@value #KEY_BITS} bits, not 64: H2 writes a key in 7-bit groups, so a key below 2^56
 * takes 8 bytes where a full 64-bit one took 9 or 10 (1.5 bytes an entry at 10 million). The top
 * {@value #DOMAIN_BITS} of them are a hash of the domain, the rest a hash of the local part,
 * so one domain's rows lie in one range of keys: counting or listing a domain reads that range and
 * needs no index of its own. Two addresses can hash to one key (in a domain of millions, some will),
 * so an address may sit at any of the {@value #SLOTS} keys from its {@link #of own}; a look-up reads
 * that short range and compares the address itself, which is why no collision ever makes one
 * address stand for another.
 */
final class AddressKey {
    static final int KEY_BITS = 56;
    /**
     * A million ranges: at 50,000 domains one in twenty shares its range with another, which counting and
     * listing a domain sort out by its text number.
     */
    static final int DOMAIN_BITS = 20;
    /** 2^36 keys a domain: in a domain of 10 million addresses, about one in 7,000 shares its key with another. */
    private static final int LOCAL_BITS = KEY_BITS - DOMAIN_BITS;
    /** Keys one address may take: its own and the next ones, for addresses whose hashes collide. */
    static final int SLOTS = 16;
    /** The local part's hash stays below this, so an address's slots never leave its domain's range. */
    private static final long LOCAL_RANGE = (1L << LOCAL_BITS) - SLOTS;

    private static final long DOMAIN_SEED = 0x9ae16a3b2f90404fL;
    private static final long LOCAL_SEED = 0xc3a5c85c97cb3127L;

    private AddressKey() {
    }

    /** The first key {@code normalisedAddress} may take (it is normalised: lower case, one {@code @}). */
    static long of(String normalisedAddress) {
        int at = normalisedAddress.lastIndexOf('@');
        return (domainHash(normalisedAddress, at + 1) << LOCAL_BITS) | localHash(normalisedAddress, at);
    }

    /**
     * The first key of the address {@code raw} normalises to ({@link SuppressionEntry#normaliseAddress}),
     * without making the normalised string: the relay asks once per recipient, and most are not
     * listed, so their look-up should allocate nothing. An address in the plain form (no surrounding
     * space or brackets, ASCII, one {@code @}) is checked and hashed in one pass, upper case folded as it
     * goes; any other is normalised first, which also throws for one that is not acceptable.
     *
     * @throws IllegalArgumentException as {@link SuppressionEntry#normaliseAddress} does
     */
    static long ofAddress(String raw) {
        int n = raw == null ? 0 : raw.length();
        if (n == 0 || n > SuppressionEntry.MAX_ADDRESS_LENGTH || raw.charAt(0) <= ' ' || raw.charAt(0) == '<'
                || raw.charAt(n - 1) <= ' ') {
            return of(SuppressionEntry.normaliseAddress(raw));
        }
        long local = 0xcbf29ce484222325L ^ LOCAL_SEED;
        long domain = 0xcbf29ce484222325L ^ DOMAIN_SEED;
        int at = -1;
        char previous = 0;
        for (int i = 0; i < n; i++) {
            char c = raw.charAt(i);
            if (c >= 128 || SuppressionEntry.isForbiddenAscii(c) || (c == '.' && previous == '.' && at >= 0)) {
                return of(SuppressionEntry.normaliseAddress(raw)); // throws, or handles what this pass does not
            }
            if (c == '@') {
                if (at >= 0) {
                    return of(SuppressionEntry.normaliseAddress(raw));
                }
                at = i;
            } else {
                if (c >= 'A' && c <= 'Z') {
                    c += 'a' - 'A';
                }
                if (at < 0) {
                    local = (local ^ c) * 0x100000001b3L;
                } else {
                    domain = (domain ^ c) * 0x100000001b3L;
                }
            }
            previous = c;
        }
        if (at <= 0 || at == n - 1 || raw.charAt(at + 1) == '.' || raw.charAt(n - 1) == '.') {
            return of(SuppressionEntry.normaliseAddress(raw));
        }
        return ((mix(domain) >>> (64 - DOMAIN_BITS)) << LOCAL_BITS) | Long.remainderUnsigned(mix(local), LOCAL_RANGE);
    }

    /** The first key of {@code domain}'s range (lower case, without {@code @}). */
    static long domainStart(String domain) {
        return domainHash(domain, 0) << LOCAL_BITS;
    }

    /** The last key of {@code domain}'s range. */
    static long domainEnd(String domain) {
        return domainStart(domain) | ((1L << LOCAL_BITS) - 1);
    }

    private static long domainHash(String s, int from) {
        return mix(fnv(s, from, s.length(), DOMAIN_SEED)) >>> (64 - DOMAIN_BITS);
    }

    private static long localHash(String s, int to) {
        return Long.remainderUnsigned(mix(fnv(s, 0, to, LOCAL_SEED)), LOCAL_RANGE);
    }

    /**
     * The address's fingerprint for {@link AddressFingerprints}: 32 bits of another mix of its key,
     * never 0 (an empty slot there).
     */
    static int fingerprint(long key) {
        int f = (int) (mix(key ^ 0x2545f4914f6cdd1dL) >>> 32);
        return f == 0 ? 1 : f;
    }

    private static long fnv(String s, int from, int to, long seed) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (int i = from; i < to; i++) {
            h = (h ^ s.charAt(i)) * 0x100000001b3L;
        }
        return h;
    }

    /** Stafford's variant 13 of MurmurHash3's finaliser: every input bit moves every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}

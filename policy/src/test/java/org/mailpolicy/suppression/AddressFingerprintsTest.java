package org.mailpolicy.suppression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AddressFingerprintsTest {
    @TempDir
    Path dir;

    @Test
    void holdsEveryAddedFingerprintAcrossGrowthAndAFileRoundTrip() throws Exception {
        AddressFingerprints index = new AddressFingerprints();
        int n = 200_000; // more than the first table holds at 70 %: it grows twice
        for (int i = 0; i < n; i++) {
            index.add(AddressKey.fingerprint(AddressKey.of("user" + i + "@aol.com")));
        }
        assertThat(index.size()).isBetween(n - 20, n); // 32-bit fingerprints: a few may coincide
        for (int i = 0; i < n; i++) {
            assertThat(index.mightContain(AddressKey.fingerprint(AddressKey.of("user" + i + "@aol.com")))).isTrue();
        }
        int falsePositives = 0;
        for (int i = n; i < 2 * n; i++) {
            falsePositives += index.mightContain(AddressKey.fingerprint(AddressKey.of("user" + i + "@aol.com"))) ? 1 : 0;
        }
        assertThat(falsePositives).isLessThan(20);

        Path file = dir.resolve("s.suppression-index");
        index.save(file, 42);
        AddressFingerprints read = AddressFingerprints.load(file, 42).get();
        assertThat(read.size()).isEqualTo(index.size());
        SplittableRandom r = new SplittableRandom(1);
        for (int k = 0; k < 10_000; k++) {
            int i = r.nextInt(n);
            assertThat(read.mightContain(AddressKey.fingerprint(AddressKey.of("user" + i + "@aol.com")))).isTrue();
        }
        // Another stamp (not the last saved), a damaged or a missing file: not trusted.
        assertThat(AddressFingerprints.load(file, 43)).isEmpty();
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        assertThat(AddressFingerprints.load(file, 42)).isEmpty();
        assertThat(AddressFingerprints.load(dir.resolve("missing"), 42)).isEmpty();
    }

    @Test
    void anAddressKeyStaysInItsDomainsRangeAndIsTheSameForTheSameAddress() {
        for (String a : new String[] {"a@aol.com", "zzzzzzzzzzzzzzzz@aol.com", "x.y+z@gmail.com"}) {
            String domain = a.substring(a.indexOf('@') + 1);
            long key = AddressKey.of(a);
            assertThat(key).isEqualTo(AddressKey.of(new String(a)));
            assertThat(key).isBetween(AddressKey.domainStart(domain), AddressKey.domainEnd(domain) - AddressKey.SLOTS + 1);
            assertThat(AddressKey.fingerprint(key)).isNotZero();
        }
        assertThat(AddressKey.of("bob@aol.com")).isNotEqualTo(AddressKey.of("bob@aol.co"));
    }

    @Test
    void theKeyOfARawAddressIsTheKeyOfItsNormalisedFormAndABadOneIsRefusedAlike() {
        for (String raw : new String[] {"bob@aol.com", "Bob@AOL.com", "BOB@aol.COM", " <Bob@Aol.com> ", "\tbob@aol.com",
                "x.y+z@Gmail.COM", "\u00fcn\u00ef@aol.com", "a@b", "o'hara@example.co.uk", "a.b@c.d.e"}) {
            assertThat(AddressKey.ofAddress(raw)).as(raw).isEqualTo(AddressKey.of(SuppressionEntry.normaliseAddress(raw)));
        }
        for (String bad : new String[] {"bob", "a@@b.com", "a@b@c.com", "@aol.com", "bob@", "bob@.aol.com", "bob@aol.com.",
                "bob@aol..com", "a b@aol.com", "a<b@aol.com", "a\u0001b@aol.com", "", " ", "<>", null}) {
            Throwable expected = catchThrowable(() -> SuppressionEntry.normaliseAddress(bad));
            assertThat(expected).as(String.valueOf(bad)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> AddressKey.ofAddress(bad)).as(String.valueOf(bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage(expected.getMessage());
        }
        // Two dots in the local part are allowed, as normalisation allows them; in the domain they are not.
        assertThat(AddressKey.ofAddress("a..b@aol.com")).isEqualTo(AddressKey.of("a..b@aol.com"));
    }

    @Test
    void randomRawAddressesGetTheKeyOfTheirNormalisedFormOrItsRefusal() {
        // Mostly plain characters, so that many pass the one-pass check, with each kind it must leave to normalisation.
        char[] alphabet = "abcXYZ019.+_-'@@..<> \t\u0000\u00e9\u4e2d".toCharArray();
        java.util.SplittableRandom random = new java.util.SplittableRandom(20261207);
        int plain = 0;
        for (int i = 0; i < 200_000; i++) {
            char[] chars = new char[1 + random.nextInt(12)];
            for (int k = 0; k < chars.length; k++) {
                chars[k] = random.nextInt(4) == 0 ? alphabet[random.nextInt(alphabet.length)] : alphabet[random.nextInt(9)];
            }
            String raw = new String(chars);
            String normalised;
            try {
                normalised = SuppressionEntry.normaliseAddress(raw);
            } catch (IllegalArgumentException e) {
                assertThatThrownBy(() -> AddressKey.ofAddress(raw)).as(raw).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage(e.getMessage());
                continue;
            }
            plain += normalised.equals(raw) ? 1 : 0;
            assertThat(AddressKey.ofAddress(raw)).as(raw).isEqualTo(AddressKey.of(normalised));
        }
        assertThat(plain).as("addresses accepted as written").isGreaterThan(1_000);
    }
}

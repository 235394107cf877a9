package org.mailpolicy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What {@link RequiredLiterals} derives from a regex, and where it must give up. */
class RulesRequiredLiteralsTest {
    @Test
    void alternativesAndGroupsSpellOutTheirLiterals() {
        assertThat(literals("mailbox (not found|unavailable)"))
                .hasValue(Set.of("mailbox not found", "mailbox unavailable"));
        assertThat(literals("(user|mailbox) (does not|doesn.t) exist"))
                .hasValue(Set.of(" exist")); // the product would pass the bound at '.'; the longest known run wins
        assertThat(literals("Mailbox (is )?FULL|over ?quota"))
                .hasValue(Set.of("mailbox full", "mailbox is full", "over quota", "overquota"));
        assertThat(literals("\\bspam\\b|unsolicited")).hasValue(Set.of("spam", "unsolicited"));
        assertThat(literals("Empf[aä]nger unbekannt")).hasValue(Set.of("empfanger unbekannt", "empfänger unbekannt"));
        assertThat(literals("\\[(TSS0[0-35-9]|GL01)\\]")).get().asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.ITERABLE).contains("[tss00]", "[tss09]", "[gl01]")
                .doesNotContain("[tss04]");
        assertThat(literals("^(?!.*(sender|login))(.*(unknown user|user unknown))"))
                .hasValue(Set.of("unknown user", "user unknown"));
        assertThat(literals("4\\.7\\.65[01]\\b")).hasValue(Set.of("4.7.650", "4.7.651"));
    }

    @Test
    void aRegexThatNeedsNoLiteralOrIsNotUnderstoodIsAlwaysTried() {
        assertThat(literals("spam|\\d+")).isEmpty();
        assertThat(literals("(spam)?")).isEmpty();
        assertThat(literals("x*")).isEmpty();
        assertThat(literals("(?-i)Spam")).isEmpty();
        assertThat(literals("(a)\\1")).isEmpty();
        assertThat(literals("\\p{Lu}spam")).isEmpty();
        assertThat(literals("\\Qa.b\\E")).isEmpty();
        assertThat(literals("[^a]")).isEmpty();
        assertThat(literals("[a-z&&[^b]]x")).isEmpty();
    }

    @Test
    void aRegexOfLiteralsOnlyIsDecidedByThem() {
        assertThat(RequiredLiterals.exactly("TempFail")).hasValue(com.google.common.collect.ImmutableSet.of("tempfail"));
        assertThat(RequiredLiterals.exactly("'?mailbox not found'?")).hasValueSatisfying(s -> assertThat(s)
                .containsExactlyInAnyOrder("'mailbox not found'", "'mailbox not found", "mailbox not found'",
                        "mailbox not found"));
        assertThat(RequiredLiterals.exactly("\\[(TSS04|IPTS04)\\]|4\\.7\\.65[01]")).hasValueSatisfying(s -> assertThat(s)
                .containsExactlyInAnyOrder("[tss04]", "[ipts04]", "4.7.650", "4.7.651"));
        // An assertion, a class with ASCII letters or any repetition may refuse a text that holds the literal.
        assertThat(RequiredLiterals.exactly("\\bspam\\b")).isEmpty();
        assertThat(RequiredLiterals.exactly("^spam")).isEmpty();
        assertThat(RequiredLiterals.exactly("spam(?!mer)")).isEmpty();
        assertThat(RequiredLiterals.exactly("Empf[aä]nger")).isEmpty();
        assertThat(RequiredLiterals.exactly("spam.")).isEmpty();
        assertThat(RequiredLiterals.exactly("spam+")).isEmpty();
        assertThat(RequiredLiterals.exactly("spam|x?")).isEmpty();
    }

    @Test
    void mostBuiltInTextRulesHaveLiterals() {
        List<String> without = new ArrayList<>();
        int text = 0;
        for (ReplyRule r : ReplyClassifier.builtIn().rules()) {
            if (r.textPattern() != null) {
                text++;
                if (!RequiredLiterals.of(r.textPattern().pattern()).isPresent()) {
                    without.add(r.id() + " /" + r.textPattern().pattern() + "/");
                }
            }
        }
        System.out.println("RulesRequiredLiteralsTest: text rules always tried: " + without);
        assertThat(RequiredLiterals.of(SuppressionSafety.ABOUT_SENDER.pattern())).as("the suppression guard's words")
                .hasValueSatisfying(literals -> assertThat(literals)
                        .contains("sender ", "unknown sender", "mail from rejected", "return"));
        assertThat(without.size()).as("text rules always tried: %s", without).isLessThanOrEqualTo(text / 10);
    }

    private static Optional<Set<String>> literals(String regex) {
        return RequiredLiterals.of(regex).map(s -> s);
    }
}

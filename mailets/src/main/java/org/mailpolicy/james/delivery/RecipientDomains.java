package org.mailpolicy.james.delivery;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;

/** Recipients grouped by domain: one delivery attempt goes to one domain. */
final class RecipientDomains {

    private RecipientDomains() {
    }

    /** Each domain's recipients, domains in the order their first recipient comes, recipients in their order. */
    static Map<Domain, List<MailAddress>> byDomain(Collection<MailAddress> recipients) {
        Map<Domain, List<MailAddress>> grouped = new LinkedHashMap<>();
        for (MailAddress r : recipients) {
            grouped.computeIfAbsent(r.getDomain(), d -> new ArrayList<>()).add(r);
        }
        ImmutableMap.Builder<Domain, List<MailAddress>> out = ImmutableMap.builder();
        grouped.forEach((domain, addresses) -> out.put(domain, ImmutableList.copyOf(addresses)));
        return out.build();
    }
}

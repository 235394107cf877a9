package org.mailpolicy.james.suppression;

import java.util.Collection;
import javax.mail.MessagingException;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMatcher;
import org.mailpolicy.james.PolicyRuntime;

/**
 * Matches the recipients that are on the suppression list of the policy file named by the
 * condition, for operators who prefer to route them themselves, for example
 * {@code <mailet match="org.mailpolicy.james.suppression.IsSuppressed=conf/delivery-policy.yaml"
 * class="...">}. {@link RemoveSuppressedRecipients} does the removal and the report in one step.
 */
public class IsSuppressed extends GenericMatcher {
    private PolicyRuntime runtime;

    @Override
    public void init() throws MessagingException {
        String condition = getCondition();
        if (condition == null || condition.trim().isEmpty()) {
            throw new MessagingException(getMatcherName() + ": the condition must name the delivery policy file");
        }
        runtime = PolicyRuntime.forPolicyFile(condition);
    }

    @Override
    public Collection<MailAddress> match(Mail mail) {
        return SuppressedRecipients.among(runtime.suppressions(), mail.getRecipients()).keySet();
    }

    @Override
    public String getMatcherInfo() {
        return "Delivery policy: suppressed recipients";
    }
}

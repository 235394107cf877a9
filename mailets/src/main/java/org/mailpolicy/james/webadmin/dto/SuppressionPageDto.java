package org.mailpolicy.james.webadmin.dto;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.google.common.collect.ImmutableList;
import java.time.Instant;
import java.util.List;
import org.mailpolicy.suppression.SuppressionEntry;
import org.mailpolicy.suppression.SuppressionExpiry;

/** One page of the suppression list: how many entries match in all, and the page's. */
@JsonPropertyOrder({"total", "offset", "limit", "entries"})
public final class SuppressionPageDto {
    private final long total;
    private final int offset;
    private final int limit;
    private final List<SuppressionEntryDto> entries;

    private SuppressionPageDto(long total, int offset, int limit, List<SuppressionEntryDto> entries) {
        this.total = total;
        this.offset = offset;
        this.limit = limit;
        this.entries = entries;
    }

    /** @param expiry the policy's, to tell each entry's expiry at {@code now} */
    public static SuppressionPageDto of(long total, int offset, int limit, List<SuppressionEntry> page,
                                        SuppressionExpiry expiry, Instant now) {
        ImmutableList.Builder<SuppressionEntryDto> entries = ImmutableList.builder();
        page.forEach(e -> entries.add(SuppressionEntryDto.from(e, expiry, now)));
        return new SuppressionPageDto(total, offset, limit, entries.build());
    }

    public long getTotal() {
        return total;
    }

    public int getOffset() {
        return offset;
    }

    public int getLimit() {
        return limit;
    }

    public List<SuppressionEntryDto> getEntries() {
        return entries;
    }
}

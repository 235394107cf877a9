package org.mailpolicy.james.dsn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryPath;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.api.Protocol;
import org.apache.mailet.Mail;

/** James's repository store reduced to what a mailet uses: one list-backed repository per URL. */
public class RecordingRepositoryStore implements MailRepositoryStore {
    private final Map<MailRepositoryUrl, ListRepository> repositories = new LinkedHashMap<>();

    @Override
    public synchronized MailRepository select(MailRepositoryUrl url) {
        return repositories.computeIfAbsent(url, u -> new ListRepository());
    }

    /** The names of the mails stored at {@code url}, in order. */
    public synchronized List<String> storedNames(String url) {
        ListRepository r = repositories.get(MailRepositoryUrl.from(url));
        return r == null ? List.of() : r.mails.stream().map(Mail::getName).collect(Collectors.toList());
    }

    @Override
    public Optional<Protocol> defaultProtocol() {
        return Optional.of(new Protocol("memory"));
    }

    @Override
    public synchronized Optional<MailRepository> get(MailRepositoryUrl url) {
        return Optional.ofNullable(repositories.get(url));
    }

    @Override
    public Stream<MailRepository> getByPath(MailRepositoryPath path) {
        throw new UnsupportedOperationException("not used by the mailets under test");
    }

    @Override
    public synchronized Stream<MailRepositoryUrl> getUrls() {
        return new ArrayList<>(repositories.keySet()).stream();
    }

    private static final class ListRepository implements MailRepository {
        private final List<Mail> mails = new ArrayList<>();

        @Override
        public long size() {
            return mails.size();
        }

        @Override
        public MailKey store(Mail mail) {
            mails.add(mail);
            return MailKey.forMail(mail);
        }

        @Override
        public Iterator<MailKey> list() {
            return mails.stream().map(MailKey::forMail).iterator();
        }

        @Override
        public Mail retrieve(MailKey key) {
            return mails.stream().filter(m -> MailKey.forMail(m).equals(key)).findFirst().orElse(null);
        }

        @Override
        public void remove(MailKey key) {
            mails.removeIf(m -> MailKey.forMail(m).equals(key));
        }

        @Override
        public void removeAll() {
            mails.clear();
        }
    }
}

package hellomsk.twin.iam;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Asks the twin's IAM decision service (src/authorization/decision-service.ts, an HTTP server on 127.0.0.1 whose
 * port is in the registry directory) whether a role may make a Kafka request, and caches each answer until the
 * policy set (policies.json in the same directory) changes; and whether a sign-in token's SigV4 signature is the
 * one its access key's secret gives (recomputed there with the AWS SDK's signer). One client per registry directory
 * and JVM, shared by the authorizer and the sign-in validator.
 */
final class DecisionClient {
    /** One answer: allowed, or refused with the reason the service gave (for the broker log only). */
    record Decision(boolean allowed, String reason) {
    }

    /** A Kafka request of a role: the operation and resource type as Kafka names them, and the resource name. */
    record Query(String roleArn, String operation, String resourceType, String patternType, String name) {
        String key() {
            return roleArn + '\0' + operation + '\0' + resourceType + '\0' + patternType + '\0' + name;
        }

        String line() {
            return String.join("\t", roleArn, operation, resourceType, patternType,
                    URLEncoder.encode(name, StandardCharsets.UTF_8));
        }
    }

    private static final Map<Path, DecisionClient> CLIENTS = new ConcurrentHashMap<>();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final Path policiesFile;
    private final Path portFile;
    /** Made on the first question, so that a broker's start does not pay for it. */
    private volatile HttpClient http;
    private final Map<String, Decision> cache = new ConcurrentHashMap<>();
    private volatile String policiesStamp = "";
    private volatile URI endpoint;

    private DecisionClient(Path registryDir) {
        this.policiesFile = registryDir.resolve("policies.json");
        this.portFile = registryDir.resolve("decision-service.port");
    }

    static DecisionClient forRegistry(Path registryDir) {
        return CLIENTS.computeIfAbsent(registryDir.toAbsolutePath(), DecisionClient::new);
    }

    /** The decisions for `queries`, in order: cached ones at once, the others in one request to the service. */
    List<Decision> decide(List<Query> queries) {
        invalidateIfPoliciesChanged();
        List<Decision> decisions = new ArrayList<>(queries.size());
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < queries.size(); i++) {
            Decision cached = cache.get(queries.get(i).key());
            decisions.add(cached);
            if (cached == null) missing.add(i);
        }
        if (missing.isEmpty()) return decisions;
        StringBuilder body = new StringBuilder();
        for (int i : missing) body.append(queries.get(i).line()).append('\n');
        List<Decision> answers;
        try {
            answers = parse(ask("/decide", body.toString()), missing.size());
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            Decision refused = new Decision(false, "the IAM decision service did not answer: " + e);
            for (int i : missing) decisions.set(i, refused);
            return decisions;
        }
        for (int j = 0; j < missing.size(); j++) {
            int i = missing.get(j);
            decisions.set(i, answers.get(j));
            cache.put(queries.get(i).key(), answers.get(j));
        }
        return decisions;
    }

    /** Whether the signature of `token` matches: null when it does, else why not. */
    String signatureMismatch(String token) throws IOException, InterruptedException {
        String answer = ask("/signature", token).trim();
        if (answer.equals("MATCH")) return null;
        if (answer.startsWith("MISMATCH\t")) return answer.substring(9);
        throw new IOException("the decision service answered " + answer);
    }

    /** A cheap stat per call: the writer replaces policies.json by rename, so its time and inode change. */
    private void invalidateIfPoliciesChanged() {
        String stamp;
        try {
            BasicFileAttributes attributes = Files.readAttributes(policiesFile, BasicFileAttributes.class);
            stamp = attributes.lastModifiedTime().toString() + '/' + attributes.fileKey();
        } catch (IOException e) {
            stamp = "none";
        }
        if (!stamp.equals(policiesStamp)) {
            synchronized (this) {
                if (!stamp.equals(policiesStamp)) {
                    cache.clear();
                    policiesStamp = stamp;
                }
            }
        }
    }

    private String ask(String path, String body) throws IOException, InterruptedException {
        HttpClient client = http;
        if (client == null) {
            synchronized (this) {
                if (http == null) {
                    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
                }
                client = http;
            }
        }
        for (int attempt = 0;; attempt++) {
            URI uri = endpoint().resolve(path);
            try {
                HttpResponse<String> response = client.send(
                        HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP " + response.statusCode() + ": " + response.body());
                }
                return response.body();
            } catch (IOException e) {
                // The service may have been restarted on another port: read the port file once more.
                endpoint = null;
                if (attempt > 0) throw e;
            }
        }
    }

    private URI endpoint() throws IOException {
        URI current = endpoint;
        if (current != null) return current;
        String port = null;
        // The service starts beside the brokers' first sign-in (the admin's): wait for it up to the timeout.
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (port == null) {
            try {
                port = Files.readString(portFile, StandardCharsets.UTF_8).trim();
            } catch (NoSuchFileException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("no " + portFile + ": the decision service is not running");
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for the decision service", interrupted);
                }
            }
        }
        current = URI.create("http://127.0.0.1:" + Integer.parseInt(port) + "/");
        endpoint = current;
        return current;
    }

    private static List<Decision> parse(String body, int count) throws IOException {
        String[] lines = body.split("\n", -1);
        if (lines.length < count) throw new IOException("the decision service answered " + lines.length + " lines");
        List<Decision> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String line = lines[i];
            if (line.equals("ALLOW")) {
                out.add(new Decision(true, ""));
            } else if (line.startsWith("DENY\t")) {
                out.add(new Decision(false, line.substring(5)));
            } else {
                throw new IOException("the decision service answered " + line);
            }
        }
        return out;
    }
}

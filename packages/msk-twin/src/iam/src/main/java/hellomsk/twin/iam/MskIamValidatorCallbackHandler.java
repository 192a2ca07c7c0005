package hellomsk.twin.iam;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates MSK IAM sign-in tokens on the local twin's IAM listener, accepting what MSK accepts: a SigV4-presigned
 * kafka-cluster:Connect request for kafka.&lt;region&gt;.amazonaws.com in the twin's region, signed with credentials
 * the twin issued (secret and, when issued, session token), neither expired nor from the future, for a role whose
 * policies allow kafka-cluster:Connect (DecisionClient). The session's principal is that role (User:&lt;role ARN&gt;) and it lasts as long as the token, or less
 * when the credentials expire first.
 *
 * A refused sign-in answers the client like MSK, "[request id]: Access denied", and logs the reason with the same id
 * in one broker log line.
 *
 * Options, from the listener's OAuthBearerLoginModule JAAS entry: twinRegion, twinRegistry (the issuer's directory),
 * twinAdminRoleArn (always allowed to connect), twinClockSkewSeconds.
 */
public class MskIamValidatorCallbackHandler implements AuthenticateCallbackHandler {
    private static final Logger log = LoggerFactory.getLogger(MskIamValidatorCallbackHandler.class);

    private String region;
    private String expectedHost;
    private String adminRoleArn;
    private long clockSkewMs;
    private CredentialRegistry registry;
    private ConnectionRateLimit rateLimit;
    private DecisionClient decisions;

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        if (!OAuthBearerLoginModule.OAUTHBEARER_MECHANISM.equals(saslMechanism)) {
            throw new IllegalArgumentException("Unexpected SASL mechanism: " + saslMechanism);
        }
        Map<String, ?> options = jaasConfigEntries.stream()
                .filter(entry -> entry.getLoginModuleName().equals(OAuthBearerLoginModule.class.getName()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No OAuthBearerLoginModule JAAS entry"))
                .getOptions();
        region = option(options, "twinRegion");
        expectedHost = "kafka." + region + ".amazonaws.com";
        adminRoleArn = option(options, "twinAdminRoleArn");
        clockSkewMs = Long.parseLong(option(options, "twinClockSkewSeconds")) * 1000;
        registry = new CredentialRegistry(Path.of(option(options, "twinRegistry")));
        rateLimit = ConnectionRateLimit.forBroker(configs);
        decisions = DecisionClient.forRegistry(Path.of(option(options, "twinRegistry")));
    }

    private static String option(Map<String, ?> options, String name) {
        Object value = options.get(name);
        if (!(value instanceof String) || ((String) value).isEmpty()) {
            throw new IllegalArgumentException("The JAAS option " + name + " of the MSK IAM validator is not set");
        }
        return (String) value;
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback) {
                validate((OAuthBearerValidatorCallback) callback);
            } else {
                // Includes OAuthBearerExtensionsValidatorCallback: MSK IAM tokens carry no SASL extensions.
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    private void validate(OAuthBearerValidatorCallback callback) throws IOException {
        String requestId = UUID.randomUUID().toString();
        if (rateLimit != null && !rateLimit.tryAcquire(System.nanoTime())) {
            log.warn("MSK IAM sign-in refused [{}]: over {} new IAM connections per second on this broker", requestId,
                    rateLimit.perSecond());
            throw new SaslAuthenticationException("[" + requestId + "]: Too many connects");
        }
        try {
            Session session = check(callback.tokenValue(), System.currentTimeMillis());
            callback.token(session);
            log.info("MSK IAM sign-in [{}]: {} with access key {}, session until {}", requestId,
                    session.principalName(), session.accessKeyId, Instant.ofEpochMilli(session.lifetimeMs()));
        } catch (Refusal refusal) {
            log.warn("MSK IAM sign-in refused [{}]: {}", requestId, refusal.getMessage());
            // A runtime exception reaches the client as this message (a checked one would be replaced by Kafka's
            // generic text); MSK's answer is the same two parts.
            throw new SaslAuthenticationException("[" + requestId + "]: Access denied");
        }
    }

    private Session check(String token, long nowMs) throws Refusal, IOException {
        PresignedConnectRequest request = PresignedConnectRequest.parse(token);
        if (!request.region.equals(region) || !request.host.equals(expectedHost)) {
            throw new Refusal("the token is signed for region " + request.region + " and host " + request.host
                    + "; this cluster is in " + region + " (host " + expectedHost + ")");
        }
        long signedAtMs = request.signedAt.toEpochMilli();
        if (signedAtMs > nowMs + clockSkewMs) {
            throw new Refusal("the token is signed at " + request.signedAt + ", more than " + clockSkewMs / 1000
                    + " s in the future");
        }
        long tokenExpiresAtMs = signedAtMs + request.expiresSeconds * 1000;
        if (nowMs >= tokenExpiresAtMs) {
            throw new Refusal("the token expired at " + Instant.ofEpochMilli(tokenExpiresAtMs) + " (signed at "
                    + request.signedAt + ", X-Amz-Expires " + request.expiresSeconds + ")");
        }
        CredentialRegistry.Issued issued = registry.find(request.accessKeyId);
        if (issued == null) {
            throw new Refusal("access key " + request.accessKeyId + " was not issued by this twin");
        }
        String mismatch;
        try {
            mismatch = decisions.signatureMismatch(token);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refusal("the IAM decision service did not answer: " + e);
        } catch (IOException e) {
            throw new Refusal("the IAM decision service did not answer: " + e);
        }
        if (mismatch != null) {
            throw new Refusal("the signature does not match (access key " + request.accessKeyId
                    + "): the token was altered or signed with another secret key");
        }
        if (issued.sessionToken() != null && !issued.sessionToken().equals(request.securityToken)) {
            throw new Refusal("the session token of access key " + request.accessKeyId
                    + (request.securityToken == null ? " is missing" : " does not match"));
        }
        if (issued.sessionToken() == null && request.securityToken != null) {
            throw new Refusal("access key " + request.accessKeyId + " was issued without a session token");
        }
        if (nowMs >= issued.expiresAtMs()) {
            throw new Refusal("the credentials of access key " + request.accessKeyId + " expired at "
                    + Instant.ofEpochMilli(issued.expiresAtMs()));
        }
        if (!issued.roleArn().equals(adminRoleArn)) {
            DecisionClient.Decision connect = decisions.decide(List.of(
                    new DecisionClient.Query(issued.roleArn(), "CONNECT", "CLUSTER", "LITERAL", "kafka-cluster")))
                    .get(0);
            if (!connect.allowed()) {
                throw new Refusal("role " + issued.roleArn() + " is not allowed kafka-cluster:Connect on this cluster: "
                        + connect.reason());
            }
        }
        return new Session(token, issued.roleArn(), request.accessKeyId, signedAtMs,
                Math.min(tokenExpiresAtMs, issued.expiresAtMs()));
    }

    @Override
    public void close() {
    }

    /** The session a valid token opens: Kafka ends it (KIP-368) at lifetimeMs unless the client signs in again. */
    private static final class Session implements OAuthBearerToken {
        private final String value;
        private final String roleArn;
        private final String accessKeyId;
        private final long startTimeMs;
        private final long lifetimeMs;

        Session(String value, String roleArn, String accessKeyId, long startTimeMs, long lifetimeMs) {
            this.value = value;
            this.roleArn = roleArn;
            this.accessKeyId = accessKeyId;
            this.startTimeMs = startTimeMs;
            this.lifetimeMs = lifetimeMs;
        }

        @Override
        public String value() {
            return value;
        }

        @Override
        public Set<String> scope() {
            return Set.of();
        }

        @Override
        public long lifetimeMs() {
            return lifetimeMs;
        }

        @Override
        public String principalName() {
            return roleArn;
        }

        @Override
        public Long startTimeMs() {
            return startTimeMs;
        }
    }
}

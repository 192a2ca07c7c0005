package hellomsk.twin.iam;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An MSK IAM token taken apart: the base64url (no padding) text of a SigV4-presigned URL
 * {@code https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...&User-Agent=...}, the format
 * aws-msk-iam-sasl-signer-js and aws-msk-iam-auth's IAMOAuthBearerLoginCallbackHandler both produce and the
 * aws-msk-iam-auth README documents. Only the shape is checked here; the credentials in the validator, and the
 * signature by the decision service (DecisionClient.signatureMismatch).
 */
final class PresignedConnectRequest {
    static final String ACTION = "kafka-cluster:Connect";
    static final String SERVICE = "kafka-cluster";
    static final String ALGORITHM = "AWS4-HMAC-SHA256";
    /** Added by both signers after signing, so it is not part of the signed query. */
    static final String USER_AGENT = "User-Agent";
    static final String SIGNATURE = "X-Amz-Signature";
    /** SigV4 presigned URLs live at most seven days. */
    static final long MAX_EXPIRES_SECONDS = 604_800;

    private static final Pattern BASE64URL_NO_PADDING = Pattern.compile("[A-Za-z0-9_-]+");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");
    private static final Pattern HEX_SIGNATURE = Pattern.compile("[0-9a-f]{64}");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

    final String host;
    final String accessKeyId;
    final String region;
    final Instant signedAt;
    final long expiresSeconds;
    /** null when the token carries none. */
    final String securityToken;

    private PresignedConnectRequest(String host, Map<String, String> query, String[] scope, Instant signedAt,
            long expiresSeconds) {
        this.host = host;
        this.accessKeyId = scope[0];
        this.region = scope[2];
        this.signedAt = signedAt;
        this.expiresSeconds = expiresSeconds;
        this.securityToken = query.get("X-Amz-Security-Token");
    }

    static PresignedConnectRequest parse(String token) throws Refusal {
        if (token == null || !BASE64URL_NO_PADDING.matcher(token).matches()) {
            throw new Refusal("the token is not base64url text without padding");
        }
        String url;
        try {
            url = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Refusal("the token is not valid base64url");
        }
        String prefix = "https://";
        int queryStart = url.indexOf('?');
        if (!url.startsWith(prefix) || queryStart < 0 || url.indexOf('#') >= 0) {
            String shape = queryStart < 0 ? url.substring(0, Math.min(url.length(), 40)) : url.substring(0, queryStart);
            throw new Refusal("the token is not a presigned https URL with a query (it begins " + shape + ")");
        }
        String hostAndPath = url.substring(prefix.length(), queryStart);
        int pathStart = hostAndPath.indexOf('/');
        String host = pathStart < 0 ? hostAndPath : hostAndPath.substring(0, pathStart);
        // An empty path is "/" in SigV4's canonical request; AWS's Java SDK writes no slash before the query.
        String path = pathStart < 0 ? "/" : hostAndPath.substring(pathStart);
        if (!path.equals("/")) throw new Refusal("the presigned URL's path is " + path + ", expected /");

        Map<String, String> query = new TreeMap<>();
        for (String pair : url.substring(queryStart + 1).split("&", -1)) {
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            if (name.equals(USER_AGENT)) {
                query.put(name, value);
                continue;
            }
            if (query.put(name, decode(value)) != null) throw new Refusal("the presigned URL repeats " + name);
        }

        require(query, "Action", ACTION);
        require(query, "X-Amz-Algorithm", ALGORITHM);
        String signedHeaders = present(query, "X-Amz-SignedHeaders");
        if (!signedHeaders.equals("host")) {
            throw new Refusal("X-Amz-SignedHeaders is " + signedHeaders + ", expected host");
        }
        String[] scope = present(query, "X-Amz-Credential").split("/", -1);
        if (scope.length != 5 || !scope[3].equals(SERVICE) || !scope[4].equals("aws4_request")) {
            throw new Refusal("X-Amz-Credential is not <access key>/<date>/<region>/kafka-cluster/aws4_request");
        }
        String amzDate = present(query, "X-Amz-Date");
        Instant signedAt;
        try {
            signedAt = LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new Refusal("X-Amz-Date " + amzDate + " is not a date like 20240101T120000Z");
        }
        if (!amzDate.startsWith(scope[1])) {
            throw new Refusal("the credential scope date " + scope[1] + " is not the date of X-Amz-Date " + amzDate);
        }
        String expires = present(query, "X-Amz-Expires");
        // An integer number of seconds: aws-msk-iam-sasl-signer-js 1.0.3 can write a fraction when the
        // credentials expire within 15 minutes, which MSK does not accept (aws-msk-iam-sasl-signer-js PR #33).
        if (!DIGITS.matcher(expires).matches()
                || Long.parseLong(expires) < 1
                || Long.parseLong(expires) > MAX_EXPIRES_SECONDS) {
            throw new Refusal("X-Amz-Expires " + expires + " is not a whole number of seconds from 1 to "
                    + MAX_EXPIRES_SECONDS);
        }
        String signature = present(query, SIGNATURE);
        if (!HEX_SIGNATURE.matcher(signature).matches()) {
            throw new Refusal("X-Amz-Signature is not 64 lowercase hex digits");
        }
        return new PresignedConnectRequest(host, query, scope, signedAt, Long.parseLong(expires));
    }

    private static void require(Map<String, String> query, String name, String expected) throws Refusal {
        String value = present(query, name);
        if (!value.equals(expected)) throw new Refusal(name + " is " + value + ", expected " + expected);
    }

    private static String present(Map<String, String> query, String name) throws Refusal {
        String value = query.get(name);
        if (value == null || value.isEmpty()) throw new Refusal("the presigned URL has no " + name);
        return value;
    }

    /** Percent-decoding as in RFC 3986 ('+' stays '+'; the signers encode a plus sign as %2B). */
    static String decode(String text) throws Refusal {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%') {
                if (i + 2 >= text.length()) throw new Refusal("the presigned URL has a broken %-escape");
                int high = Character.digit(text.charAt(i + 1), 16);
                int low = Character.digit(text.charAt(i + 2), 16);
                if (high < 0 || low < 0) throw new Refusal("the presigned URL has a broken %-escape");
                bytes.write(high * 16 + low);
                i += 2;
            } else if (c > 0x7e || c < 0x21) {
                throw new Refusal("the presigned URL has an unescaped character");
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}

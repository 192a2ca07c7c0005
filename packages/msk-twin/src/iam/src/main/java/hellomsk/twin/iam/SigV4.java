package hellomsk.twin.iam;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.StringJoiner;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signature Version 4 for a presigned GET of "/" with only the host header signed: the canonical request, the
 * string to sign and the HMAC chain of the AWS SigV4 reference (IAM User Guide, "Create a signed AWS API request").
 */
final class SigV4 {
    /** SHA-256 of the empty body: what both MSK signers put in the canonical request of a presigned GET. */
    static final String EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private SigV4() {
    }

    static String expectedSignature(PresignedConnectRequest request, String secretAccessKey) {
        StringJoiner canonicalQuery = new StringJoiner("&");
        // TreeMap order is byte order for these ASCII names, which is the order SigV4 asks for.
        for (Map.Entry<String, String> parameter : request.query.entrySet()) {
            String name = parameter.getKey();
            if (name.equals(PresignedConnectRequest.SIGNATURE) || name.equals(PresignedConnectRequest.USER_AGENT)) {
                continue;
            }
            canonicalQuery.add(uriEncode(name) + "=" + uriEncode(parameter.getValue()));
        }
        String canonicalRequest = String.join("\n",
                "GET",
                "/",
                canonicalQuery.toString(),
                "host:" + request.host,
                "",
                "host",
                EMPTY_PAYLOAD_SHA256);
        String scope = String.join("/", request.scopeDate, request.region, PresignedConnectRequest.SERVICE,
                "aws4_request");
        String stringToSign = String.join("\n",
                PresignedConnectRequest.ALGORITHM,
                request.amzDate,
                scope,
                hex(sha256(canonicalRequest)));
        byte[] key = hmac(("AWS4" + secretAccessKey).getBytes(StandardCharsets.UTF_8), request.scopeDate);
        key = hmac(key, request.region);
        key = hmac(key, PresignedConnectRequest.SERVICE);
        key = hmac(key, "aws4_request");
        return hex(hmac(key, stringToSign));
    }

    /** Compares in constant time, so the answer time says nothing about how much of a signature matched. */
    static boolean matches(String expected, String actual) {
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                actual.getBytes(StandardCharsets.US_ASCII));
    }

    /** SigV4's URI encoding: every byte except A-Z a-z 0-9 - . _ ~ as %XX with upper-case hex. */
    static String uriEncode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}

package hellomsk.twin.iam;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * What the twin's credential issuer (src/iam/credentials.ts) wrote: one file per issued access key. Read at every
 * sign-in, so credentials issued, rotated or revoked while the broker runs count from the next sign-in on.
 */
final class CredentialRegistry {
    /** An access key the issuer wrote; the only characters it uses, so the id is safe as a file name. */
    private static final Pattern ACCESS_KEY_ID = Pattern.compile("[A-Z0-9]{16,128}");

    record Issued(String accessKeyId, String secretAccessKey, String sessionToken, long expiresAtMs,
            String roleArn) {
    }

    private final Path credentialsDir;

    CredentialRegistry(Path registryDir) {
        this.credentialsDir = registryDir.resolve("credentials");
    }

    /** The credentials issued with this access key, or null when the twin never issued (or revoked) it. */
    Issued find(String accessKeyId) throws IOException {
        if (!ACCESS_KEY_ID.matcher(accessKeyId).matches()) return null;
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(credentialsDir.resolve(accessKeyId + ".properties"),
                StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (NoSuchFileException e) {
            return null;
        }
        return new Issued(accessKeyId,
                properties.getProperty("secretAccessKey"),
                properties.getProperty("sessionToken"),
                Long.parseLong(properties.getProperty("expiresAtMs")),
                properties.getProperty("roleArn"));
    }
}

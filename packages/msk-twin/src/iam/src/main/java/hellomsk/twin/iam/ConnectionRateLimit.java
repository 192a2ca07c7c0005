package hellomsk.twin.iam;

import java.util.Map;

/**
 * MSK's limit on new IAM connections per broker per second ("Maximum TCP connections rate per broker (IAM)" in the
 * MSK developer guide's quota page): a sign-in over it is refused, not delayed, and the client reads "[request id]:
 * Too many connects" (aws-msk-iam-auth README, "Failed Authentication: Too many connects").
 *
 * A token bucket holding one second's worth of sign-ins, refilled continuously, one per broker process: Kafka makes a
 * validator per network thread, and they share it. MSK documents neither its window nor its burst: the bucket allows
 * what "N per second" reads as, and no more.
 */
final class ConnectionRateLimit {
    /** The broker property (server.properties) that sets the rate; absent, sign-ins are not limited. */
    static final String RATE_CONFIG = "hellomsk.twin.iam.connection.rate";

    private static ConnectionRateLimit shared;

    private final double perSecond;
    private double tokens;
    private long refilledAtNanos;

    private ConnectionRateLimit(double perSecond, long nowNanos) {
        this.perSecond = perSecond;
        this.tokens = perSecond;
        this.refilledAtNanos = nowNanos;
    }

    /** The broker's limit, as its configuration sets it, or null when it sets none. */
    static synchronized ConnectionRateLimit forBroker(Map<String, ?> configs) {
        Object value = configs.get(RATE_CONFIG);
        if (value == null || value.toString().isEmpty()) return null;
        double perSecond = Double.parseDouble(value.toString());
        if (!(perSecond > 0)) {
            throw new IllegalArgumentException(RATE_CONFIG + " must be a positive number of sign-ins per second, got "
                    + value);
        }
        if (shared == null || shared.perSecond != perSecond) {
            shared = new ConnectionRateLimit(perSecond, System.nanoTime());
        }
        return shared;
    }

    double perSecond() {
        return perSecond;
    }

    /** Takes one sign-in from the bucket; false when the broker is over its rate. */
    synchronized boolean tryAcquire(long nowNanos) {
        tokens = Math.min(perSecond, tokens + (nowNanos - refilledAtNanos) * perSecond / 1e9);
        refilledAtNanos = nowNanos;
        if (tokens < 1) return false;
        tokens -= 1;
        return true;
    }
}

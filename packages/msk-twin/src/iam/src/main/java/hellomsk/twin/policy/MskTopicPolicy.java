package hellomsk.twin.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.server.policy.AlterConfigPolicy;
import org.apache.kafka.server.policy.CreateTopicPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What MSK Serverless and Express brokers refuse in a topic: a replication factor other than the one they fix,
 * a {@code min.insync.replicas} other than the fixed one, a topic setting they do not let clients set, a value
 * above their ceiling, more partitions than the cluster may hold. The broker loads it twice, as
 * {@code create.topic.policy.class.name} and {@code alter.config.policy.class.name}; the limits come from the
 * broker's own properties ({@code msk.twin.topic.policy.*}, written by src/broker/broker-config.ts from
 * packages/msk-catalog), so that every figure lives in one place.
 */
public final class MskTopicPolicy implements CreateTopicPolicy, AlterConfigPolicy {
    static final String PREFIX = "msk.twin.topic.policy.";
    private static final Logger log = LoggerFactory.getLogger(MskTopicPolicy.class);

    private String kind = "this cluster";
    private Short replicationFactor;
    private String minInsyncReplicas;
    private List<String> configs = Collections.emptyList();
    private Long maxMessageBytes;
    private Integer maxPartitions;

    @Override
    public void configure(Map<String, ?> brokerConfig) {
        kind = string(brokerConfig, "kind", kind);
        String rf = string(brokerConfig, "replication.factor", null);
        replicationFactor = rf == null ? null : Short.valueOf(rf);
        minInsyncReplicas = string(brokerConfig, "min.insync.replicas", null);
        String keys = string(brokerConfig, "configs", null);
        configs = keys == null ? Collections.emptyList() : Arrays.asList(keys.split(","));
        String bytes = string(brokerConfig, "max.message.bytes", null);
        maxMessageBytes = bytes == null ? null : Long.valueOf(bytes);
        String partitions = string(brokerConfig, "max.partitions", null);
        maxPartitions = partitions == null ? null : Integer.valueOf(partitions);
    }

    private static String string(Map<String, ?> config, String key, String fallback) {
        Object value = config.get(PREFIX + key);
        return value == null || value.toString().isEmpty() ? fallback : value.toString();
    }

    @Override
    public void validate(CreateTopicPolicy.RequestMetadata request) throws PolicyViolationException {
        String topic = request.topic();
        // Kafka's internal topics (__consumer_offsets, __transaction_state) are the brokers' own, created by them.
        if (topic.startsWith("__")) return;
        Short factor = request.replicationFactor();
        Integer partitions = request.numPartitions();
        if (request.replicasAssignments() != null && !request.replicasAssignments().isEmpty()) {
            partitions = request.replicasAssignments().size();
            factor = (short) request.replicasAssignments().values().iterator().next().size();
        }
        checkConfigs("Topic " + topic, request.configs());
        if (replicationFactor != null && factor != null && !factor.equals(replicationFactor)) {
            throw refuse("Topic " + topic + ": replication factor " + factor
                    + " is not allowed on " + kind + "; allowed: " + replicationFactor);
        }
        if (maxPartitions != null && partitions != null && partitions > maxPartitions) {
            throw refuse("Topic " + topic + ": " + partitions
                    + " partitions are more than " + kind + " allows; allowed: at most " + maxPartitions);
        }
    }

    @Override
    public void validate(AlterConfigPolicy.RequestMetadata request) throws PolicyViolationException {
        if (request.resource().type() != ConfigResource.Type.TOPIC || request.resource().name().startsWith("__")) {
            return;
        }
        checkConfigs("Topic " + request.resource().name(), request.configs());
    }

    private void checkConfigs(String what, Map<String, String> requested) {
        if (requested == null) return;
        List<String> keys = new ArrayList<>(requested.keySet());
        Collections.sort(keys);
        for (String key : keys) {
            String value = requested.get(key);
            if (value == null) continue;
            if (key.equals("min.insync.replicas") && minInsyncReplicas != null) {
                if (!value.equals(minInsyncReplicas)) {
                    throw refuse(what + ": min.insync.replicas " + value
                            + " is not allowed on " + kind + "; allowed: " + minInsyncReplicas + " or unset");
                }
                continue;
            }
            if (!configs.isEmpty() && !configs.contains(key)) {
                throw refuse(what + ": config " + key + " is not allowed on " + kind
                        + "; allowed: " + String.join(", ", configs));
            }
            if (key.equals("max.message.bytes") && maxMessageBytes != null && parseLong(value) > maxMessageBytes) {
                throw refuse(what + ": max.message.bytes " + value + " is not allowed on "
                        + kind + "; allowed: at most " + maxMessageBytes);
            }
        }
    }

    /**
     * The refusal, logged: Java clients get the message with POLICY_VIOLATION, but kafkajs shows only the error
     * code's text, so the broker log is where the reason can always be read.
     */
    private static PolicyViolationException refuse(String message) {
        log.warn("MSK topic policy refused: {}", message);
        return new PolicyViolationException(message);
    }

    private static long parseLong(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            // Kafka's own config validation names the malformed value.
            return Long.MIN_VALUE;
        }
    }

    @Override
    public void close() {}
}

package hellomsk.twin.iam;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.metadata.authorizer.StandardAuthorizer;
import org.apache.kafka.server.authorizer.Action;
import org.apache.kafka.server.authorizer.AuthorizableRequestContext;
import org.apache.kafka.server.authorizer.AuthorizationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authorizes the requests of IAM principals (User:&lt;role ARN&gt;) as MSK does: by evaluating the role's IAM
 * policies for the kafka-cluster action the request maps to (the decision service does the mapping and the
 * evaluation). Super users (the brokers, the controller listener, the twin's admin role) and every other principal
 * are left to StandardAuthorizer, which also keeps the KRaft controller's ACL bookkeeping.
 *
 * Broker configuration: msk.twin.registry (the twin's registry directory), super.users as for StandardAuthorizer.
 */
public class MskIamAuthorizer extends StandardAuthorizer {
    /** The broker property naming the registry directory the decision service and the validator share. */
    public static final String REGISTRY_CONFIG = "msk.twin.registry";

    private static final Logger log = LoggerFactory.getLogger(MskIamAuthorizer.class);

    private Set<String> superUsers = Set.of();
    private DecisionClient decisions;

    @Override
    public void configure(Map<String, ?> configs) {
        super.configure(configs);
        Object superUsersValue = configs.get(SUPER_USERS_CONFIG);
        superUsers = superUsersValue == null ? Set.of()
                : Arrays.stream(superUsersValue.toString().split(";")).map(String::trim)
                        .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        Object registry = configs.get(REGISTRY_CONFIG);
        if (registry == null || registry.toString().isEmpty()) {
            throw new IllegalArgumentException("The broker property " + REGISTRY_CONFIG + " is not set");
        }
        decisions = DecisionClient.forRegistry(Path.of(registry.toString()));
    }

    private boolean isIamPrincipal(KafkaPrincipal principal) {
        return KafkaPrincipal.USER_TYPE.equals(principal.getPrincipalType())
                && principal.getName().startsWith("arn:")
                && !superUsers.contains(principal.toString());
    }

    @Override
    public List<AuthorizationResult> authorize(AuthorizableRequestContext requestContext, List<Action> actions) {
        KafkaPrincipal principal = requestContext.principal();
        if (!isIamPrincipal(principal)) return super.authorize(requestContext, actions);
        List<DecisionClient.Query> queries = new ArrayList<>(actions.size());
        for (Action action : actions) {
            queries.add(new DecisionClient.Query(principal.getName(), action.operation().name(),
                    action.resourcePattern().resourceType().name(), action.resourcePattern().patternType().name(),
                    action.resourcePattern().name()));
        }
        List<DecisionClient.Decision> answers = decisions.decide(queries);
        List<AuthorizationResult> results = new ArrayList<>(actions.size());
        for (int i = 0; i < actions.size(); i++) {
            DecisionClient.Decision decision = answers.get(i);
            Action action = actions.get(i);
            if (!decision.allowed() && action.logIfDenied()) {
                log.info("MSK IAM authorization denied: {} {} {} {}: {}", principal, action.operation(),
                        action.resourcePattern().resourceType(), action.resourcePattern().name(), decision.reason());
            }
            results.add(decision.allowed() ? AuthorizationResult.ALLOWED : AuthorizationResult.DENIED);
        }
        return results;
    }

    /**
     * Kafka asks this only when an idempotent producer without a transactional id lacks IDEMPOTENT_WRITE on the
     * cluster (InitProducerId): may the principal WRITE some topic? MSK's answer is WriteData on every topic.
     */
    @Override
    public AuthorizationResult authorizeByResourceType(AuthorizableRequestContext requestContext, AclOperation op,
            ResourceType resourceType) {
        KafkaPrincipal principal = requestContext.principal();
        if (!isIamPrincipal(principal)) return super.authorizeByResourceType(requestContext, op, resourceType);
        DecisionClient.Decision decision = decisions.decide(List.of(
                new DecisionClient.Query(principal.getName(), op.name(), resourceType.name(), "ANY", "*"))).get(0);
        if (!decision.allowed()) {
            log.info("MSK IAM authorization denied: {} {} on any {}: {}", principal, op, resourceType,
                    decision.reason());
        }
        return decision.allowed() ? AuthorizationResult.ALLOWED : AuthorizationResult.DENIED;
    }
}

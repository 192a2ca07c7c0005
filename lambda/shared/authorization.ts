/**
 * Kafka's authorization and sign-in refusals as the IAM action MSK would have needed, in one line: "Not authorized:
 * kafka-cluster:WriteData on topic test-topic". Kafka answers only with an error code per resource type
 * (TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED) and MSK's sign-in refusal
 * says only "Access denied", so the caller names the action its current operation needs on each resource type;
 * the mapping follows MSK's "Semantics of IAM authorization policy actions and resources"
 * (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html).
 */

/** A resource an operation touches, and the `kafka-cluster:` action (without the prefix) it needs there. */
export interface NeededAction {
  /** e.g. `WriteData` */
  readonly action: string;
  /** The topic or group name; leave out for the cluster. */
  readonly name?: string;
}

/** What the operation that failed needs, per Kafka resource type. */
export interface NeededActions {
  readonly topic?: NeededAction;
  readonly group?: NeededAction;
  readonly cluster?: NeededAction;
  readonly transactionalId?: NeededAction;
}

/** An operation Kafka refused for lack of an IAM action (or a refused sign-in); the message is one line. */
export class NotAuthorizedError extends Error {
  constructor(
    message: string,
    /** `kafka-cluster:<Action>` */
    readonly action: string,
  ) {
    super(message);
    this.name = 'NotAuthorizedError';
  }
}

const CODES: Record<string, keyof NeededActions> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactionalId',
};

const RESOURCE_WORDS: Record<keyof NeededActions, string> = {
  topic: 'topic',
  group: 'group',
  cluster: 'the cluster',
  transactionalId: 'transactional id',
};

/** Every error in kafkajs' wrappers: `cause`, `originalError` and the `errors` of aggregates. */
function errorChain(error: unknown): Error[] {
  const found: Error[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && found.length < 50) {
    const current = queue.shift();
    if (!(current instanceof Error) || found.includes(current)) continue;
    found.push(current);
    const e = current as { cause?: unknown; originalError?: unknown; errors?: unknown };
    queue.push(e.cause, e.originalError);
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
  }
  return found;
}

function isSignInRefusal(error: Error): boolean {
  const typed = error as { type?: unknown };
  // Over MSK's connection rate the sign-in is refused for load, not for want of a permission.
  if (/Too many connects/.test(error.message)) return false;
  return (
    error.name === 'KafkaJSSASLAuthenticationError' ||
    typed.type === 'SASL_AUTHENTICATION_FAILED' ||
    /^SASL \S+ authentication failed/.test(error.message)
  );
}

/**
 * The one-line NotAuthorizedError for `error` when Kafka refused it for lack of authorization (or refused the
 * sign-in), naming the action `needed` says the operation needs on that resource; undefined for other errors.
 */
export function authorizationFailure(error: unknown, needed: NeededActions): NotAuthorizedError | undefined {
  const chain = errorChain(error);
  const signIn = chain.find(isSignInRefusal);
  if (signIn) {
    // MSK answers "[request id]: Access denied" whatever the reason: a missing kafka-cluster:Connect, or a
    // token it does not accept (tampered, expired, another region, unknown credentials).
    const answer = signIn.message.replace(/^SASL \S+ authentication failed: /, '').replace(/\s+/g, ' ');
    return new NotAuthorizedError(
      `Not authorized: kafka-cluster:Connect on the cluster (sign-in refused: ${answer})`,
      'kafka-cluster:Connect',
    );
  }
  for (const e of chain) {
    const kind = CODES[String((e as { type?: unknown }).type)];
    if (!kind) continue;
    const need = needed[kind];
    const where = need?.name === undefined ? RESOURCE_WORDS[kind] : `${RESOURCE_WORDS[kind]} ${need.name}`;
    if (!need) {
      return new NotAuthorizedError(`Not authorized on ${where} (Kafka: ${e.message})`, 'kafka-cluster:*');
    }
    const action = `kafka-cluster:${need.action}`;
    return new NotAuthorizedError(`Not authorized: ${action} on ${where}`, action);
  }
  return undefined;
}

import {
  KafkaJSAggregateError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { authorizationFailure, NotAuthorizedError, type NeededActions } from '../../lambda/shared/authorization';

/** What kafkajs raises for a Kafka error code (the shape of protocol/error.js). */
function protocolError(type: string, code: number, message: string): KafkaJSProtocolError {
  return new KafkaJSProtocolError({ type, code, retriable: false, message } as unknown as Error);
}

function nonRetriable(message: string, cause: Error): Error {
  const Wrapper = KafkaJSNonRetriableError as unknown as new (m: string, o: { cause: Error }) => Error;
  return new Wrapper(message, { cause });
}

const topicDenied = () =>
  protocolError('TOPIC_AUTHORIZATION_FAILED', 29, 'Not authorized to access topics: [Topic authorization failed]');
const groupDenied = () =>
  protocolError('GROUP_AUTHORIZATION_FAILED', 30, 'Not authorized to access group: Group authorization failed');
const clusterDenied = () => protocolError('CLUSTER_AUTHORIZATION_FAILED', 31, 'Cluster authorization failed');

const producerNeeds: NeededActions = {
  topic: { action: 'WriteData', name: 'test-topic' },
  cluster: { action: 'WriteDataIdempotently' },
};
const consumerNeeds: NeededActions = {
  topic: { action: 'ReadData', name: 'test-topic' },
  group: { action: 'AlterGroup', name: 'hello-msk-consumer' },
};

describe('Kafka authorization errors as the IAM action MSK would have needed', () => {
  test.each([
    [
      'TOPIC_AUTHORIZATION_FAILED',
      topicDenied(),
      producerNeeds,
      'Not authorized: kafka-cluster:WriteData on topic test-topic',
    ],
    [
      'CLUSTER_AUTHORIZATION_FAILED (InitProducerId)',
      clusterDenied(),
      producerNeeds,
      'Not authorized: kafka-cluster:WriteDataIdempotently on the cluster',
    ],
    [
      'GROUP_AUTHORIZATION_FAILED',
      groupDenied(),
      consumerNeeds,
      'Not authorized: kafka-cluster:AlterGroup on group hello-msk-consumer',
    ],
    [
      'a refusal wrapped by the retrier',
      new KafkaJSNumberOfRetriesExceeded(topicDenied(), { retryCount: 2, retryTime: 400 }),
      consumerNeeds,
      'Not authorized: kafka-cluster:ReadData on topic test-topic',
    ],
    [
      'a refusal inside an aggregate (admin calls per topic)',
      new KafkaJSAggregateError('Topic creation errors', [topicDenied()]),
      { topic: { action: 'CreateTopic', name: 'orders' } },
      'Not authorized: kafka-cluster:CreateTopic on topic orders',
    ],
    [
      'a refusal as the cause of a non-retriable error',
      nonRetriable('failed', groupDenied()),
      consumerNeeds,
      'Not authorized: kafka-cluster:AlterGroup on group hello-msk-consumer',
    ],
    [
      'a resource type the operation did not expect',
      groupDenied(),
      producerNeeds,
      'Not authorized on group (Kafka: Not authorized to access group: Group authorization failed)',
    ],
  ])('%s', (_name, error, needed, message) => {
    const denied = authorizationFailure(error, needed);
    expect(denied).toBeInstanceOf(NotAuthorizedError);
    expect(denied?.name).toBe('NotAuthorizedError');
    expect(denied?.message).toBe(message);
  });

  test('a refused sign-in names kafka-cluster:Connect and keeps MSK-style answer with its request id', () => {
    // kafkajs' type declarations leave out the constructors' arguments that its code takes.
    const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
    const error = new SaslError(
      'SASL OAUTHBEARER authentication failed: [5f0c2a4e-1b2c-4d5e-8f90-0123456789ab]: Access denied',
    );
    expect(authorizationFailure(error, producerNeeds)?.message).toBe(
      'Not authorized: kafka-cluster:Connect on the cluster (sign-in refused: [5f0c2a4e-1b2c-4d5e-8f90-0123456789ab]: Access denied)',
    );
  });

  test.each([
    ['a connection error', new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1')],
    ['another protocol error', protocolError('NOT_LEADER_FOR_PARTITION', 6, 'not the leader')],
    ['not an error at all', 'boom'],
  ])('%s is not an authorization failure', (_name, error) => {
    expect(authorizationFailure(error, producerNeeds)).toBeUndefined();
  });
});

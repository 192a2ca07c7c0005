/**
 * msk-twin: a local twin of the Amazon MSK cluster of a synthesized CDK app.
 *
 *   const twin = await startTwinApp({ assembly: 'cdk.out' });
 *   const result = await twin.runner('Producer').invoke({ message: 'Hello MSK' });
 *   await twin.stop();
 */
export * from './twin-app';
export * from './twin';
export * from './identity';
export * from './assembly/assembly';
export * from './authorization/decision-service';
export * from './authorization/evaluator';
export * from './authorization/kafka-actions';
export * from './authorization/policies';
export * from './authorization/policy-variants';
export * from './broker/broker-config';
export * from './broker/topology';
export * from './broker/local-kafka';
export * from './broker/maven-progress';
export * from './broker/ports';
export * from './broker/status';
export * from './iam/credentials';
export * from './iam/iam-client';
export * from './iam/java-client';
export * from './iam/validator';
export * from './network/security-groups';
export * from './runner/lambda-runner';
export * from './tls/tls';
export * from './kafkajs-warnings';
export * from './assembly/custom-resource-event';
export * from './esm/event-source-mapping';
export * from './assembly/deployment';
export * from './deploy/custom-resources';
export * from './aws-api/server';

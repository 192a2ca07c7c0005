/**
 * Deploy-time end-to-end check, for `npx integ-runner` against your own account (see the README): deploys the
 * whole app under its own profile (`HelloMsk-integ-*`, beside any `dev` you run), sends a message through the
 * producer function, runs the consumer function, and waits until the consumer's log has the line for exactly
 * the record the producer wrote (its partition and offset), then destroys everything.
 *
 * `npm test` checks this file offline: test/integ/integ-snapshot.test.ts synthesizes it and compares the
 * templates with a committed snapshot. Nothing here needs AWS credentials until integ-runner deploys it.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import recommendedFlags from 'aws-cdk-lib/recommended-feature-flags.json';
import cdkJson from '../../cdk.json';
import { buildApp, type HelloMskStacks } from '../../lib/app';
import { PROFILES_KEY, PROFILE_KEY } from '../../lib/config';

/** The configuration profile of the integration stacks: the `dev` profile under its own stack names. */
export const INTEG_PROFILE = 'integ';
export const INTEG_MESSAGE = 'Hello MSK from integ-runner';

/** The app's context from cdk.json, with an `integ` profile that copies `dev`. */
export function integContext(): Record<string, unknown> {
  const profiles = cdkJson.context[PROFILES_KEY] as Record<string, unknown>;
  return {
    ...recommendedFlags,
    ...cdkJson.context,
    [PROFILE_KEY]: INTEG_PROFILE,
    [PROFILES_KEY]: { ...profiles, [INTEG_PROFILE]: profiles.dev ?? {} },
  };
}

/** Builds the app's stacks and the IntegTest with its assertions. */
export function buildIntegApp(app: App): HelloMskStacks & { integ: IntegTest } {
  const stacks = buildApp(app);
  const { network, cluster, clients, monitoring, config } = stacks;

  const integ = new IntegTest(app, 'HelloMskInteg', {
    testCases: [network, cluster, clients, monitoring],
    // No earlier snapshot to deploy first and update from; an MSK cluster takes 20 to 40 minutes to create.
    stackUpdateWorkflow: false,
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });

  // 1. Send. Its partition and offset identify this run's record, so a line from an earlier run cannot match.
  const send = integ.assertions.invokeFunction({
    functionName: clients.producer.functionName,
    payload: JSON.stringify({ message: INTEG_MESSAGE }),
    logRetention: logs.RetentionDays.ONE_WEEK,
  });
  send.assertAtPath('Payload.topic', ExpectedResult.exact(config.demoTopic));
  const partition = send.getAttString('Payload.messages.0.partition');
  const offset = send.getAttString('Payload.messages.0.offset');

  // 2. Read now rather than wait for the schedule. Retried: the schedule's run may hold the consumer's one
  //    reserved instance for a while.
  const read = integ.assertions.invokeFunction({
    functionName: clients.consumer.functionName,
    payload: JSON.stringify({}),
    logRetention: logs.RetentionDays.ONE_WEEK,
  });
  read
    .expect(
      ExpectedResult.objectLike({
        Payload: Match.serializedJson(Match.objectLike({ topic: config.demoTopic, groupId: config.consumerGroup })),
      }),
    )
    .waitForAssertions({ totalTimeout: Duration.minutes(3), interval: Duration.seconds(10) });

  // 3. The consumer (this invocation or a scheduled one) logged exactly that record, value as the message.
  const logLine = integ.assertions.awsApiCall('CloudWatchLogs', 'filterLogEvents', {
    logGroupName: clients.consumer.logGroup.logGroupName,
    filterPattern: `{ ($.message = "${INTEG_MESSAGE}") && ($.partition = ${partition}) && ($.offset = "${offset}") }`,
  });
  logLine
    .expect(
      ExpectedResult.objectLike({
        events: Match.arrayWith([
          Match.objectLike({
            message: Match.serializedJson(Match.objectLike({ message: INTEG_MESSAGE, topic: config.demoTopic })),
          }),
        ]),
      }),
    )
    .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) });

  send.next(read).next(logLine);
  return { ...stacks, integ };
}

if (require.main === module) {
  const app = new App({ context: integContext() });
  buildIntegApp(app);
  app.synth();
}

import { explainStartupWarnings } from '../../scripts/startup-warnings';

const warn = (error: string) =>
  JSON.stringify({ level: 'WARN', message: 'Response InitProducerId(key: 22, version: 1)', kafkajs: { error } });
const info = JSON.stringify({ level: 'INFO', message: 'Hello MSK' });

describe('explainStartupWarnings', () => {
  test('folds the new-broker retry warnings into one line that says they are normal, where the first was', () => {
    expect(
      explainStartupWarnings([
        warn("The coordinator is loading and hence can't process requests for this group"),
        warn('The group coordinator is not available'),
        warn('The group coordinator is not available'),
        info,
      ]),
    ).toEqual([
      '(kafkajs warned "The coordinator is loading and hence can\'t process requests for this group", "The group coordinator is not available" and retried: normal on a new broker, which creates its internal topics on first use)',
      info,
    ]);
  });

  test('keeps every other line, warnings included, as it is', () => {
    const other = JSON.stringify({ level: 'WARN', message: 'Connection error', kafkajs: { error: 'ECONNREFUSED' } });
    expect(explainStartupWarnings([info, other, 'not json'])).toEqual([info, other, 'not json']);
  });
});

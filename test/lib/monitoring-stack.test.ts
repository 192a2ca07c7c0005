import { Match, type Template } from 'aws-cdk-lib/assertions';
import { buildTestApp, normalise, synthTemplates } from './synth';

type Dimension = { Name: string; Value: unknown };
interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions: Dimension[] };
  Stat: string;
  Period: number;
}
type Widget = { type: string; properties: Record<string, unknown> };

/** One metric an alarm (or a metric-math alarm) reads. */
interface AlarmMetric {
  name: string;
  stat: string;
  period: number;
  dimensions: Record<string, unknown>;
}

/** An alarm reduced to what matters, whether it is a single-metric or a metric-math alarm. */
interface AlarmView {
  id: string;
  threshold: number;
  comparison: string;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: string;
  expression?: string;
  metrics: AlarmMetric[];
  alarmActions: unknown[];
  okActions: unknown[];
}

const dims = (list: Dimension[]) => Object.fromEntries(list.map((d) => [d.Name, d.Value]));

function alarms(t: Template): AlarmView[] {
  return Object.entries(t.findResources('AWS::CloudWatch::Alarm')).map(([id, { Properties: p }]) => {
    const math = p.Metrics as { Expression?: string; MetricStat?: MetricStat }[] | undefined;
    const metrics: AlarmMetric[] = math
      ? math
          .flatMap((q) => (q.MetricStat ? [q.MetricStat] : []))
          .map((stat) => ({
            name: `${stat.Metric.Namespace}/${stat.Metric.MetricName}`,
            stat: stat.Stat,
            period: stat.Period,
            dimensions: dims(stat.Metric.Dimensions),
          }))
      : [
          {
            name: `${p.Namespace}/${p.MetricName}`,
            stat: p.Statistic,
            period: p.Period,
            dimensions: dims(p.Dimensions),
          },
        ];
    return {
      id,
      threshold: p.Threshold,
      comparison: p.ComparisonOperator,
      evaluationPeriods: p.EvaluationPeriods,
      datapointsToAlarm: p.DatapointsToAlarm ?? p.EvaluationPeriods,
      treatMissingData: p.TreatMissingData,
      expression: math?.find((q) => q.Expression)?.Expression,
      metrics,
      alarmActions: p.AlarmActions ?? [],
      okActions: p.OKActions ?? [],
    };
  });
}

/** The alarms that read the given metric, e.g. `AWS/Kafka/CpuUser`. */
function alarmsOn(t: Template, metric: string): AlarmView[] {
  return alarms(t).filter((a) => a.metrics.some((m) => m.name === metric));
}

/** The generated cluster name, read from the Cluster stack's template (not recomputed). */
function clusterNameOf(cluster: Template): string {
  const [resource] = Object.values(cluster.findResources('AWS::MSK::Cluster'));
  return resource.Properties.ClusterName as string;
}

/** The export names under which the Clients stack publishes its producer's and consumer's function names. */
function functionExports(clients: Template): { producer: string; consumer: string } {
  const fns = clients.findResources('AWS::Lambda::Function');
  const idOf = (description: RegExp) =>
    Object.keys(fns).find((id) => description.test(fns[id].Properties.Description as string));
  const outputs = clients.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const exportOf = (id: string | undefined) => {
    const found = Object.values(outputs).find(
      (o) => o.Export && JSON.stringify(o.Value) === JSON.stringify({ Ref: id }),
    );
    if (!id || !found?.Export) throw new Error(`no export of function ${id}`);
    return found.Export.Name;
  };
  return { producer: exportOf(idOf(/sends "Hello MSK"/)), consumer: exportOf(idOf(/logs what is new/)) };
}

/** The dashboard body, with the references CloudFormation resolves kept as JSON text. */
function dashboardBody(t: Template): string {
  const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
}

/** The dashboard's widgets: resolve each reference to a marker so that the body parses as JSON. */
function dashboardWidgets(t: Template): Widget[] {
  const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part).replace(/"/g, "'")}>`))
    .join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

describe('MonitoringStack (dev profile)', () => {
  const { cluster, clients, monitoring } = synthTemplates();
  const clusterName = clusterNameOf(cluster);
  const CLUSTER = { 'Cluster Name': clusterName };
  const broker = (id: number) => ({ 'Cluster Name': clusterName, 'Broker ID': String(id) });

  test('matches the snapshot', () => {
    expect(normalise(monitoring)).toMatchSnapshot();
  });

  test('watches the generated cluster name, which the dev cluster really has', () => {
    expect(clusterName).toMatch(/^HelloMskdevCluster-[0-9A-F]{8}$/);
    const kafkaMetrics = alarms(monitoring).flatMap((a) => a.metrics.filter((m) => m.name.startsWith('AWS/Kafka/')));
    expect(kafkaMetrics.length).toBeGreaterThan(0);
    for (const metric of kafkaMetrics) expect(metric.dimensions['Cluster Name']).toBe(clusterName);
  });

  test('puts every MSK graph of the dashboard on the real cluster, per broker 1..2 where the metric is per broker', () => {
    const graphs = dashboardWidgets(monitoring).filter((w) => w.type === 'metric');
    const kafkaRows = graphs.flatMap((w) =>
      (w.properties.metrics as unknown[][]).filter((row) => row[0] === 'AWS/Kafka'),
    );
    expect(kafkaRows.length).toBeGreaterThan(0);
    for (const row of kafkaRows) {
      const dimensions = Object.fromEntries(
        Array.from({ length: (row.length - 3) / 2 }, (_, i) => [row[2 + 2 * i], row[3 + 2 * i]]),
      );
      expect(dimensions['Cluster Name']).toBe(clusterName);
    }
    const perBroker = (metric: string) =>
      kafkaRows.filter((row) => row[1] === metric).map((row) => row[row.indexOf('Broker ID') + 1]);
    for (const metric of [
      'UnderReplicatedPartitions',
      'UnderMinIsrPartitionCount',
      'KafkaDataLogsDiskUsed',
      'CpuUser',
      'CpuSystem',
    ]) {
      expect(perBroker(metric).sort()).toEqual(expect.arrayContaining(['1', '2']));
    }
    const clusterLevel = kafkaRows.filter((row) =>
      ['ActiveControllerCount', 'OfflinePartitionsCount'].includes(row[1] as string),
    );
    expect(clusterLevel.map((row) => row.slice(1, 4))).toEqual([
      ['ActiveControllerCount', 'Cluster Name', clusterName],
      ['OfflinePartitionsCount', 'Cluster Name', clusterName],
    ]);
    const lagRows = kafkaRows.filter((row) => /OffsetLag|TimeLag/.test(row[1] as string));
    expect(lagRows.map((row) => row[1])).toEqual(['SumOffsetLag', 'MaxOffsetLag', 'EstimatedMaxTimeLag']);
    for (const row of lagRows) {
      expect(row).toEqual(expect.arrayContaining(['Consumer Group', 'hello-msk-consumer', 'Topic', 'test-topic']));
    }
  });

  test("graphs the producer's and consumer's invocations, errors and durations by the Clients stack's function resources", () => {
    const { producer, consumer } = functionExports(clients);
    const body = dashboardBody(monitoring);
    for (const metric of ['Invocations', 'Errors', 'Duration']) {
      for (const exportName of [producer, consumer]) {
        expect(body).toContain(`"AWS/Lambda","${metric}","FunctionName","{"Fn::ImportValue":"${exportName}"}"`);
      }
    }
  });

  test('shows every alarm on the dashboard', () => {
    const [status] = dashboardWidgets(monitoring).filter((w) => w.type === 'alarm');
    const ids = alarms(monitoring).map((a) => a.id);
    expect(status.properties.alarms).toEqual(ids.map((id) => `<{'Fn::GetAtt':['${id}','Arn']}>`));
  });

  test('alarms when the active controller count (sum per minute) is not 1 for 3 minutes; silence is not a KRaft fault', () => {
    const [alarm] = alarmsOn(monitoring, 'AWS/Kafka/ActiveControllerCount');
    expect(alarm).toMatchObject({
      expression: 'ABS(controllers - 1)',
      metrics: [{ name: 'AWS/Kafka/ActiveControllerCount', stat: 'Sum', period: 60, dimensions: CLUSTER }],
      threshold: 0,
      comparison: 'GreaterThanThreshold',
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
  });

  test('treats a silent controller metric as breaching on a ZooKeeper cluster, where every broker reports it', () => {
    const t = synthTemplates({ kafkaVersion: '3.9.x' }).monitoring;
    expect(alarmsOn(t, 'AWS/Kafka/ActiveControllerCount')[0].treatMissingData).toBe('breaching');
  });

  test('alarms on any offline partition within a minute', () => {
    expect(alarmsOn(monitoring, 'AWS/Kafka/OfflinePartitionsCount')).toEqual([
      expect.objectContaining({
        metrics: [{ name: 'AWS/Kafka/OfflinePartitionsCount', stat: 'Maximum', period: 60, dimensions: CLUSTER }],
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        treatMissingData: 'notBreaching',
      }),
    ]);
  });

  test.each([
    ['UnderReplicatedPartitions', 'Minimum', 300, 0, 3],
    ['UnderMinIsrPartitionCount', 'Maximum', 60, 0, 3],
    ['KafkaDataLogsDiskUsed', 'Maximum', 300, 80, 1],
  ])('alarms per broker on %s (%s over %i s) above %i for %i periods', (metric, stat, period, threshold, periods) => {
    const found = alarmsOn(monitoring, `AWS/Kafka/${metric}`);
    expect(found.map((a) => a.metrics[0].dimensions)).toEqual([broker(1), broker(2)]);
    for (const alarm of found) {
      expect(alarm).toMatchObject({
        metrics: [{ name: `AWS/Kafka/${metric}`, stat, period }],
        threshold,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: 'notBreaching',
      });
      expect(alarm.expression).toBeUndefined();
    }
  });

  test('alarms per broker when CpuUser + CpuSystem stays above 60 % for 15 minutes', () => {
    const found = alarmsOn(monitoring, 'AWS/Kafka/CpuUser');
    expect(found).toHaveLength(2);
    found.forEach((alarm, i) => {
      const id = i + 1;
      expect(alarm).toMatchObject({
        expression: `user${id} + system${id}`,
        metrics: [
          { name: 'AWS/Kafka/CpuUser', stat: 'Average', period: 300, dimensions: broker(id) },
          { name: 'AWS/Kafka/CpuSystem', stat: 'Average', period: 300, dimensions: broker(id) },
        ],
        threshold: 60,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: 'notBreaching',
      });
    });
  });

  test('alarms when the consumer group lag on the demo topic stays above 1000 messages for 15 minutes', () => {
    expect(alarmsOn(monitoring, 'AWS/Kafka/SumOffsetLag')).toEqual([
      expect.objectContaining({
        metrics: [
          {
            name: 'AWS/Kafka/SumOffsetLag',
            stat: 'Minimum',
            period: 300,
            dimensions: { 'Cluster Name': clusterName, 'Consumer Group': 'hello-msk-consumer', Topic: 'test-topic' },
          },
        ],
        threshold: 1000,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: 3,
        treatMissingData: 'notBreaching',
      }),
    ]);
  });

  test('alarms on any producer or consumer error in 5 minutes, by the real function names', () => {
    const { producer, consumer } = functionExports(clients);
    const found = alarmsOn(monitoring, 'AWS/Lambda/Errors');
    expect(found.map((a) => a.metrics[0].dimensions.FunctionName)).toEqual([
      { 'Fn::ImportValue': producer },
      { 'Fn::ImportValue': consumer },
    ]);
    for (const alarm of found) {
      expect(alarm).toMatchObject({
        metrics: [{ stat: 'Sum', period: 300 }],
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        treatMissingData: 'notBreaching',
      });
    }
  });

  test('has 13 alarms for two brokers and no notification topic when alarmEmail is empty', () => {
    expect(alarms(monitoring)).toHaveLength(13);
    monitoring.resourceCountIs('AWS::SNS::Topic', 0);
    monitoring.resourceCountIs('AWS::SNS::Subscription', 0);
    for (const alarm of alarms(monitoring)) {
      expect(alarm.alarmActions).toEqual([]);
      expect(alarm.okActions).toEqual([]);
    }
  });

  test('outputs the dashboard URL', () => {
    const outputs = monitoring.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [dashboardId] = Object.keys(monitoring.findResources('AWS::CloudWatch::Dashboard'));
    expect(JSON.stringify(outputs.DashboardUrl.Value)).toContain(`"#dashboards:name=",{"Ref":"${dashboardId}"}`);
  });
});

describe('MonitoringStack variants', () => {
  test('e-mails every alarm and its recovery through an SSL-only topic CloudWatch may publish to, when alarmEmail is set', () => {
    const t = synthTemplates({ alarmEmail: 'ops@example.com' }).monitoring;
    const [topicId] = Object.keys(t.findResources('AWS::SNS::Topic'));
    expect(topicId).toBeDefined();
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
    for (const alarm of alarms(t)) {
      expect(alarm.alarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.okActions).toEqual([{ Ref: topicId }]);
    }
    const [policy] = Object.values(t.findResources('AWS::SNS::TopicPolicy'));
    const statements = policy.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    ]);
    // CloudWatch alarms cannot publish to a topic under the AWS managed key alias/aws/sns.
    expect(t.findResources('AWS::SNS::Topic')[topicId].Properties.KmsMasterKeyId).toBeUndefined();
  });

  test('encrypts the alarm topic with the customer-managed key, whose policy lets CloudWatch alarms use it', () => {
    const { monitoring, network } = synthTemplates({
      alarmEmail: 'ops@example.com',
      encryptionKey: 'customer-managed',
    });
    monitoring.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('EncryptionKey') },
    });
    network.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'CloudWatchAlarmsToTheAlarmTopic',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Resource: '*',
          },
        ]),
      },
    });
  });

  test('has per-broker alarms for brokers 1..3 in prod', () => {
    const { monitoring, cluster } = synthTemplates({ stage: 'prod' });
    const name = clusterNameOf(cluster);
    for (const metric of [
      'UnderReplicatedPartitions',
      'UnderMinIsrPartitionCount',
      'KafkaDataLogsDiskUsed',
      'CpuUser',
    ]) {
      expect(alarmsOn(monitoring, `AWS/Kafka/${metric}`).map((a) => a.metrics[0].dimensions)).toEqual(
        [1, 2, 3].map((id) => ({ 'Cluster Name': name, 'Broker ID': String(id) })),
      );
    }
  });

  test('alarms per broker on any refused IAM connection (IAMTooManyConnections) in prod, whose PER_BROKER level publishes it', () => {
    const { monitoring, cluster } = synthTemplates({ stage: 'prod' });
    const name = clusterNameOf(cluster);
    const found = alarmsOn(monitoring, 'AWS/Kafka/IAMTooManyConnections');
    expect(found.map((a) => a.metrics[0].dimensions)).toEqual(
      [1, 2, 3].map((id) => ({ 'Cluster Name': name, 'Broker ID': String(id) })),
    );
    for (const alarm of found) {
      expect(alarm).toMatchObject({
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        treatMissingData: 'notBreaching',
        metrics: [expect.objectContaining({ stat: 'Maximum', period: 60 })],
      });
    }
  });

  test('graphs IAM sign-ins per broker (IAMNumberOfConnectionRequests) in prod against the m7g quota of 100/s', () => {
    const { monitoring, cluster } = synthTemplates({ stage: 'prod' });
    const name = clusterNameOf(cluster);
    const widget = dashboardWidgets(monitoring).find((w) =>
      String(w.properties.title).includes('IAMNumberOfConnectionRequests'),
    );
    expect(widget?.properties.metrics).toEqual(
      [1, 2, 3].map((id): unknown[] => [
        'AWS/Kafka',
        'IAMNumberOfConnectionRequests',
        'Broker ID',
        String(id),
        'Cluster Name',
        name,
        expect.objectContaining({ stat: 'Maximum', period: 60 }),
      ]),
    );
    expect(widget?.properties.annotations).toEqual({
      horizontal: [expect.objectContaining({ value: 100, label: 'new-connection quota (100/s)' })],
    });
    expect(dashboardBody(monitoring)).toContain('the IAM connection metrics are PER_BROKER-level (paid)');
  });

  test('at the DEFAULT level (dev), where MSK does not publish them, neither alarms nor graphs the IAM connection metrics, and says why', () => {
    const { monitoring } = synthTemplates();
    expect(alarmsOn(monitoring, 'AWS/Kafka/IAMTooManyConnections')).toEqual([]);
    const body = dashboardBody(monitoring);
    expect(body).not.toContain('"AWS/Kafka","IAMNumberOfConnectionRequests"');
    expect(body).toContain(
      'published from the PER_BROKER monitoring level on; this cluster runs DEFAULT. The brokers take 4 new IAM connections per second each.',
    );
  });

  test('MSK Serverless has no IAM connection alarm or graph (no broker metrics)', () => {
    const { monitoring } = synthTemplates({ clusterKind: 'serverless' });
    expect(alarmsOn(monitoring, 'AWS/Kafka/IAMTooManyConnections')).toEqual([]);
    expect(dashboardBody(monitoring)).not.toContain('IAMNumberOfConnectionRequests');
  });

  test('has no consumer-lag alarm when the consumer has no schedule, but still graphs the lag', () => {
    const t = synthTemplates({ consumerSchedule: 'off' }).monitoring;
    expect(alarmsOn(t, 'AWS/Kafka/SumOffsetLag')).toEqual([]);
    expect(dashboardBody(t)).toContain('"AWS/Kafka","SumOffsetLag"');
  });

  test('has no disk alarm or graph for Express brokers, which manage their own storage', () => {
    const t = synthTemplates({ instanceType: 'express.m7g.large', azCount: 3, kafkaVersion: '3.9.x.kraft' }).monitoring;
    expect(alarmsOn(t, 'AWS/Kafka/KafkaDataLogsDiskUsed')).toEqual([]);
    expect(dashboardBody(t)).not.toContain('KafkaDataLogsDiskUsed');
    expect(alarmsOn(t, 'AWS/Kafka/CpuUser')).toHaveLength(3);
  });

  test.each([
    'not-an-email',
    'ops@',
    '@example.com',
    'ops@example',
    'two@example.com,three@example.com',
    'a b@example.com',
  ])('rejects alarmEmail %j at synth with one line naming the key', (email) => {
    expect(() => buildTestApp({ alarmEmail: email })).toThrow(
      `HelloMsk-dev-Monitoring: alarmEmail ${JSON.stringify(email)} (from -c) is not valid; allowed: an e-mail address such as ops@example.com, or "" for no notifications`,
    );
  });

  test.each(['ops@example.com', 'first.last+msk@sub.example.co.uk'])('accepts alarmEmail %j', (email) => {
    expect(() => buildTestApp({ alarmEmail: email })).not.toThrow();
  });
});

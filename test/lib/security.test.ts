import { Match, Template } from 'aws-cdk-lib/assertions';
import { CLIENT_ROLES } from '../../lib/network-stack';
import { synthTemplates } from './synth';

type Statement = { Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown };

function all(templates: Record<string, Template>): Template[] {
  return Object.values(templates);
}

function statements(t: Template): Statement[] {
  const fromPolicies = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Statement[],
  );
  const fromRoles = Object.values(t.findResources('AWS::IAM::Role')).flatMap((r) =>
    ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
      (p) => p.PolicyDocument.Statement,
    ),
  );
  return [...fromPolicies, ...fromRoles];
}

describe('security posture of the default deployment', () => {
  const templates = synthTemplates();

  test('nothing anywhere is open to 0.0.0.0/0 or ::/0', () => {
    for (const t of all(templates)) {
      const text = JSON.stringify(t.toJSON());
      expect(text).not.toContain('0.0.0.0/0');
      expect(text).not.toContain('::/0');
    }
  });

  test('the only ingress in the whole app is the brokers IAM port from the client groups', () => {
    const ingress = all(templates).flatMap((t) => Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')));
    // One rule from each group but the brokers' own: the Network stack's client groups and each Kafka client
    // function's group in the Clients stack.
    const groups = all(templates).flatMap((t) => Object.keys(t.findResources('AWS::EC2::SecurityGroup')));
    expect(groups).toHaveLength(CLIENT_ROLES.length + 3);
    expect(ingress.map((r): unknown[] => [r.Properties.FromPort, r.Properties.ToPort])).toEqual(
      groups.slice(1).map(() => [9098, 9098]),
    );
    const inline = all(templates).flatMap((t) =>
      Object.values(t.findResources('AWS::EC2::SecurityGroup')).flatMap(
        (g) => (g.Properties.SecurityGroupIngress ?? []) as unknown[],
      ),
    );
    expect(inline).toEqual([]);
  });

  test('no policy in any stack grants a wildcard action', () => {
    for (const t of all(templates)) {
      for (const s of statements(t)) {
        for (const action of ([] as string[]).concat(s.Action)) expect(action).not.toMatch(/\*/);
      }
    }
  });

  test('Kafka data-plane permissions name exact topic and group ARNs (the cluster for Connect)', () => {
    const kafka = all(templates)
      .flatMap(statements)
      .filter((s) => JSON.stringify(s.Action).includes('kafka-cluster:'));
    expect(kafka.length).toBeGreaterThan(0);
    for (const s of kafka) {
      const resource = JSON.stringify(s.Resource);
      const clusterLevel = ([] as string[])
        .concat(s.Action)
        .every((a) =>
          ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently', 'kafka-cluster:DescribeCluster'].includes(a),
        );
      if (clusterLevel) expect(resource).toMatch(/ClusterEB0386A7|ClusterEB0386A7Arn/);
      else
        expect(resource).toMatch(
          /:(topic|group)\/HelloMskdevCluster-[0-9A-F]{8}\/.*\/(test-topic|hello-msk-consumer)"/,
        );
    }
  });

  test('no function keeps a secret in its environment', () => {
    for (const t of all(templates)) {
      for (const fn of Object.values(t.findResources('AWS::Lambda::Function'))) {
        const names = Object.keys((fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>);
        for (const name of names) expect(name).not.toMatch(/SECRET|PASSWORD|TOKEN|KEY$/i);
      }
    }
  });

  test('every log group has a retention', () => {
    for (const t of all(templates)) {
      for (const group of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
        expect(group.Properties.RetentionInDays).toEqual(expect.any(Number));
      }
    }
  });

  test('the cluster uses the AWS managed key at rest and TLS everywhere by default', () => {
    templates.cluster.hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: {
        EncryptionAtRest: Match.absent(),
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      },
    });
    templates.network.resourceCountIs('AWS::KMS::Key', 0);
  });
});

describe('customer-managed key option', () => {
  const templates = synthTemplates({ encryptionKey: 'customer-managed' });

  test('creates one KMS key with yearly rotation', () => {
    templates.network.resourceCountIs('AWS::KMS::Key', 1);
    templates.network.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 7 });
  });

  test('encrypts the brokers data volumes with it', () => {
    templates.cluster.hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('EncryptionKey') } },
      },
    });
  });

  test('encrypts every log group of every stack with it', () => {
    let groups = 0;
    for (const t of all(templates)) {
      for (const group of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
        groups += 1;
        expect(JSON.stringify(group.Properties.KmsKeyId)).toMatch(/EncryptionKey/);
      }
    }
    expect(groups).toBeGreaterThanOrEqual(10);
  });

  test('lets CloudWatch Logs use the key only for this account and region, with exact actions', () => {
    const [key] = Object.values(templates.network.findResources('AWS::KMS::Key'));
    const logs = (key.Properties.KeyPolicy.Statement as Statement[]).find(
      (s) => s.Principal && JSON.stringify(s.Principal).includes('logs.'),
    );
    expect(logs).toBeDefined();
    expect(([] as string[]).concat(logs!.Action).every((a) => !a.includes('*'))).toBe(true);
    expect(JSON.stringify(logs!.Condition)).toContain('kms:EncryptionContext:aws:logs:arn');
  });
});

describe('SASL/SCRAM option', () => {
  const templates = synthTemplates({ encryptionKey: 'customer-managed', saslScram: 'true' });

  test('turns on SCRAM beside IAM, never unauthenticated or plaintext', () => {
    templates.cluster.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: {
        Sasl: { Iam: { Enabled: true }, Scram: { Enabled: true } },
        Unauthenticated: { Enabled: false },
      },
      EncryptionInfo: Match.objectLike({ EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } }),
    });
  });

  test('keeps the SCRAM user in a Secrets Manager secret named AmazonMSK_ and encrypted with the key', () => {
    templates.cluster.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: Match.stringLikeRegexp('^AmazonMSK_'),
      KmsKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('EncryptionKey') },
      GenerateSecretString: Match.objectLike({
        GenerateStringKey: 'password',
        SecretStringTemplate: '{"username":"hello-msk"}',
      }),
    });
    templates.cluster.hasResourceProperties('AWS::MSK::BatchScramSecret', {
      SecretArnList: [{ Ref: Match.stringLikeRegexp('ScramSecret') }],
    });
  });

  test('requires ACLs for SCRAM principals', () => {
    const [config] = Object.values(templates.cluster.findResources('AWS::MSK::Configuration'));
    expect(config.Properties.ServerProperties).toContain('allow.everyone.if.no.acl.found=false');
  });

  test('opens the SCRAM port 9096 to its own client security group only', () => {
    templates.network.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 9096,
      ToPort: 9096,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('ScramClientSecurityGroup'), 'GroupId'] },
    });
    templates.network.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { FromPort: 9096 }, 1);
  });
});

import { DescribeAvailabilityZonesCommand, EC2Client, type AvailabilityZone } from '@aws-sdk/client-ec2';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { chooseZones, onEvent } from '../../lambda/availability-zones';

const ec2 = mockClient(EC2Client);

function zone(name: string, id: string, extra: Partial<AvailabilityZone> = {}): AvailabilityZone {
  return {
    ZoneName: name,
    ZoneId: id,
    RegionName: name.replace(/[a-z]$/, ''),
    ZoneType: 'availability-zone',
    State: 'available',
    OptInStatus: 'opt-in-not-required',
    ...extra,
  };
}

/** us-east-1 in an account where the name us-east-1a maps to use1-az3, which MSK refuses. */
const US_EAST_1 = [
  zone('us-east-1a', 'use1-az3'),
  zone('us-east-1b', 'use1-az5'),
  zone('us-east-1c', 'use1-az6'),
  zone('us-east-1d', 'use1-az1'),
  zone('us-east-1e', 'use1-az2'),
  zone('us-east-1f', 'use1-az4'),
];

function event(
  azCount: unknown,
  requestType: 'Create' | 'Update' | 'Delete' = 'Create',
  physicalId = 'availability-zones',
  oldAzCount: unknown = azCount,
) {
  const base = {
    ServiceToken: 'token',
    ResponseURL: 'https://example.invalid',
    StackId: 'stack',
    RequestId: 'req',
    LogicalResourceId: 'AvailabilityZones',
    ResourceType: 'Custom::AvailabilityZones',
    ResourceProperties: { ServiceToken: 'token', AzCount: azCount },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' } as CloudFormationCustomResourceEvent;
  return {
    ...base,
    RequestType: requestType,
    PhysicalResourceId: physicalId,
    OldResourceProperties: { ...base.ResourceProperties, AzCount: oldAzCount },
  } as CloudFormationCustomResourceEvent;
}

beforeEach(() => ec2.reset());

describe('availability-zones custom resource', () => {
  test('skips the zone MSK refuses (use1-az3), whatever its name in this account', async () => {
    ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: US_EAST_1 });
    // CloudFormation delivers the number as a string.
    await expect(onEvent(event('3'))).resolves.toEqual({
      PhysicalResourceId: 'availability-zones:us-east-1b,us-east-1c,us-east-1d:use1-az5,use1-az6,use1-az1',
      Data: { Names: 'us-east-1b,us-east-1c,us-east-1d', ZoneIds: 'use1-az5,use1-az6,use1-az1' },
    });
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'zone-type', Values: ['availability-zone'] },
      { Name: 'state', Values: ['available'] },
    ]);
  });

  test('takes the first zones by name, as Fn::GetAZs would where MSK accepts them all', () => {
    const zones = [zone('eu-west-1c', 'euw1-az3'), zone('eu-west-1a', 'euw1-az1'), zone('eu-west-1b', 'euw1-az2')];
    expect(chooseZones(zones, 2).map((z) => z.ZoneName)).toEqual(['eu-west-1a', 'eu-west-1b']);
  });

  test('ignores Local Zones, zones that need an opt-in and zones that are not available', () => {
    const zones = [
      zone('us-west-2-lax-1a', 'usw2-lax1-az1', { ZoneType: 'local-zone', OptInStatus: 'opted-in' }),
      zone('us-west-2a', 'usw2-az1', { State: 'impaired' }),
      zone('us-west-2b', 'usw2-az2'),
      zone('us-west-2c', 'usw2-az3'),
    ];
    expect(chooseZones(zones, 2).map((z) => z.ZoneName)).toEqual(['us-west-2b', 'us-west-2c']);
  });

  test('fails at once, naming the usable zones and what to set, where the region has too few', async () => {
    ec2
      .on(DescribeAvailabilityZonesCommand)
      .resolves({ AvailabilityZones: [zone('us-west-1b', 'usw1-az3'), zone('us-west-1c', 'usw1-az1')] });
    await expect(onEvent(event(3))).rejects.toThrow(
      'azCount 3 is not possible in us-west-1: MSK can use 2 of its availability zones (us-west-1b (usw1-az3), us-west-1c (usw1-az1)); set azCount to 2',
    );
  });

  test('fails in one line when EC2 refuses the call', async () => {
    ec2
      .on(DescribeAvailabilityZonesCommand)
      .rejects(Object.assign(new Error('not authorized\nto perform'), { name: 'UnauthorizedOperation' }));
    await expect(onEvent(event(2))).rejects.toThrow(
      'DescribeAvailabilityZones failed: UnauthorizedOperation: not authorized to perform',
    );
  });

  test('refuses an AzCount other than 2 or 3', async () => {
    await expect(onEvent(event('4'))).rejects.toThrow('AzCount "4" is not valid; allowed: 2 or 3');
  });

  test('an Update with the same AzCount keeps the earlier choice, even when the region now offers other zones', async () => {
    ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: US_EAST_1 });
    const created = await onEvent(event('2'));
    expect(created.Data?.Names).toBe('us-east-1b,us-east-1c');
    // A zone that sorts first is now usable: a fresh choice would move the subnets.
    ec2.on(DescribeAvailabilityZonesCommand).resolves({
      AvailabilityZones: [zone('us-east-1a', 'use1-az7'), ...US_EAST_1.slice(1)],
    });
    ec2.resetHistory();
    await expect(onEvent(event('2', 'Update', created.PhysicalResourceId))).resolves.toEqual(created);
    expect(ec2.calls()).toHaveLength(0);
  });

  test.each([
    ['a new AzCount', '3', 'availability-zones:us-east-1b,us-east-1c:use1-az5,use1-az6'],
    ['a physical id from before the choice was recorded', '2', 'availability-zones'],
  ])('an Update with %s chooses again', async (_, azCount, physicalId) => {
    ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: US_EAST_1 });
    const updated = await onEvent(event(azCount, 'Update', physicalId, '2'));
    expect(updated.Data?.Names.split(',')).toHaveLength(Number(azCount));
    expect(ec2.commandCalls(DescribeAvailabilityZonesCommand)).toHaveLength(1);
  });

  test('does nothing on delete', async () => {
    await expect(onEvent(event(2, 'Delete'))).resolves.toEqual({ PhysicalResourceId: 'availability-zones' });
    expect(ec2.calls()).toHaveLength(0);
  });
});

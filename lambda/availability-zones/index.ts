import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeAvailabilityZonesCommand, EC2Client, type AvailabilityZone } from '@aws-sdk/client-ec2';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/**
 * Custom resource that chooses the VPC's availability zones at deploy time (synth knows no account): the first
 * `AzCount` plain zones that need no opt-in, are available and that MSK accepts, or one line naming what to set.
 * Answers `Data.Names` (comma-separated). The choice is sticky: the physical id records it and an Update with the
 * same `AzCount` answers it again without asking EC2. docs/decisions.md has the reasoning.
 */
export interface AvailabilityZonesData {
  readonly Names: string;
  readonly ZoneIds: string;
}

interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: AvailabilityZonesData;
}

/**
 * AZ IDs where MSK refuses client subnets: "Client subnets can't occupy the Availability Zone with ID use1-az3"
 * (MSK API reference, BrokerNodeGroupInfo.ClientSubnets,
 * https://docs.aws.amazon.com/msk/1.0/apireference/clusters.html#clusters-model-brokernodegroupinfo).
 */
export const MSK_UNSUPPORTED_ZONE_IDS: readonly string[] = ['use1-az3'];

const logger = new Logger({ serviceName: 'hello-msk-availability-zones' });
const ec2 = new EC2Client({});

/** The failure CloudFormation shows: one line. */
export class AvailabilityZonesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AvailabilityZonesError';
  }
}

export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const raw = (event.ResourceProperties as Record<string, unknown>).AzCount;
  const azCount = Number(raw);
  if (azCount !== 2 && azCount !== 3) {
    throw new AvailabilityZonesError(`AzCount ${JSON.stringify(raw)} is not valid; allowed: 2 or 3`);
  }
  if (event.RequestType === 'Update') {
    const previous = previousChoice(event.PhysicalResourceId, azCount);
    if (previous) {
      logger.info(`Availability zones (kept): ${previous.Names}`);
      return { PhysicalResourceId: event.PhysicalResourceId, Data: previous };
    }
  }
  let zones: AvailabilityZone[];
  try {
    ({ AvailabilityZones: zones = [] } = await ec2.send(
      new DescribeAvailabilityZonesCommand({
        Filters: [
          { Name: 'zone-type', Values: ['availability-zone'] },
          { Name: 'state', Values: ['available'] },
        ],
      }),
    ));
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new AvailabilityZonesError(`DescribeAvailabilityZones failed: ${reason.replace(/\s+/g, ' ')}`);
  }
  const chosen = chooseZones(zones, azCount);
  logger.info(`Availability zones: ${chosen.map((z) => `${z.ZoneName} (${z.ZoneId})`).join(', ')}`);
  const data = { Names: chosen.map((z) => z.ZoneName).join(','), ZoneIds: chosen.map((z) => z.ZoneId).join(',') };
  return { PhysicalResourceId: `${PHYSICAL_ID_PREFIX}:${data.Names}:${data.ZoneIds}`, Data: data };
}

const PHYSICAL_ID_PREFIX = 'availability-zones';

/** The choice an earlier Create or Update recorded in the physical id, when it has `azCount` zones. */
function previousChoice(physicalId: string, azCount: number): AvailabilityZonesData | undefined {
  const [prefix, names, zoneIds, ...rest] = physicalId.split(':');
  if (prefix !== PHYSICAL_ID_PREFIX || !names || !zoneIds || rest.length > 0) return undefined;
  const count = names.split(',').length;
  return count === azCount && zoneIds.split(',').length === count ? { Names: names, ZoneIds: zoneIds } : undefined;
}

/** The first `azCount` usable zones by name, or a one-line error naming the usable ones and what to set. */
export function chooseZones(zones: readonly AvailabilityZone[], azCount: number): AvailabilityZone[] {
  const usable = zones
    .filter(
      (z) =>
        z.ZoneName &&
        z.ZoneId &&
        (z.ZoneType ?? 'availability-zone') === 'availability-zone' &&
        (z.State ?? 'available') === 'available' &&
        (z.OptInStatus ?? 'opt-in-not-required') === 'opt-in-not-required' &&
        !MSK_UNSUPPORTED_ZONE_IDS.includes(z.ZoneId),
    )
    .sort((a, b) => ((a.ZoneName as string) < (b.ZoneName as string) ? -1 : 1));
  if (usable.length < azCount) {
    const region = zones[0]?.RegionName ?? 'this region';
    const names = usable.map((z) => `${z.ZoneName} (${z.ZoneId})`).join(', ') || 'none';
    const fix = usable.length >= 2 ? `set azCount to ${usable.length}` : 'deploy to another region (MSK needs 2 or 3)';
    throw new AvailabilityZonesError(
      `azCount ${azCount} is not possible in ${region}: MSK can use ${usable.length} of its availability zones (${names}); ${fix}`,
    );
  }
  return usable.slice(0, azCount);
}

import type { CfnResource, StackView, TwinApp, TwinEndpoint } from './assembly';
import { cloudFormationResponseHost } from '../identity';

/** CloudFormation delivers every number and boolean of a custom resource's properties as a string. */
export function asCloudFormationDelivers(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(asCloudFormationDelivers);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asCloudFormationDelivers(v)]));
  }
  return value;
}

/**
 * The Create event CloudFormation sends the provider of one custom resource of the app, its properties resolved for
 * the twin as CloudFormation delivers them. `requestId` and `responseUrl` default to fixed ones of the twin.
 */
export function customResourceCreateEventOf(
  app: Pick<TwinApp, 'resolver'>,
  found: { readonly stack: StackView; readonly logicalId: string; readonly resource: CfnResource },
  endpoint: TwinEndpoint,
  options: { readonly requestId?: string; readonly responseUrl?: string } = {},
): Record<string, unknown> {
  const { stack, logicalId, resource } = found;
  const { partition, region, account } = app.resolver.identity;
  const properties = app.resolver.resolve(resource.Properties ?? {}, {
    stack,
    where: `${stack.name}/${logicalId} Properties`,
    endpoint,
  }) as { ServiceToken?: unknown };
  return {
    RequestType: 'Create',
    ServiceToken: properties.ServiceToken,
    ResponseURL: options.responseUrl ?? `https://${cloudFormationResponseHost(region)}/msk-twin`,
    StackId: `arn:${partition}:cloudformation:${region}:${account}:stack/${stack.name}/msk-twin`,
    RequestId: options.requestId ?? `msk-twin-create-${logicalId}`,
    LogicalResourceId: logicalId,
    ResourceType: resource.Type,
    ResourceProperties: asCloudFormationDelivers(properties),
  };
}

/**
 * The Create events of each of the app's custom resources of `resourceType` (e.g. `Custom::MskTopic`, one per
 * topic), in template order (customResourceCreateEventOf).
 */
export function customResourceCreateEvents(
  app: Pick<TwinApp, 'resolver'>,
  resourceType: string,
  endpoint: TwinEndpoint,
): Record<string, unknown>[] {
  return app.resolver.resourcesOfType([resourceType]).map((found) => customResourceCreateEventOf(app, found, endpoint));
}

/** The Create event of the app's one custom resource of `resourceType`; throws unless there is exactly one. */
export function customResourceCreateEvent(
  app: Pick<TwinApp, 'resolver'>,
  resourceType: string,
  endpoint: TwinEndpoint,
): Record<string, unknown> {
  const events = customResourceCreateEvents(app, resourceType, endpoint);
  if (events.length !== 1) {
    throw new Error(`The assembly declares ${events.length} resources of type ${resourceType}; expected one`);
  }
  return events[0];
}

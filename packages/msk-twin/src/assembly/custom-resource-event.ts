import type { TwinApp, TwinEndpoint } from './assembly';
import { TWIN_ACCOUNT, TWIN_REGION, cloudFormationResponseHost } from '../identity';

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
 * The Create events CloudFormation sends the provider of each of the app's custom resources of `resourceType`
 * (e.g. `Custom::MskTopic`, one per topic), in template order, their properties resolved for the twin as
 * CloudFormation delivers them.
 */
export function customResourceCreateEvents(
  app: Pick<TwinApp, 'resolver'>,
  resourceType: string,
  endpoint: TwinEndpoint,
): Record<string, unknown>[] {
  return app.resolver.resourcesOfType([resourceType]).map(({ stack, logicalId, resource }) => {
    const properties = app.resolver.resolve(resource.Properties ?? {}, {
      stack,
      where: `${stack.name}/${logicalId} Properties`,
      endpoint,
    }) as { ServiceToken?: unknown };
    return {
      RequestType: 'Create',
      ServiceToken: properties.ServiceToken,
      ResponseURL: `https://${cloudFormationResponseHost(TWIN_REGION)}/msk-twin`,
      StackId: `arn:aws:cloudformation:${TWIN_REGION}:${TWIN_ACCOUNT}:stack/${stack.name}/msk-twin`,
      RequestId: `msk-twin-create-${logicalId}`,
      LogicalResourceId: logicalId,
      ResourceType: resourceType,
      ResourceProperties: asCloudFormationDelivers(properties),
    };
  });
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

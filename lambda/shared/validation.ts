/** A Lambda event that does not fit the function's event shape; the message names the field. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** Plain-object check for events, which may arrive as `null` or a string from a careless caller. */
export function asEventObject(event: unknown, allowedFields: readonly string[]): Record<string, unknown> {
  if (event === undefined || event === null) return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError(
      `event must be a JSON object with fields ${allowedFields.join(', ')}; got ${describe(event)}`,
    );
  }
  const record = event as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !allowedFields.includes(k));
  if (unknown.length > 0) {
    throw new InvalidEventError(`event field ${unknown[0]} is not known; allowed fields: ${allowedFields.join(', ')}`);
  }
  return record;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Optional whole number within bounds. */
export function optionalInt(
  record: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidEventError(
      `event field ${field} is ${describe(value)}; allowed: a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

export function optionalBoolean(record: Record<string, unknown>, field: string): boolean | undefined {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean')
    throw new InvalidEventError(`event field ${field} is ${describe(value)}; allowed: true or false`);
  return value;
}

export function optionalString(record: Record<string, unknown>, field: string): string | undefined {
  const value = record[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new InvalidEventError(`event field ${field} is ${describe(value)}; allowed: a string`);
  return value;
}

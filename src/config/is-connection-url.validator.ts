import { registerDecorator, ValidationOptions } from 'class-validator';

/**
 * Accepts a URL with one of `protocols` and a host. The message names the
 * variable and the expected schemes only: a credentialed URL is never echoed.
 */
export function IsConnectionUrl(protocols: string[], options?: ValidationOptions) {
  return (target: object, propertyName: string): void => {
    registerDecorator({
      name: 'isConnectionUrl',
      target: target.constructor,
      propertyName,
      options: {
        message: `$property must be a URL like ${protocols[0]}//[user:password@]host:port/…`,
        ...options,
      },
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return protocols.includes(url.protocol) && url.hostname.length > 0;
          } catch {
            return false;
          }
        },
      },
    });
  };
}

import { Transform, TransformFnParams } from 'class-transformer';
import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { decodeCursor } from '../job-cursor';
import { JOB_ERROR_MAX_LENGTH, JOB_TYPE_MAX_LENGTH, JOBS_MESSAGES } from '../jobs.constants';

/** A JSON object: not null, not an array, not a primitive. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function registerRule(
  name: string,
  validate: (value: unknown, args: ValidationArguments) => boolean,
  options?: ValidationOptions,
) {
  return (target: object, propertyName: string): void =>
    registerDecorator({ name, target: target.constructor, propertyName, options, validator: { validate } });
}

/**
 * `type`: a non-blank string of at most JOB_TYPE_MAX_LENGTH characters. One
 * rule with a message per failure, because class-validator runs stacked
 * decorators bottom-up, which would report "too long" for a number.
 */
export const IsJobType = () =>
  registerRule(
    'isJobType',
    (value) => typeof value === 'string' && /\S/.test(value) && value.length <= JOB_TYPE_MAX_LENGTH,
    {
      message: ({ value }: ValidationArguments) => {
        if (typeof value !== 'string') return 'type must be a string';
        if (!/\S/.test(value)) return JOBS_MESSAGES.typeBlank;
        return `type must be at most ${JOB_TYPE_MAX_LENGTH} characters`;
      },
    },
  );

export const IsPlainObject = (options?: ValidationOptions) => registerRule('isPlainObject', isPlainObject, options);

/** `error` of a failed job: a non-empty string (bounded) or a JSON object. */
export const IsJobError = (options?: ValidationOptions) =>
  registerRule(
    'isJobError',
    (value) =>
      (typeof value === 'string' && value.length > 0 && value.length <= JOB_ERROR_MAX_LENGTH) || isPlainObject(value),
    { message: JOBS_MESSAGES.errorShape, ...options },
  );

/** The property may only be sent together with `status: <status>`. */
export const OnlyWithStatus = (status: string, options?: ValidationOptions) =>
  registerRule('onlyWithStatus', (_value, args) => (args.object as { status?: unknown }).status === status, options);

export const IsJobCursor = (options?: ValidationOptions) =>
  registerRule('isJobCursor', (value) => typeof value === 'string' && decodeCursor(value) !== null, {
    message: JOBS_MESSAGES.invalidCursor,
    ...options,
  });

/** Query strings arrive as text: '25' → 25; anything else is left for @IsInt to reject. */
export const ToInt = () =>
  Transform(({ value }: TransformFnParams) =>
    typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : (value as unknown),
  );

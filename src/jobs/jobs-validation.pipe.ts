import {
  ArgumentMetadata,
  BadRequestException,
  Injectable,
  PipeTransform,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { JOBS_MESSAGES } from './jobs.constants';

/** class-validator errors → one line per field (`payload must be a JSON object; property foo should not exist`). */
export function validationMessage(errors: ValidationError[]): string {
  const lines: string[] = [];
  const walk = (error: ValidationError): void => {
    lines.push(...Object.values(error.constraints ?? {}));
    (error.children ?? []).forEach(walk);
  };
  errors.forEach(walk);
  return lines.join('; ');
}

/**
 * The jobs API's validation: DTO fields only (unknown fields are a 400 that
 * names them), values converted to the DTO types, the first failed rule per
 * field, and one readable message. A body that is JSON but not an object
 * (`[]`, `"x"`, `1`) is rejected here, before class-transformer sees it.
 */
@Injectable()
export class JobsValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => new BadRequestException(validationMessage(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      value !== undefined &&
      value !== null &&
      (typeof value !== 'object' || Array.isArray(value))
    ) {
      throw new BadRequestException(JOBS_MESSAGES.bodyNotObject);
    }
    return super.transform(value, metadata);
  }
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** `:id` must be a UUID v4 (any case; stored ids are lower case). */
@Injectable()
export class JobIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_V4.test(value)) throw new BadRequestException(JOBS_MESSAGES.invalidId);
    return value.toLowerCase();
  }
}

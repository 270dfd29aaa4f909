import {
  ArgumentMetadata,
  BadRequestException,
  Injectable,
  PipeTransform,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { isPlainObject } from './dto/job-validators';
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
 * field, and one readable message.
 *
 * The work stays proportional to the DTO, not to the body. A body must be a
 * JSON object without undeclared fields, both checked before
 * class-transformer runs. Nested values (`payload`, `result`, `error`) are
 * opaque JSON, stored as given: the validators look only at their kind, so
 * class-transformer gets a stand-in (`{}` or `[]`) and the DTO gets the
 * parsed value back afterwards. Rebuilt through reflection, a wide payload
 * held the event loop for a second, and a deep one overflowed the stack. The
 * jobs DTOs are flat, so no nested DTO misses its validation; how deep and
 * wide a body may be is bounded where it is parsed (common/json-body.ts).
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
    if (metadata.type !== 'body' || value === undefined || value === null) return super.transform(value, metadata);
    if (!isPlainObject(value)) throw new BadRequestException(JOBS_MESSAGES.bodyNotObject);
    const unknown = unknownFields(value, metadata.metatype);
    if (unknown.length > 0) throw new BadRequestException(unknownFieldsMessage(unknown));
    const shallow: Record<string, unknown> = {};
    for (const [field, fieldValue] of Object.entries(value)) shallow[field] = standIn(fieldValue);
    const dto: unknown = await super.transform(shallow, metadata);
    if (typeof dto !== 'object' || dto === null) return dto;
    for (const [field, shown] of Object.entries(shallow)) {
      if (shown !== value[field]) (dto as Record<string, unknown>)[field] = value[field];
    }
    return dto;
  }
}

/** Most unknown fields a 400 names one by one; the rest are counted. */
const UNKNOWN_FIELDS_NAMED = 5;

/**
 * Top-level fields the DTO does not declare, found before class-transformer
 * runs: a body of ten thousand unknown fields would otherwise be transformed
 * and answered with ten thousand messages. The declared fields come from
 * class-validator's own metadata, the list its whitelist option reads.
 */
function unknownFields(body: Record<string, unknown>, metatype: ArgumentMetadata['metatype']): string[] {
  if (!metatype) return [];
  const declared = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(metatype, '', false, false)
      .map((rule) => rule.propertyName),
  );
  return Object.keys(body).filter((field) => !declared.has(field));
}

function unknownFieldsMessage(fields: string[]): string {
  const named = fields.slice(0, UNKNOWN_FIELDS_NAMED).map(JOBS_MESSAGES.unknownField);
  const rest = fields.length - named.length;
  return [...named, ...(rest > 0 ? [JOBS_MESSAGES.moreUnknownFields(rest)] : [])].join('; ');
}

/** What validation sees of a nested value: its kind, not its content. */
function standIn(value: unknown): unknown {
  if (Array.isArray(value)) return [];
  if (isPlainObject(value)) return {};
  return value;
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

import { ArgumentMetadata, BadRequestException } from '@nestjs/common';
import { CreateJobDto } from './dto/create-job.dto';
import { UpdateJobDto } from './dto/update-job.dto';
import { JobsValidationPipe } from './jobs-validation.pipe';

const createBody: ArgumentMetadata = { type: 'body', metatype: CreateJobDto };
const updateBody: ArgumentMetadata = { type: 'body', metatype: UpdateJobDto };

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

function wide(keys: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, i]));
}

async function rejection(value: unknown, metadata: ArgumentMetadata): Promise<string> {
  const error: unknown = await new JobsValidationPipe().transform(value, metadata).catch((e: unknown) => e);
  if (!(error instanceof BadRequestException)) throw new Error(`expected a 400, got ${String(error)}`);
  return (error.getResponse() as { message: string }).message;
}

describe('JobsValidationPipe', () => {
  const pipe = new JobsValidationPipe();

  it('returns a DTO whose payload is the very object the client sent', async () => {
    const payload = { reportId: 42, nested: nested(30), when: '2026-01-01' };
    const dto = (await pipe.transform({ type: 'report.render', payload }, createBody)) as CreateJobDto;
    expect(dto).toBeInstanceOf(CreateJobDto);
    expect(dto.type).toBe('report.render');
    expect(dto.payload).toBe(payload);
  });

  it('keeps result and error as sent', async () => {
    const result = [{ pages: 3 }, [1, 2]];
    expect(((await pipe.transform({ status: 'succeeded', result }, updateBody)) as UpdateJobDto).result).toBe(result);
    const error = { code: 'E_RENDER', details: { retryable: false } };
    expect(((await pipe.transform({ status: 'failed', error }, updateBody)) as UpdateJobDto).error).toBe(error);
  });

  it('still validates the top-level shape of opaque fields', async () => {
    expect(await rejection({ type: 'a', payload: [1] }, createBody)).toBe('payload must be a JSON object');
    expect(await rejection({ status: 'failed', error: [] }, updateBody)).toBe(
      'error must be a string or a JSON object',
    );
  });

  it('hands class-transformer nothing of a deep result, so it cannot overflow the stack', async () => {
    let result: unknown = [];
    for (let i = 0; i < 100_000; i++) result = [result];
    expect(((await pipe.transform({ status: 'succeeded', result }, updateBody)) as UpdateJobDto).result).toBe(result);
  });

  it('names the first unknown fields and counts the rest', async () => {
    const message = await rejection({ type: 'a', payload: {}, ...wide(20) }, createBody);
    expect(message).toBe(
      'property k0 should not exist; property k1 should not exist; property k2 should not exist; ' +
        'property k3 should not exist; property k4 should not exist; and 15 more unknown properties',
    );
  });

  it('rejects a body that is not a JSON object', async () => {
    for (const body of [[], 'job', 1]) expect(await rejection(body, createBody)).toBe('body must be a JSON object');
  });
});

import { BadRequestException, Injectable, NotFoundException, PipeTransform } from '@nestjs/common';
import { HEALTH_MESSAGES } from './health.constants';
import { HealthMonitor } from './health-monitor';

const NO_EXCLUSIONS: ReadonlySet<string> = new Set();

/** `:check` path parameter: a registered check name, else 404 naming it. */
@Injectable()
export class KnownCheckPipe implements PipeTransform<string, string> {
  constructor(private readonly monitor: HealthMonitor) {}

  transform(name: string): string {
    if (!this.monitor.has(name)) throw new NotFoundException(HEALTH_MESSAGES.unknownCheck(name));
    return name;
  }
}

/**
 * `?exclude=a,b` (repeatable): the set of check names to leave out, else
 * 400 naming the unknown ones.
 */
@Injectable()
export class ExcludeChecksPipe implements PipeTransform<string | string[] | undefined, ReadonlySet<string>> {
  constructor(private readonly monitor: HealthMonitor) {}

  transform(exclude: string | string[] | undefined): ReadonlySet<string> {
    if (exclude === undefined) return NO_EXCLUSIONS;
    const names = (Array.isArray(exclude) ? exclude : [exclude])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !this.monitor.has(n));
    if (unknown.length > 0) throw new BadRequestException(HEALTH_MESSAGES.unknownExclude(unknown));
    return new Set(names);
  }
}

/**
 * The part of autocannon's programmatic API the bench uses (autocannon ships
 * no types; a local declaration instead of another devDependency).
 */
declare module 'autocannon' {
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;

  namespace autocannon {
    /** Shared between one connection's requests. */
    type Context = Record<string, unknown>;

    interface RequestOptions {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
      setupRequest?: (request: RequestOptions, context: Context) => RequestOptions;
      onResponse?: (status: number, body: string, context: Context) => void;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      requests?: RequestOptions[];
    }

    interface Histogram {
      mean: number;
      p50: number;
      p99: number;
      max: number;
      total: number;
    }

    interface Result {
      /** Seconds actually run. */
      duration: number;
      requests: Histogram;
      /** Milliseconds. */
      latency: Histogram;
      non2xx: number;
      errors: number;
      timeouts: number;
    }
  }

  export = autocannon;
}

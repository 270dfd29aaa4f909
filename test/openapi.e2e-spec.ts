/**
 * The OpenAPI document at /docs-json describes every route the application
 * serves, and nothing it does not serve.
 *
 * In process, on the app exactly as createApp() builds it: Fastify's onRoute
 * hook lists the routes Nest registers at init. Redis and PostgreSQL are not
 * needed (the app boots without them); they point at closed ports.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { createAppWithoutDependencies } from './support/in-process-app';

interface Operation {
  responses: Record<string, { content?: Record<string, { examples?: Record<string, unknown>; schema?: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, { description?: string }> }> };
}

const IGNORED_METHODS = new Set(['HEAD', 'OPTIONS']);
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Fastify's `/jobs/:id` is OpenAPI's `/jobs/{id}`. */
const toOpenApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  let app: NestFastifyApplication;
  let doc: OpenApiDocument;
  const served: Array<{ method: string; path: string }> = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    app = await createAppWithoutDependencies();
    const fastify: FastifyInstance = app.getHttpAdapter().getInstance();
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) served.push({ method: method.toUpperCase(), path: route.url });
    });
    await app.init();
    await fastify.ready();
    const response = await fastify.inject({ method: 'GET', url: '/docs-json' });
    expect(response.statusCode).toBe(200);
    doc = response.json<OpenApiDocument>();
  });

  afterAll(async () => {
    await app?.close();
    process.env = saved;
  });

  const apiRoutes = (): Array<{ method: string; path: string }> =>
    served.filter((r) => !IGNORED_METHODS.has(r.method) && !r.path.startsWith('/docs'));

  it('is an OpenAPI 3 document', () => {
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('sees the routes the app serves (the enumeration itself works)', () => {
    const paths = apiRoutes().map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining(['GET /health', 'GET /health/ready', 'GET /health/:check', 'GET /metrics']),
    );
  });

  it('documents every route the app serves, with its method', () => {
    const undocumented = apiRoutes()
      .filter((r) => doc.paths[toOpenApiPath(r.path)]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.path}`);
    expect(undocumented).toEqual([]);
  });

  it('documents no operation the app does not serve', () => {
    const servedKeys = new Set(apiRoutes().map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`));
    const phantom = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => HTTP_METHODS.has(key))
        .map((method) => `${method} ${path}`)
        .filter((key) => !servedKeys.has(key)),
    );
    expect(phantom).toEqual([]);
  });

  it('documents 200 and 503 for readiness, with example bodies', () => {
    const responses = doc.paths['/health/ready'].get.responses;
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['200', '503', '400']));
    const examples = responses['503'].content?.['application/json']?.examples ?? {};
    expect(Object.keys(examples).length).toBeGreaterThan(0);
  });

  it.each([
    ['/health/startup', ['200', '503']],
    ['/health/{check}', ['200', '503', '404']],
    ['/health/ready/{check}', ['200', '503', '404']],
  ])('documents %s with %j', (path, statuses) => {
    expect(Object.keys(doc.paths[path].get.responses)).toEqual(expect.arrayContaining(statuses));
  });

  it('resolves every schema reference', () => {
    const refs = new Set(JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z0-9_]+/g) ?? []);
    const dangling = [...refs].filter((ref) => doc.components.schemas[ref.split('/').pop() ?? ''] === undefined);
    expect(refs.size).toBeGreaterThan(0);
    expect(dangling).toEqual([]);
  });

  it('documents GET /ready as /health/ready', () => {
    expect(Object.keys(doc.paths['/ready'].get.responses).sort()).toEqual(
      Object.keys(doc.paths['/health/ready'].get.responses).sort(),
    );
  });

  it('documents liveness on both /health and /health/live', () => {
    expect(doc.paths['/health'].get.responses['200']).toBeDefined();
    expect(doc.paths['/health/live'].get.responses['200']).toBeDefined();
  });

  it.each([
    ['CreateJobDto', 'payload'],
    ['UpdateJobDto', 'result'],
    ['UpdateJobDto', 'error'],
  ])("states the JSON body limits on %s's %s", (schema, property) => {
    const description = doc.components.schemas[schema]?.properties?.[property]?.description ?? '';
    expect(description).toContain('at most 32 levels of objects and arrays');
    expect(description).toContain('at most 10000 object keys');
  });
});

import { answerPgRuntimeProbe } from './pg-runtime-probe';

describe('answerPgRuntimeProbe', () => {
  const global = globalThis as Record<string, unknown>;
  const saved = {
    navigator: Object.getOwnPropertyDescriptor(globalThis, 'navigator'),
    Response: Object.getOwnPropertyDescriptor(globalThis, 'Response'),
  };
  let responsesBuilt: number;

  beforeEach(() => {
    delete global.navigator;
    responsesBuilt = 0;
    // Counts what pg's probe would construct: on Node 20 the first real Response loads undici.
    Object.defineProperty(globalThis, 'Response', {
      configurable: true,
      writable: true,
      value: class {
        constructor() {
          responsesBuilt += 1;
        }
      },
    });
  });

  afterEach(() => {
    for (const [name, descriptor] of Object.entries(saved)) {
      delete global[name];
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    }
  });

  /** Loads pg's runtime detection afresh, as the app's first use of pg does. */
  const loadPgStream = (): void => {
    jest.isolateModules(() => require('pg/lib/stream'));
  };

  it('without a navigator, pg probes for Cloudflare Workers by constructing a Response', () => {
    loadPgStream();

    expect(responsesBuilt).toBe(1);
  });

  it('lets pg load without constructing a Response', () => {
    answerPgRuntimeProbe();
    loadPgStream();

    expect(responsesBuilt).toBe(0);
  });

  it('defines the navigator Node 21+ has, with a Node.js user agent', () => {
    answerPgRuntimeProbe();

    expect((global.navigator as { userAgent: string }).userAgent).toBe(`Node.js/${process.versions.node.split('.')[0]}`);
  });

  it('leaves a navigator the runtime already has alone', () => {
    const own = { userAgent: 'Node.js/24' };
    global.navigator = own;

    answerPgRuntimeProbe();

    expect(global.navigator).toBe(own);
  });
});

import { setSourceMapsSupport } from 'node:module';

/**
 * A logged stack trace points into src/ (dist/ ships its source maps). Node maps only the modules
 * loaded after this call, so main.ts imports this module first. Dependencies stay unmapped: with
 * `--enable-source-maps`, Node also reads and keeps the source maps of ~850 files under
 * node_modules (6.8 MB of JSON) at every boot, for frames that do not point into src/ anyway.
 */
setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });

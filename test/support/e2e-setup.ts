import { stopAllApps } from './app-process';

// Whatever a spec file's tests did, no app process outlives the file.
afterAll(() => stopAllApps(), 30_000);

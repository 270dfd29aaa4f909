import { stopAllApps } from './app-process';
import { beginTest, endTest } from './wait';

// Root hooks: this beforeEach runs before every describe block's and this afterEach after
// theirs, so a test's scope covers its own hooks. Waits the test left behind (it failed in
// another branch, or timed out) end here instead of at their own deadlines.
beforeEach(() => beginTest());
afterEach(() => endTest());

// Whatever a spec file's tests did, no app process outlives the file.
afterAll(() => stopAllApps(), 30_000);

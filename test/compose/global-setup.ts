import { findCompose } from './compose-stack';

/**
 * Fails the run before any test with one line when there is no Docker engine
 * or no compose: the suite must never pass (or skip) without one.
 */
export default async function globalSetup(): Promise<void> {
  try {
    await findCompose();
  } catch (error) {
    const message = (error as Error).message;
    const oneLine = new Error(message);
    oneLine.stack = message; // Jest prints the stack: keep it to the message itself.
    throw oneLine;
  }
}

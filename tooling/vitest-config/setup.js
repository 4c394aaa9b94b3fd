// Runs before every test file: starts the project's backend or fails the file.
import { setupBackend } from '@tfjs-losses/core';

const backend = process.env.TFJS_BACKEND;
if (!backend) throw new Error('TFJS_BACKEND is not set: run tests through defineLossTestConfig()');

const report = await setupBackend(backend);
if (report.backend !== backend) throw new Error(`expected backend ${backend}, got ${report.backend}`);

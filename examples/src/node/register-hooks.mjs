// `node --import ./src/node/register-hooks.mjs`: installs tfjs-esm-hooks.mjs.
import { register } from 'node:module';

register('./tfjs-esm-hooks.mjs', import.meta.url);

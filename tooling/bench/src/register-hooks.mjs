// `node --import ./src/register-hooks.mjs`: installs esm-hooks.mjs (see there).
import { register } from 'node:module';

register('./esm-hooks.mjs', import.meta.url);

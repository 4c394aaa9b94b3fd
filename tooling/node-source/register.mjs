// `node --import @tfjs-losses/node-source/register`: installs ./hooks.mjs.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);

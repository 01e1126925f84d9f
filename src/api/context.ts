// What every route module receives.
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { HijackRegistry } from './hijack.js';

export interface ApiContext {
  engine: Engine;
  logger: Logger;
  hijack: HijackRegistry;
}

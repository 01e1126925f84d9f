// ImageService's handler map.
import type { CriContext } from './context.js';
import type { ImageHandlers } from './handler-types.js';
import { imageHandlers } from './images/handlers.js';

export async function imageServiceHandlers(ctx: CriContext): Promise<ImageHandlers> {
  return imageHandlers(ctx);
}

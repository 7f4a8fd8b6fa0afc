/**
 * Stands in for `pngjs` in the browser bundle (scripts/build-web.mjs aliases it). Shared modules
 * import pngjs for Node-side PNG I/O; the workbench decodes images through a canvas and never calls it.
 */
function unavailable(): never {
  throw new Error('pngjs is not available in the browser (images are decoded through a canvas)');
}

export class PNG {
  static sync = { read: unavailable, write: unavailable };
  constructor() {
    unavailable();
  }
}

export default { PNG };

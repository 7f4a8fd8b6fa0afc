// Loads the TypeScript fuzz worker in a worker thread when candor runs from source (tsx).
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');

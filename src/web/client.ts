/** The page's side of the worker protocol: typed requests as promises, with progress callbacks. */
import type { Request, Responses, WorkerMessage } from './protocol.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (done: number, total: number) => void };

export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const msg = e.data;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.kind === 'progress') p.progress?.(msg.done, msg.total);
      else {
        this.pending.delete(msg.id);
        if (msg.kind === 'done') p.resolve(msg.result);
        else p.reject(new Error(msg.error));
      }
    };
    worker.onerror = (e) => {
      const err = new Error(`the worker failed: ${e.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  request<T extends Request['type']>(
    req: Extract<Request, { type: T }>,
    opts: { transfer?: Transferable[]; progress?: (done: number, total: number) => void } = {},
  ): Promise<Responses[T]> {
    const id = this.nextId++;
    return new Promise<Responses[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress: opts.progress });
      this.worker.postMessage({ id, req }, { transfer: opts.transfer ?? [] });
    });
  }
}

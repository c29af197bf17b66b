/**
 * What graceful shutdown waits for: the proxy's requests (streams included) and the shadow mirrors
 * still running after their client's answer. Handlers hand their promise to `track`; `idle` tells
 * the shutdown when the last one has settled.
 */

/** Counts requests (and mirrors) in flight, so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  /** How many tracked promises have not settled. */
  get size(): number {
    return this.count;
  }

  /** Tracks `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.count += 1;
    const done = () => {
      this.count -= 1;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    };
    work.then(done, done);
    return work;
  }

  /** Resolves true once nothing is in flight, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}

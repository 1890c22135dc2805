/**
 * Generation slots and a bounded queue: at most `slots` requests generate at once, at most `queue` wait; one more is
 * refused at once (the server answers 503 with Retry-After) instead of waiting without bound. A waiting request whose
 * client goes away leaves the queue.
 */
import { ApiError } from "./errors.js";

export class Limiter {
  readonly slots: number;
  readonly capacity: number;
  #active = 0;
  readonly #waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(slots: number, capacity: number) {
    this.slots = slots;
    this.capacity = capacity;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Wait for a slot; the returned function gives it back (call it once). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#active < this.slots) {
      this.#active++;
      return this.#releaser();
    }
    if (this.#waiting.length >= this.capacity) {
      throw new ApiError(
        503,
        "server_error",
        "server_busy",
        `The server is busy: ${this.#active} request(s) generating and ${this.#waiting.length} waiting; try again later`,
        { headers: { "retry-after": "5" } },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const entry = { resolve, reject };
      this.#waiting.push(entry);
      signal?.addEventListener(
        "abort",
        () => {
          const index = this.#waiting.indexOf(entry);
          if (index >= 0) {
            this.#waiting.splice(index, 1);
            reject(signal.reason);
          }
        },
        { once: true },
      );
    });
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next)
        next.resolve(); // the slot passes to the next in line
      else this.#active--;
    };
  }
}

/**
 * An inter-process lock (proper-lockfile: a lock directory refreshed while held, taken over when stale), waited for
 * with the AbortSignal checked in between, so a second process downloading or generating the same files waits for the
 * first instead of racing it.
 */
import { CancelledError, fileWriteError } from "@vall-e/core";
import lockfile from "proper-lockfile";

/** Hold `lockPath` (guarding `resource`); resolves to the release function. `onWait` is called once if it waits. */
export async function acquireLock(
  resource: string,
  lockPath: string,
  options: { signal?: AbortSignal; onWait?: () => void } = {},
): Promise<() => Promise<void>> {
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError();
    try {
      const release = await lockfile.lock(resource, {
        realpath: false,
        lockfilePath: lockPath,
        stale: 20_000,
        // proper-lockfile throws from a timer when it cannot refresh the lock (e.g. after the machine slept), which
        // would end the process; the work under the lock is safe to finish (downloads are checked before use).
        onCompromised: () => {},
      });
      // Releasing a lock that was compromised (or already taken over) fails; there is nothing left to undo then.
      return () => release().catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw fileWriteError(lockPath, error);
      if (!told) options.onWait?.();
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * Where the queue lives: a Redis URL (`redis://HOST:PORT/N`, `rediss://` for TLS; user and password in the URL), and
 * the queue's name (default "vall-e"). Redis is checked once, with a short timeout, before BullMQ takes over (and
 * reconnects by itself), so a wrong address is a clear error rather than a hang.
 */
import { invalid, VallEError } from "@vall-e/pipeline";
import { Redis } from "ioredis";
import { DEFAULT_QUEUE_NAME } from "../constants.js";

/** The name of the BullMQ job that speaks one item. */
export const JOB_NAME = "synthesize";

export interface QueueLocation {
  /** redis://HOST:PORT/N */
  url: string;
  /** The queue's name (its Redis keys are `bull:<name>:…`). */
  name: string;
}

/** BullMQ's connection options for a Redis URL (commands retried across reconnects, as BullMQ's workers need). */
export function connectionOptions(url: string) {
  return { url, maxRetriesPerRequest: null };
}

/** Check a queue location: a redis:// or rediss:// URL with a host and a database number, and a plain name. */
export function checkQueueLocation(url: unknown, name: unknown = DEFAULT_QUEUE_NAME): QueueLocation {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  const db = parsed?.pathname.replace(/^\//, "") ?? "";
  if (
    parsed === undefined ||
    (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") ||
    parsed.hostname === "" ||
    (db !== "" && !/^\d{1,2}$/.test(db))
  ) {
    throw invalid("a Redis URL redis://HOST:PORT/N", "queue", url);
  }
  if (typeof name !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw invalid("a queue name of 1 to 64 letters, digits, dots, dashes or underscores", "queue name", name);
  }
  return { url: url as string, name };
}

/** The URL without its password, for messages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Connect to Redis once (5 s at most) and close: ERR_QUEUE_UNREACHABLE names the address when it fails. */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new VallEError(
      "ERR_QUEUE_UNREACHABLE",
      `Cannot reach Redis at ${displayUrl(url)}: ${(error as Error).message || String(error)}`,
      { cause: error },
    );
  } finally {
    client.disconnect();
  }
}

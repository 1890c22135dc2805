export interface Fixture {
  /** Absolute path of the fixture. */
  path: string;
  /** Whether it exists. */
  present: boolean;
  /** "skipped: fixture … is absent" when it does not, for test names. */
  reason: string;
}

/** The shared folder beside the repo (VALL_E_SHARED_DIR overrides). */
export declare function sharedDir(): string;

/** A file or folder under shared/fixtures. */
export declare function fixture(...parts: string[]): Fixture;

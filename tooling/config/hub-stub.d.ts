export interface HubStubFile {
  bytes: Buffer;
  /** Stored with Git LFS (checksum: SHA-256) or in git itself (checksum: the git blob SHA-1). */
  lfs: boolean;
}
export interface HubFault {
  /** Close the connection after this many body bytes of the next file transfer. */
  dropAfter?: number | undefined;
  /** Serve altered bytes (a checksum mismatch). */
  corrupt?: boolean;
  /** Pause between 16 KiB chunks (ms). */
  slow?: number;
  /** Accept every request and never answer it. */
  hang?: boolean;
  /** Stop sending (the connection stays open) after this many body bytes of the next transfer. */
  stallAfter?: number | undefined;
}
export interface HubRequest {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}
export interface HubStub {
  endpoint: string;
  requests: HubRequest[];
  fault: HubFault;
  close(): Promise<void>;
}
export function startHubStub(files: Map<string, HubStubFile>, repo?: string): Promise<HubStub>;
export function closedPort(): Promise<number>;
export function sha256(bytes: Buffer): string;

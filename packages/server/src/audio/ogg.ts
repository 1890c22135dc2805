/**
 * An Ogg muxer for one Opus stream: Ogg framing from RFC 3533 (pages, lacing, the CRC) and the Opus mapping from
 * RFC 7845 (an OpusHead page, OpusTags pages, audio pages whose granule positions count 48 kHz samples from the
 * start of decoding, pre-skip included, and an end-of-stream page whose granule position trims the padding).
 * Packets never continue across pages: a 20 ms Opus packet is at most 1275 bytes, 6 of a page's 255 segments.
 */
import { randomInt } from "node:crypto";
import { VallEError } from "@vall-e/pipeline";

/** header_type flags (RFC 3533 §6). */
export const OGG_BEGIN_OF_STREAM = 0x02;
export const OGG_END_OF_STREAM = 0x04;

const MAX_SEGMENTS = 255;
const PAGE_HEADER_SIZE = 27;

/** CRC-32 as Ogg computes it: polynomial 0x04c11db7, most significant bit first, initial value 0, no final xor. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    table[byte] = crc >>> 0;
  }
  return table;
})();

export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] as number)) >>> 0;
  return crc;
}

/** The lacing values of one packet: 255 for each full 255 bytes, then the remainder (0 when there is none). */
function lacing(length: number): number[] {
  const values = new Array<number>(Math.floor(length / 255)).fill(255);
  values.push(length % 255);
  return values;
}

export interface OggPage {
  /** Whole packets, first to last. */
  packets: readonly Uint8Array[];
  granulePosition: number;
  serialNumber: number;
  sequenceNumber: number;
  /** OGG_BEGIN_OF_STREAM and/or OGG_END_OF_STREAM. */
  flags: number;
}

/** The bytes of one page (RFC 3533 §6: "OggS", version 0, flags, granule, serial, sequence, CRC, segment table). */
export function oggPage(page: OggPage): Uint8Array {
  const segments = page.packets.flatMap((packet) => lacing(packet.length));
  if (segments.length > MAX_SEGMENTS) {
    throw new VallEError("ERR_INTERNAL", `An Ogg page holds at most ${MAX_SEGMENTS} segments, got ${segments.length}`);
  }
  const bodySize = page.packets.reduce((sum, packet) => sum + packet.length, 0);
  const bytes = new Uint8Array(PAGE_HEADER_SIZE + segments.length + bodySize);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4f, 0x67, 0x67, 0x53], 0); // "OggS"
  bytes[4] = 0; // stream structure version
  bytes[5] = page.flags;
  view.setBigInt64(6, BigInt(page.granulePosition), true);
  view.setUint32(14, page.serialNumber, true);
  view.setUint32(18, page.sequenceNumber, true);
  // bytes 22-25: the CRC, computed with the field zeroed
  bytes[26] = segments.length;
  bytes.set(segments, PAGE_HEADER_SIZE);
  let offset = PAGE_HEADER_SIZE + segments.length;
  for (const packet of page.packets) {
    bytes.set(packet, offset);
    offset += packet.length;
  }
  view.setUint32(22, oggCrc32(bytes), true);
  return bytes;
}

export interface OggOpusHeader {
  /** Samples at 48 kHz the decoder drops at the start: the encoder's look-ahead. */
  preSkip: number;
  /** The rate the audio was encoded from (informational: decoders output 48 kHz). */
  inputSampleRate: number;
  /** Who encoded it (OpusTags' vendor string). */
  vendor: string;
}

export interface OggOpusMuxerOptions {
  /** The logical stream's serial number (default: random, as RFC 3533 asks). */
  serialNumber?: number;
  /** Audio packets per page (default 50: one second of 20 ms packets). */
  packetsPerPage?: number;
}

/** RFC 7845 §5.1: "OpusHead", version 1, channels, pre-skip, input rate, output gain, mapping family 0. */
export function opusHead(header: OggOpusHeader): Uint8Array {
  const bytes = new Uint8Array(19);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("OpusHead"), 0);
  bytes[8] = 1; // version
  bytes[9] = 1; // channels: mono
  view.setUint16(10, header.preSkip, true);
  view.setUint32(12, header.inputSampleRate, true);
  view.setInt16(16, 0, true); // output gain (Q7.8 dB)
  bytes[18] = 0; // channel mapping family 0: mono or stereo, no mapping table
  return bytes;
}

/** RFC 7845 §5.2: "OpusTags", the vendor string, then the user comments (none). */
export function opusTags(vendor: string): Uint8Array {
  const vendorBytes = new TextEncoder().encode(vendor);
  const bytes = new Uint8Array(8 + 4 + vendorBytes.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("OpusTags"), 0);
  view.setUint32(8, vendorBytes.length, true);
  bytes.set(vendorBytes, 12);
  view.setUint32(12 + vendorBytes.length, 0, true);
  return bytes;
}

/**
 * Turns Opus packets into Ogg pages. The first call to `audio` or `finish` also returns the two header pages.
 * Granule positions: each page's is the 48 kHz sample count of every packet up to its end; the last page's is the
 * caller's (pre-skip plus the real sample count), which trims the final packets' padding (RFC 7845 §4.5).
 */
export class OggOpusMuxer {
  readonly #header: OggOpusHeader;
  readonly #serialNumber: number;
  readonly #packetsPerPage: number;
  #sequenceNumber = 0;
  #granulePosition = 0;
  #headersWritten = false;

  constructor(header: OggOpusHeader, options: OggOpusMuxerOptions = {}) {
    this.#header = header;
    this.#serialNumber = options.serialNumber ?? randomInt(0, 2 ** 32);
    this.#packetsPerPage = options.packetsPerPage ?? 50;
  }

  /** Pages for packets of `duration` samples at 48 kHz each. */
  audio(packets: readonly Uint8Array[], duration: number): Uint8Array[] {
    const pages = this.#headers();
    for (const group of this.#paginate(packets)) {
      this.#granulePosition += group.length * duration;
      pages.push(this.#page(group, this.#granulePosition, 0));
    }
    return pages;
  }

  /** The last pages, the very last flagged end-of-stream with granule position `finalGranulePosition`. */
  finish(packets: readonly Uint8Array[], duration: number, finalGranulePosition: number): Uint8Array[] {
    const groups = this.#paginate(packets);
    const last = groups.pop() ?? [];
    const pages = this.audio(groups.flat(), duration);
    if (finalGranulePosition < this.#granulePosition) {
      throw new VallEError(
        "ERR_INTERNAL",
        `The last Ogg page's granule position (${finalGranulePosition}) precedes the previous page's (${this.#granulePosition})`,
      );
    }
    this.#granulePosition = finalGranulePosition;
    pages.push(this.#page(last, finalGranulePosition, OGG_END_OF_STREAM));
    return pages;
  }

  #headers(): Uint8Array[] {
    if (this.#headersWritten) return [];
    this.#headersWritten = true;
    return [
      this.#page([opusHead(this.#header)], 0, OGG_BEGIN_OF_STREAM),
      this.#page([opusTags(this.#header.vendor)], 0, 0),
    ];
  }

  /** Groups of whole packets, each within a page's 255 segments and the packets-per-page limit. */
  #paginate(packets: readonly Uint8Array[]): Uint8Array[][] {
    const groups: Uint8Array[][] = [];
    let group: Uint8Array[] = [];
    let segments = 0;
    for (const packet of packets) {
      const needed = Math.floor(packet.length / 255) + 1;
      if (group.length > 0 && (group.length === this.#packetsPerPage || segments + needed > MAX_SEGMENTS)) {
        groups.push(group);
        group = [];
        segments = 0;
      }
      group.push(packet);
      segments += needed;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  #page(packets: readonly Uint8Array[], granulePosition: number, flags: number): Uint8Array {
    return oggPage({
      packets,
      granulePosition,
      serialNumber: this.#serialNumber,
      sequenceNumber: this.#sequenceNumber++,
      flags,
    });
  }
}

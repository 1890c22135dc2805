import { OggOpusDecoder } from "ogg-opus-decoder";
import { describe, expect, it } from "vitest";
import { createEncoder, encodeAudio } from "../../src/audio/formats.js";
import { OGG_BEGIN_OF_STREAM, OGG_END_OF_STREAM, OggOpusMuxer, oggCrc32, oggPage } from "../../src/audio/ogg.js";
import { OPUS_VENDOR } from "../../src/audio/opus.js";

const RATE = 24_000;
const PRE_SKIP = 312; // libopus's look-ahead at 24 kHz (156 samples: 2.5 ms + 4 ms), in 48 kHz samples

function toneMix(length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => {
    const t = i / RATE;
    return 0.4 * Math.sin(2 * Math.PI * 440 * t) + 0.3 * Math.sin(2 * Math.PI * 880 * t);
  });
}

/** The Ogg CRC computed bit by bit (no table), to check the muxer's table-driven one. */
function bitwiseCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

interface ParsedPage {
  flags: number;
  granulePosition: bigint;
  serialNumber: number;
  sequenceNumber: number;
  packets: Uint8Array[];
  /** Whether the last packet continues on the next page. */
  open: boolean;
}

/** Split a stream into pages (RFC 3533 §6), checking magic, version and every CRC. */
function parsePages(bytes: Uint8Array): ParsedPage[] {
  const pages: ParsedPage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
    expect(Buffer.from(bytes.subarray(offset, offset + 4)).toString("latin1")).toBe("OggS");
    expect(view.getUint8(4)).toBe(0);
    const count = view.getUint8(26);
    const lacing = bytes.subarray(offset + 27, offset + 27 + count);
    const bodySize = lacing.reduce((sum, value) => sum + value, 0);
    const size = 27 + count + bodySize;
    const page = bytes.slice(offset, offset + size);
    const stored = new DataView(page.buffer).getUint32(22, true);
    page.fill(0, 22, 26);
    expect(bitwiseCrc(page)).toBe(stored);
    const packets: Uint8Array[] = [];
    let start = offset + 27 + count;
    let length = 0;
    for (const value of lacing) {
      length += value;
      if (value < 255) {
        packets.push(bytes.subarray(start, start + length));
        start += length;
        length = 0;
      }
    }
    pages.push({
      flags: view.getUint8(5),
      granulePosition: view.getBigInt64(6, true),
      serialNumber: view.getUint32(14, true),
      sequenceNumber: view.getUint32(18, true),
      packets,
      open: length > 0 || (lacing.length > 0 && lacing[lacing.length - 1] === 255),
    });
    offset += size;
  }
  return pages;
}

describe("Ogg framing", () => {
  it("computes the CRC Ogg uses (CRC-32/POSIX without its final xor)", () => {
    const check = new TextEncoder().encode("123456789");
    expect(oggCrc32(check)).toBe((0x765e7680 ^ 0xffffffff) >>> 0);
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + (i >> 3)) & 0xff);
    expect(oggCrc32(random)).toBe(bitwiseCrc(random));
  });

  it("laces packets: 255 per full 255 bytes, then the remainder, 0 after an exact multiple", () => {
    const packets = [300, 510, 0, 17].map((length) => new Uint8Array(length).fill(length & 0xff));
    const page = oggPage({
      packets,
      granulePosition: 2 ** 40 + 3,
      serialNumber: 0xdeadbeef,
      sequenceNumber: 7,
      flags: 0,
    });
    expect(Array.from(page.subarray(26, 27 + (page[26] as number)))).toEqual([7, 255, 45, 255, 255, 0, 0, 17]);
    const [parsed] = parsePages(page);
    expect(parsed?.packets.map((packet) => packet.length)).toEqual([300, 510, 0, 17]);
    expect([parsed?.granulePosition, parsed?.serialNumber, parsed?.sequenceNumber]).toEqual([
      2n ** 40n + 3n,
      0xdeadbeef,
      7,
    ]);
  });

  it("starts a new page before 255 segments or the packet limit, never splitting a packet", () => {
    const muxer = new OggOpusMuxer({ preSkip: 312, inputSampleRate: RATE, vendor: "test" }, { packetsPerPage: 4 });
    const big = Array.from({ length: 130 }, () => new Uint8Array(300)); // two segments each
    const pages = parsePages(new Uint8Array(Buffer.concat(muxer.audio(big.slice(0, 10), 960))));
    expect(pages.slice(2).map((page) => page.packets.length)).toEqual([4, 4, 2]);
    const wide = new OggOpusMuxer({ preSkip: 312, inputSampleRate: RATE, vendor: "test" }, { packetsPerPage: 1000 });
    const widePages = parsePages(new Uint8Array(Buffer.concat(wide.finish(big, 960, 130 * 960))));
    expect(widePages.slice(2).map((page) => page.packets.length)).toEqual([127, 3]);
    expect(widePages.every((page) => !page.open)).toBe(true);
    expect(widePages.at(-1)?.granulePosition).toBe(130n * 960n);
  });
});

describe("Ogg Opus streams", () => {
  const LENGTH = 36_000;

  it("OpusHead, OpusTags, audio pages and an end-of-stream page with RFC 7845's granule positions", () => {
    const encoder = createEncoder("opus", RATE, { streaming: true });
    const signal = toneMix(LENGTH);
    const bytes = Buffer.concat([
      encoder.push(signal.subarray(0, 10_000)),
      encoder.push(signal.subarray(10_000, 23_001)),
      encoder.push(signal.subarray(23_001)),
      encoder.end(),
    ]);
    const pages = parsePages(new Uint8Array(bytes));
    const [head, tags, ...audio] = pages;
    // One logical stream, pages numbered from 0, only the first flagged BOS and only the last EOS.
    expect(new Set(pages.map((page) => page.serialNumber)).size).toBe(1);
    expect(pages.map((page) => page.sequenceNumber)).toEqual(pages.map((_, i) => i));
    expect(pages.map((page) => page.flags)).toEqual([
      OGG_BEGIN_OF_STREAM,
      ...Array.from({ length: pages.length - 2 }, () => 0),
      OGG_END_OF_STREAM,
    ]);
    expect(pages.every((page) => !page.open)).toBe(true);

    // RFC 7845 §5.1: OpusHead alone on the first page, granule 0.
    expect(head?.packets.length).toBe(1);
    expect(head?.granulePosition).toBe(0n);
    const opusHead = head?.packets[0] as Uint8Array;
    const headView = new DataView(opusHead.buffer, opusHead.byteOffset, opusHead.length);
    expect(Buffer.from(opusHead.subarray(0, 8)).toString("latin1")).toBe("OpusHead");
    expect({
      length: opusHead.length,
      version: opusHead[8],
      channels: opusHead[9],
      preSkip: headView.getUint16(10, true),
      inputSampleRate: headView.getUint32(12, true),
      outputGain: headView.getInt16(16, true),
      mappingFamily: opusHead[18],
    }).toEqual({
      length: 19,
      version: 1,
      channels: 1,
      preSkip: PRE_SKIP,
      inputSampleRate: RATE,
      outputGain: 0,
      mappingFamily: 0,
    });

    // §5.2: OpusTags on its own page, granule 0: the vendor string and no user comments.
    expect(tags?.packets.length).toBe(1);
    expect(tags?.granulePosition).toBe(0n);
    const opusTags = Buffer.from(tags?.packets[0] as Uint8Array);
    expect(opusTags.subarray(0, 8).toString("latin1")).toBe("OpusTags");
    const vendorLength = opusTags.readUInt32LE(8);
    expect(opusTags.subarray(12, 12 + vendorLength).toString("utf8")).toBe(OPUS_VENDOR);
    expect(opusTags.readUInt32LE(12 + vendorLength)).toBe(0);
    expect(opusTags.length).toBe(16 + vendorLength);

    // §4: every audio page but the last ends at 960 (20 ms at 48 kHz) × the packets so far; the last page's
    // granule position is pre-skip + the real samples at 48 kHz, past the page before it.
    let packets = 0;
    for (const page of audio.slice(0, -1)) {
      packets += page.packets.length;
      expect(page.granulePosition).toBe(BigInt(packets * 960));
    }
    const last = audio.at(-1) as ParsedPage;
    packets += last.packets.length;
    expect(last.granulePosition).toBe(BigInt(PRE_SKIP + 2 * LENGTH));
    expect(last.granulePosition).toBeGreaterThan(audio.at(-2)?.granulePosition ?? 0n);
    // Enough 480-sample frames to cover the samples and the encoder's 156-sample look-ahead, and no more.
    expect(packets).toBe(Math.ceil((LENGTH + PRE_SKIP / 2) / 480));
    expect(packets * 960 - Number(last.granulePosition)).toBeLessThan(960);
    // A single 20 ms frame per packet (TOC byte: frame-count code 0, a 20 ms configuration).
    for (const page of audio)
      for (const packet of page.packets) {
        expect((packet[0] as number) & 0x03).toBe(0);
        expect([1, 5, 9, 13, 15, 19, 23, 27, 31]).toContain((packet[0] as number) >> 3);
      }
  });

  // opusdec (opus-tools) decodes each of these to exactly 2 · length samples. ogg-opus-decoder does too once the
  // audio spans two pages; when the first audio page is also the last, it leaves the pre-skip out of its end trim.
  it.each([
    [0, 1],
    [1, 1],
    [479, 1],
    [480, 1],
    [481, 1],
    [1000, 2],
    [24_000, 2],
  ])("%i samples (%i audio pages): the last granule position trims to the exact length", async (length, audioPages) => {
    const bytes = encodeAudio("opus", toneMix(length), RATE);
    const pages = parsePages(bytes);
    expect(pages.length - 2).toBe(audioPages);
    expect(pages.at(-1)?.granulePosition).toBe(BigInt(PRE_SKIP + 2 * length));
    expect(pages.at(-1)?.flags).toBe(OGG_END_OF_STREAM);
    const decoder = new OggOpusDecoder();
    await decoder.ready;
    const decoded = await decoder.decodeFile(bytes);
    decoder.free();
    expect(decoded.errors).toEqual([]);
    expect(decoded.samplesDecoded).toBe(2 * length + (audioPages === 1 ? PRE_SKIP : 0));
  });

  it("many encoders alive at once (the WebAssembly heap grows) each give a lone encoder's packets", () => {
    const signal = toneMix(4800);
    const audioPackets = (bytes: Uint8Array) =>
      parsePages(bytes)
        .slice(2)
        .flatMap((page) => page.packets.map((packet) => Buffer.from(packet).toString("hex")));
    const alone = audioPackets(encodeAudio("opus", signal, RATE));
    const encoders = Array.from({ length: 300 }, () => createEncoder("opus", RATE));
    const outputs = encoders.map((encoder) => [encoder.push(signal)]);
    for (const [i, encoder] of encoders.entries()) outputs[i]?.push(encoder.end());
    for (const output of [outputs[0], outputs[150], outputs[299]]) {
      expect(audioPackets(new Uint8Array(Buffer.concat(output as Uint8Array[])))).toEqual(alone);
    }
  });
});

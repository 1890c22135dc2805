/**
 * @vall-e/codec — EnCodec 24 kHz encode/decode on ggml, WAV in and out, and the codes artifacts.
 * So far: the codec's facts (rates, bandwidths and codebook counts).
 */
export {
  BANDWIDTHS,
  type Bandwidth,
  CODEBOOK_SIZE,
  codebooksForBandwidth,
  FRAME_RATE,
  framesForSamples,
  HOP_LENGTH,
  SAMPLE_RATE,
} from "./encodec.js";

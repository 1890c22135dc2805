/**
 * @vall-e/codec — EnCodec 24 kHz for vall-e for Node: WAV in and out (any rate and channel count in, 24 kHz mono to
 * the codec), encode audio to RVQ codes and decode codes to audio on the native ggml core, and the codes artifacts
 * (.npy + metadata sidecar, .json, and the Python tooling's .enc).
 */
export {
  CODES_ARTIFACT_FORMAT,
  type CodesArtifact,
  type CodesSource,
  codesFromLevels,
  codesToLevels,
  createCodesArtifact,
  MAX_CODE_FRAMES,
  MAX_CODEBOOKS,
  MAX_CODES_FILE_BYTES,
  parseEnc,
  type ReadCodesOptions,
  readCodes,
  serializeCodesJson,
  writeCodes,
} from "./artifact/codes-artifact.js";
export { encodeNpy, encodeNpyInt16, type NpyArray, type NpyDtype, parseNpy } from "./artifact/npy.js";
export {
  AUDIO_FORMATS,
  type AudioFormat,
  decodeAudio,
  MAX_AUDIO_FILE_BYTES,
  readAudio,
  sniffAudioFormat,
} from "./audio/decode.js";
export { type PrepareOptions, toCodecInput } from "./audio/prepare.js";
export { resample } from "./audio/resample.js";
export {
  type Audio,
  encodeWav,
  MAX_INPUT_SAMPLE_RATE,
  parseWav,
  pcm16Bytes,
  readWav,
  type SampleFormat,
  streamingWavHeader,
  toPcm16,
  writeWav,
} from "./audio/wav.js";
export { Codec, type CodecCallOptions, type CodecOptions, type CodesLike, type EncodeOptions } from "./codec.js";
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
export { AudioFormatError, CodecFormatError, CodesFormatError } from "./errors.js";
export { Vocos, type VocosCallOptions, type VocosOptions } from "./vocos.js";
export {
  type EncodecBin,
  type EncodecBinHeader,
  type EncodecBinTensor,
  encodeEncodecBin,
  parseEncodecBin,
  writeEncodecBin,
} from "./weights/encodec-bin.js";
export {
  type ConvertOptions,
  convertHuggingFaceEncodec,
  officialName,
  parseSafetensors,
  type SafetensorsOptions,
} from "./weights/huggingface.js";
export { ENCODEC_24KHZ_HEADER, encodecTensorShapes } from "./weights/layout.js";
export {
  type RandomEncodecOptions,
  randomEncodec,
  randomEncodecBytes,
  seededRandom,
  TINY_ENCODEC_HEADER,
} from "./weights/random.js";
export {
  encodeTorchStateDict,
  parseTorchStateDict,
  readTorchStateDict,
  type TorchDtype,
  type TorchTensor,
  type TorchTensorEntry,
  writeTorchStateDict,
} from "./weights/torch-zip.js";
export {
  type RandomVocosOptions,
  type ReadVocosOptions,
  randomVocos,
  readVocosWeights,
  TINY_VOCOS_CONFIG,
  VOCOS_ENCODEC_24KHZ,
  type VocosConfig,
  type VocosTensor,
  type VocosWeights,
  vocosConfigYaml,
  vocosTensorShapes,
  writeRandomVocos,
} from "./weights/vocos-weights.js";

// wavefile and libsamplerate-js are CommonJS; these describe the parts this package uses.
declare module "wavefile" {
  class WaveFile {
    constructor(bytes?: Uint8Array);
    fmt: unknown;
    data: unknown;
    bitDepth: string;
    fromScratch(
      channels: number,
      sampleRate: number,
      bitDepth: string,
      samples: ArrayLike<number> | ArrayLike<number>[],
    ): void;
    getSamples(interleaved: boolean, type: Float64ArrayConstructor): Float64Array | Float64Array[];
    toBuffer(): Uint8Array;
  }
  const wavefile: { WaveFile: typeof WaveFile };
  export default wavefile;
}
declare module "@alexanderolsen/libsamplerate-js" {
  interface SRC {
    full(input: Float32Array): Float32Array;
    destroy(): void;
  }
  const libsamplerate: {
    create(channels: number, from: number, to: number, options: { converterType: number }): Promise<SRC>;
    ConverterType: { SRC_SINC_BEST_QUALITY: number };
  };
  export default libsamplerate;
}
